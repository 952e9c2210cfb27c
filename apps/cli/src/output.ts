import { Presets, SingleBar } from 'cli-progress';
import type { ProgressListener } from '@dvd/sdk';

export interface Out {
  json: boolean;
  /** The command's result: JSON on stdout with --json, else the human lines. */
  result(data: unknown, human: () => string): void;
  /** Progress and notes go to stderr, never to stdout. */
  note(text: string): void;
  /** A progress bar on stderr (a TTY, or --progress); returns the listener and a stop function. */
  progress(label: string): { onProgress: ProgressListener; stop: () => void };
}

export function output(o: { json: boolean; progress?: boolean; quiet?: boolean }): Out {
  const showBar = !o.json && !o.quiet && (o.progress === true || process.stderr.isTTY === true);
  return {
    json: o.json,
    result(data, human) {
      process.stdout.write(o.json ? `${JSON.stringify(data)}\n` : `${human()}\n`);
    },
    note(text) {
      if (!o.quiet && !o.json) process.stderr.write(`${text}\n`);
    },
    progress(label) {
      if (!showBar) return { onProgress: () => undefined, stop: () => undefined };
      const bar = new SingleBar(
        {
          format: `${label.padEnd(12)} [{bar}] {percentage}% | {value}/{total} bytes | {eta_formatted}`,
          stream: process.stderr,
          noTTYOutput: o.progress === true && !process.stderr.isTTY,
          notTTYSchedule: 500,
          hideCursor: true,
        },
        Presets.shades_classic,
      );
      let started = false;
      return {
        onProgress: ({ loaded, total }) => {
          if (!started) {
            bar.start(total ?? loaded, 0);
            started = true;
          }
          if (total !== undefined) bar.setTotal(total);
          bar.update(loaded);
        },
        stop: () => started && bar.stop(),
      };
    },
  };
}

export function table(rows: Array<Record<string, unknown>>, columns: string[]): string {
  if (rows.length === 0) return '(none)';
  const cell = (v: unknown) => (v === null || v === undefined ? '-' : String(v));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => v.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...rows.map((r) => line(columns.map((c) => cell(r[c]))))].join('\n');
}

#!/usr/bin/env node
// Type-checks the browser app (apps/web/tsconfig.json: ES modules, JSX, the DOM library).
// The program includes the SDK and contracts sources the app imports; diagnostics in those
// files are reported as notes, not failures: they are checked in their own setting (Node
// types, no DOM library) by `tsc -p tsconfig.json`, and the DOM library's stricter
// BufferSource typing (TypeScript ≥ 5.7) flags two SDK lines that are correct at run time
// (see the web-app report). Every diagnostic in apps/web fails the check.
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const web = join(root, 'apps/web') + '/';
const parsed = ts.getParsedCommandLineOfConfigFile(
  join(web, 'tsconfig.json'),
  {},
  {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  },
);
if (parsed.errors.length) {
  process.stderr.write(ts.formatDiagnostics(parsed.errors, host()));
  process.exit(2);
}
const program = ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options });
const all = ts.getPreEmitDiagnostics(program);
const own = all.filter((d) => !d.file || d.file.fileName.startsWith(web));
const shared = all.filter((d) => d.file && !d.file.fileName.startsWith(web));

function host() {
  return { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => '\n' };
}

for (const d of shared) {
  const { line } = d.file.getLineAndCharacterOfPosition(d.start ?? 0);
  process.stdout.write(
    `[web] note (checked by tsconfig.json in its own setting): ${relative(root, d.file.fileName)}:${line + 1} ${ts.flattenDiagnosticMessageText(d.messageText, ' ').slice(0, 160)}\n`,
  );
}
if (own.length) {
  process.stderr.write(ts.formatDiagnosticsWithColorAndContext(own, host()));
  process.exit(1);
}
process.stdout.write(`[web] type check of apps/web: ${parsed.fileNames.length} files, no errors\n`);

/**
 * The realtime benchmark's clients, in a process of their own (started by realtime.bench.ts
 * with the soft limit of open files raised to the hard one): opens one Server-Sent Events
 * stream per entry of the plan, through the gateways it names, with the token in the
 * Authorization header (as the SDK and `dvd watch` do), keeps them open, and counts what
 * arrives: per stream, the events' ids; overall, the latency from publish (the event's
 * `time`, set by the publisher) to arrival. Talks to its parent over IPC:
 *
 *   parent → { cmd: 'open' }             child → { kind: 'opened', held, errors, ms, statuses }
 *   parent → { cmd: 'stats' }            child → { kind: 'stats', ... }
 *   parent → { cmd: 'close' }            child closes every stream and exits
 *
 * The plan (a JSON file, mode 0600: it holds tokens) is the first argument.
 */
import { readFileSync } from 'node:fs';
import { Agent, ClientRequest, IncomingMessage, request } from 'node:http';
import { createParser } from 'eventsource-parser';

interface PlanEntry {
  url: string;
  token: string;
}
interface Plan {
  streams: PlanEntry[];
  /** Streams being opened at a time. */
  concurrency: number;
}

interface Stream {
  req: ClientRequest;
  res?: IncomingMessage;
  events: number;
  lastId: number;
  open: boolean;
}

const plan = JSON.parse(readFileSync(process.argv[2], 'utf8')) as Plan;
// one socket per stream; no pool limit
const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
const streams: Stream[] = [];
const statuses = new Map<string, number>();
/** Latencies in ms, as many as events arrive (preallocated in blocks). */
let latencies = new Float64Array(1 << 16);
let latencyCount = 0;
let received = 0;
let outOfOrder = 0;
let dropped = 0;
let errors = 0;
const tally = (key: string) => statuses.set(key, (statuses.get(key) ?? 0) + 1);

function recordLatency(ms: number) {
  if (latencyCount === latencies.length) {
    const bigger = new Float64Array(latencies.length * 2);
    bigger.set(latencies);
    latencies = bigger;
  }
  latencies[latencyCount++] = ms;
}

function openOne(entry: PlanEntry): Promise<void> {
  return new Promise((resolve) => {
    const s: Stream = { req: undefined as unknown as ClientRequest, events: 0, lastId: -1, open: false };
    let settled = false;
    const settle = () => {
      if (!settled) {
        settled = true;
        resolve();
      }
    };
    s.req = request(entry.url, { agent, headers: { authorization: `Bearer ${entry.token}`, accept: 'text/event-stream' } }, (res) => {
      s.res = res;
      tally(String(res.statusCode));
      if (res.statusCode !== 200) {
        errors++;
        res.resume();
        return settle();
      }
      s.open = true;
      streams.push(s);
      const parser = createParser({
        onEvent: (e) => {
          const now = Date.now();
          const id = Number(e.id);
          if (id <= s.lastId) outOfOrder++;
          s.lastId = id;
          s.events++;
          received++;
          const time = Date.parse((JSON.parse(e.data) as { time: string }).time);
          if (Number.isFinite(time)) recordLatency(now - time);
        },
      });
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => parser.feed(chunk));
      res.on('close', () => {
        if (s.open) dropped++; // the server ended a stream the client still wanted
        s.open = false;
      });
      settle();
    });
    s.req.on('error', (err: NodeJS.ErrnoException) => {
      if (!settled) {
        errors++;
        tally(err.code ?? 'error');
      }
      settle();
    });
    s.req.end();
  });
}

async function openAll(): Promise<void> {
  const started = Date.now();
  let next = 0;
  const worker = async () => {
    while (next < plan.streams.length) await openOne(plan.streams[next++]);
  };
  await Promise.all(Array.from({ length: plan.concurrency }, worker));
  process.send!({
    kind: 'opened',
    held: streams.filter((s) => s.open).length,
    errors,
    ms: Date.now() - started,
    statuses: Object.fromEntries(statuses),
  });
}

function percentile(p: number): number | null {
  if (latencyCount === 0) return null;
  const sorted = latencies.slice(0, latencyCount).sort();
  return sorted[Math.min(latencyCount - 1, Math.max(0, Math.ceil((p / 100) * latencyCount) - 1))];
}

function stats() {
  const perStream = streams.map((s) => s.events);
  process.send!({
    kind: 'stats',
    held: streams.filter((s) => s.open).length,
    errors,
    dropped,
    outOfOrder,
    received,
    minPerStream: perStream.length ? Math.min(...perStream) : 0,
    maxPerStream: perStream.length ? Math.max(...perStream) : 0,
    p50: percentile(50),
    p99: percentile(99),
    max: percentile(100),
    rssBytes: process.memoryUsage().rss,
  });
}

process.on('message', (m: { cmd: string }) => {
  if (m.cmd === 'open') void openAll();
  else if (m.cmd === 'stats') stats();
  else if (m.cmd === 'close') {
    for (const s of streams) {
      s.open = false;
      s.req.destroy();
    }
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));

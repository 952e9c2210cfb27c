import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The path on which a reference process answers its longest event-loop delay since the last ask. */
export const LAG_PATH = '/__reference/event-loop-lag';

/**
 * The longest event-loop delay of this process, read and reset by `GET LAG_PATH`, measured
 * as the services measure it (prom-client's `monitorEventLoopDelay`, 10 ms resolution):
 * the stall figure of a reference process beside the services' in the same run.
 */
export function eventLoopLag(): (req: IncomingMessage, res: ServerResponse) => boolean {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  return (req, res) => {
    if (req.method !== 'GET' || req.url !== LAG_PATH) return false;
    const maxMs = histogram.max / 1e6;
    histogram.reset();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ maxMs }));
    return true;
  };
}

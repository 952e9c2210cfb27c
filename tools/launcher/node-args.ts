/**
 * Node options per app, for `npm start`, the e2e harness and the benchmark alike (and for
 * deployments to copy). The gateway and realtime hold the event streams (ADR 0021): many
 * long-lived connections and a steady trickle of small, short-lived objects. V8's default
 * young generation (up to 32 MiB per semi-space on Node 24) then mostly holds garbage and
 * adds tens of MiB to each process; 1 MiB semi-spaces cost a few more scavenges of well
 * under a millisecond each (measured with `npm run bench -- --only realtime`).
 */
export const APP_NODE_ARGS: Readonly<Record<string, readonly string[]>> = {
  gateway: ['--max-semi-space-size=1'],
  realtime: ['--max-semi-space-size=1'],
};

export const nodeArgsOf = (app: string): string[] => [...(APP_NODE_ARGS[app] ?? [])];

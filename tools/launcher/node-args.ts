/**
 * Node options per app, for `npm start`, the e2e harness and the benchmark alike (and for
 * deployments to copy). The gateway and realtime hold the event streams (ADR 0021): many
 * long-lived connections and a steady trickle of small, short-lived objects. V8's default
 * young generation (up to 32 MiB per semi-space on Node 24) then mostly holds garbage and
 * adds tens of MiB to each process (measured with `npm run bench -- --only realtime`).
 * realtime does nothing else: 1 MiB semi-spaces, for a few more scavenges of well under a
 * millisecond each. The gateway also proxies every API request, and there 1 MiB made the
 * garbage collector 21 % of its CPU per request (`npm run bench -- --only gateway --profile`;
 * 8.5 % with 4 MiB, 5.5 % with 8 MiB, 1.4 % with V8's default); 8 MiB holds 10,000 streams in
 * the same memory as 1 MiB did (two gateways + two realtime: 926 against 941 MiB), because
 * the young generation grows only under a high allocation rate.
 */
export const APP_NODE_ARGS: Readonly<Record<string, readonly string[]>> = {
  gateway: ['--max-semi-space-size=8'],
  realtime: ['--max-semi-space-size=1'],
};

export const nodeArgsOf = (app: string): string[] => [...(APP_NODE_ARGS[app] ?? [])];

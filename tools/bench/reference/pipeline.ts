import { join } from 'node:path';
import { BenchProcess, spawnNode } from '../spawn';
import type { BenchContext, BenchResult, DirectAccess } from '../types';
import { median, round } from '../util';
import { LAG_PATH } from './event-loop-lag';

/** The three ways the upload benchmarks send the same bytes, and their names in the table. */
export type Path = 'platform' | 'reference' | 'direct';
export const PATH_NAMES: Record<Path, string> = {
  platform: 'through the platform',
  reference: 'through the reference pipeline',
  direct: 'straight to the store',
};

/**
 * The reference upload path: the reference gateway (RS256 verify + Redis counter + proxy)
 * in front of the reference intake (multipart + sha256 + one PutObject), both hand-written
 * on node:http, writing to the platform's store. The same client sends it the same
 * multipart uploads as the platform, so that platform ÷ reference is what the platform's
 * code and guarantees cost, and reference ÷ direct PUT is what a gateway and a service in
 * the byte path cost on this machine whatever their code.
 */
export interface ReferencePipeline {
  /** `${gateway}/api/v1`, for `uploadDocument`. */
  apiUrl: string;
  /** The PIDs of the reference gateway and intake and the store's (`local-s3`, when known): every process the reference path loads, for CPU figures. */
  pidsWithStore(): Record<string, number>;
  /** Each process's longest event-loop delay since the last call, in ms (null when it did not answer). */
  lag(): Promise<Record<string, number | null>>;
  stop(): Promise<void>;
}

/**
 * The reference gateway (reference-gateway.ts) in front of `upstream`, verifying the dev
 * IdP's citizen tokens and counting in the run's Redis under `<prefix><redisPrefix>`.
 */
export function spawnReferenceGateway(
  direct: DirectAccess,
  env: Record<string, string>,
  upstream: string,
  redisPrefix: string,
): Promise<BenchProcess> {
  return spawnNode({
    name: 'reference gateway',
    script: join(__dirname, 'reference-gateway.js'),
    env: {
      ...env,
      REF_UPSTREAM: upstream,
      REF_JWKS_URI: `${direct.idpUrl}/citizen/jwks.json`,
      REF_ISSUER: `${direct.idpUrl}/citizen`,
      REF_AUDIENCE: 'dvd-api',
      REDIS_URL: direct.redis.url,
      REF_REDIS_PREFIX: `${direct.redis.prefix}${redisPrefix}`,
    },
  });
}

export async function startReferencePipeline(ctx: BenchContext): Promise<ReferencePipeline | null> {
  const direct = ctx.direct;
  if (!direct) return null;
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    ...(direct.env.NODE_OPTIONS ? { NODE_OPTIONS: direct.env.NODE_OPTIONS } : {}),
  };
  const started: BenchProcess[] = [];
  const stop = async () => {
    for (const p of started.reverse()) await p.stop();
  };
  try {
    const intake = await spawnNode({
      name: 'reference intake',
      script: join(__dirname, 'reference-intake.js'),
      env: {
        ...env,
        REF_S3_ENDPOINT: direct.s3.endpoint,
        REF_S3_BUCKET: direct.s3.bucket,
        REF_S3_REGION: direct.s3.region,
        REF_S3_ACCESS_KEY: direct.s3.accessKeyId,
        REF_S3_SECRET_KEY: direct.s3.secretAccessKey,
      },
    });
    started.push(intake);
    const gateway = await spawnReferenceGateway(direct, env, intake.url, 'reference-upload:');
    started.push(gateway);
    const processes = { 'reference gateway': gateway, 'reference intake': intake };
    const lagOf = async (p: BenchProcess): Promise<number | null> => {
      const r = await fetch(`${p.url}${LAG_PATH}`, { signal: AbortSignal.timeout(10_000) }).catch(() => null);
      return r?.ok ? ((await r.json()) as { maxMs: number }).maxMs : null;
    };
    const pids = Object.fromEntries(Object.entries(processes).map(([name, p]) => [name, p.pid]));
    const store = ctx.pidOf('local-s3');
    return {
      apiUrl: `${gateway.url}/api/v1`,
      pidsWithStore: () => (store === null ? pids : { ...pids, 'local-s3': store }),
      lag: async () =>
        Object.fromEntries(await Promise.all(Object.entries(processes).map(async ([name, p]) => [name, await lagOf(p)] as const))),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * The two anchor rows of an upload figure measured three ways in the same repetitions
 * (`prefix` names the figure, e.g. `p95 `): reference ÷ direct PUT and platform ÷ reference,
 * each repetition's ratio and their median, printed beside the goal they explain.
 */
export function referenceRatioRows(
  benchmark: string,
  prefix: string,
  figures: { platform: number[]; reference: number[]; direct: number[] },
): BenchResult[] {
  const { platform, reference, direct } = figures;
  const row = (metric: string, ratios: number[], note: string): BenchResult => ({
    benchmark,
    metric: `${prefix}${metric}`,
    beside: true,
    value: round(median(ratios)),
    unit: '×',
    reps: ratios,
    note,
  });
  return [
    row(
      'reference pipeline ÷ direct PUT',
      direct.map((d, i) => round(reference[i] / d)),
      'what a gateway and a service in the byte path cost on this machine, whatever their code',
    ),
    row(
      'platform ÷ reference pipeline',
      reference.map((r, i) => round(platform[i] / r)),
      "what the platform's code and guarantees add to that",
    ),
  ];
}

import { Controller, Get, Inject, Logger, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { Registry } from 'prom-client';
import { Public } from '../auth-context/identity.guard';
import { ShutdownState } from './shutdown-state';

/**
 * What a dependency means for serving requests:
 * - `required`: nothing this service answers works without it (its database); when it is
 *   down the service is not ready and is taken out of rotation.
 * - `degraded`: the service keeps serving without it (a cache, counters, a broker it
 *   reaches through the outbox, an object store only some requests need); an outage is
 *   reported as `degraded`, the service stays ready and answers the affected requests
 *   with 503 + Retry-After itself.
 */
export type ProbeCriticality = 'required' | 'degraded';

/** A named readiness probe: resolves when the dependency answers, rejects otherwise. */
export type ReadinessProbe = {
  name: string;
  check: () => Promise<void>;
  criticality: ProbeCriticality;
};
export const READINESS_PROBES = Symbol('READINESS_PROBES');
export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');

export type CheckStatus = 'up' | 'down' | 'degraded';
export type ReadinessStatus = 'ok' | 'degraded' | 'down';

/**
 * The public readiness body: one status per check and nothing else. Why a check failed
 * (host names, driver messages) is logged server-side only.
 */
export interface ReadinessReport {
  status: ReadinessStatus;
  info: Record<string, { status: CheckStatus }>;
}

const PROBE_TIMEOUT_MS = 2_000;

function withTimeout(p: Promise<void>): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(Object.assign(new Error('probe timed out'), { code: 'PROBE_TIMEOUT' })), PROBE_TIMEOUT_MS);
    p.then(resolve, reject).finally(() => clearTimeout(t));
  });
}

/** Combines check results: any required check down → down; any check not up → degraded. */
export function readinessOf(checks: Array<{ name: string; status: CheckStatus }>): ReadinessReport {
  const info: ReadinessReport['info'] = {};
  let status: ReadinessStatus = 'ok';
  for (const c of checks) {
    info[c.name] = { status: c.status };
    if (c.status === 'down') status = 'down';
    else if (c.status === 'degraded' && status === 'ok') status = 'degraded';
  }
  return { status, info };
}

@ApiExcludeController()
@Public()
@Controller()
export class HealthController {
  private readonly logger = new Logger('Readiness');
  /** Last reported status per check: failures are logged when they start and end, not on every probe. */
  private readonly last = new Map<string, CheckStatus>();

  constructor(
    @Inject(READINESS_PROBES) private readonly probes: ReadinessProbe[],
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
    private readonly shutdown: ShutdownState,
  ) {}

  /** Liveness: the process serves HTTP. Never checks dependencies (a restart would not fix them). */
  @Get('health/live')
  live() {
    return { status: 'ok' };
  }

  /**
   * Readiness: 200 while the service can do its work (required dependencies up; others may
   * be degraded), 503 when a required dependency is down or the service is draining.
   */
  @Get('health/ready')
  async ready(@Res() res: Response) {
    const checks = await Promise.all(
      this.probes.map(async (probe) => {
        let status: CheckStatus = 'up';
        let failure: unknown;
        try {
          await withTimeout(probe.check());
        } catch (err) {
          failure = err;
          status = probe.criticality === 'required' ? 'down' : 'degraded';
        }
        this.record(probe.name, status, failure);
        return { name: probe.name, status };
      }),
    );
    const report = readinessOf(checks);
    if (this.shutdown.draining) report.status = 'down';
    res.setHeader('Cache-Control', 'no-store');
    res.status(report.status === 'down' ? 503 : 200).json(report);
  }

  @Get('metrics')
  async metrics(@Res() res: Response) {
    res.setHeader('Content-Type', this.registry.contentType);
    res.send(await this.registry.metrics());
  }

  private record(name: string, status: CheckStatus, failure: unknown) {
    const before = this.last.get(name) ?? 'up';
    this.last.set(name, status);
    if (before === status) return;
    if (status === 'up') {
      this.logger.log({ check: name, status }, 'dependency answers again');
      return;
    }
    // the error's class and code only: driver messages may carry host names or user names
    const e = failure as { name?: unknown; code?: unknown } | undefined;
    this.logger.warn(
      {
        check: name,
        status,
        errorName: typeof e?.name === 'string' ? e.name : undefined,
        code: typeof e?.code === 'string' ? e.code : undefined,
      },
      'dependency check failed',
    );
  }
}

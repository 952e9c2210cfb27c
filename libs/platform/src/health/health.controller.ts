import { Controller, Get, Inject, Res } from '@nestjs/common';
import { HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { Registry } from 'prom-client';
import { Public } from '../auth-context/identity.guard';

/** A named readiness probe: resolves when the dependency answers, rejects otherwise. */
export type ReadinessProbe = {
  name: string;
  check: () => Promise<void>;
  /** A dependency the service works without (a cache, counters): reported, but not unready. */
  optional?: boolean;
};
export const READINESS_PROBES = Symbol('READINESS_PROBES');
export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');

const PROBE_TIMEOUT_MS = 2_000;

function withTimeout(p: Promise<void>): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('timeout')), PROBE_TIMEOUT_MS);
    p.then(resolve, reject).finally(() => clearTimeout(t));
  });
}

@ApiExcludeController()
@Public()
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    @Inject(READINESS_PROBES) private readonly probes: ReadinessProbe[],
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
  ) {}

  /** Liveness: the process serves HTTP. Never checks dependencies (a restart would not fix them). */
  @Get('health/live')
  live() {
    return { status: 'ok' };
  }

  /** Readiness: every dependency this service uses answers. */
  @Get('health/ready')
  async ready(@Res() res: Response) {
    try {
      const result = await this.health.check(
        this.probes.map((probe) => async () => {
          const session = this.indicators.check(probe.name);
          try {
            await withTimeout(probe.check());
            return session.up();
          } catch (err) {
            const message = (err as Error)?.name === 'Error' ? (err as Error).message : (err as Error)?.name;
            return probe.optional ? session.up({ degraded: true, message: `${message}; working without it` }) : session.down({ message });
          }
        }),
      );
      res.status(200).json(result);
    } catch (err) {
      const body = (err as { getResponse?: () => unknown }).getResponse?.() ?? { status: 'error' };
      res.status(503).json(body);
    }
  }

  @Get('metrics')
  async metrics(@Res() res: Response) {
    res.setHeader('Content-Type', this.registry.contentType);
    res.send(await this.registry.metrics());
  }
}

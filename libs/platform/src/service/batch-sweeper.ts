import { Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';

export interface BatchSweeperOptions {
  /** What a pass does, for its log lines: `overdue sweep`. */
  name: string;
  /** Rows one batch takes at most; a pass continues until a batch comes back short. */
  batchSize: number;
  /** Milliseconds between passes (read when the application starts). */
  intervalMs: () => number;
  /** The log field of a pass's count and its message: `['documents', 'overdue documents reported']`. */
  done: [field: string, message: string];
}

/**
 * A periodic pass over due rows, a batch per transaction (the subclass takes its rows
 * `FOR UPDATE SKIP LOCKED` and re-checks its mark under the lock, so every replica can sweep):
 * one pass at a time per replica, batches until one comes back short, an interrupted pass
 * logged by its error's name only and resumed by the next. Stops with the application and
 * waits for the pass under way.
 */
export abstract class BatchSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;

  protected constructor(
    protected readonly logger: Logger,
    private readonly sweeper: BatchSweeperOptions,
  ) {}

  /** One batch in one transaction; answers how many rows it took. */
  protected abstract batch(): Promise<number>;

  onApplicationBootstrap() {
    this.timer = setInterval(() => void this.run(), this.sweeper.intervalMs());
    this.timer.unref();
  }

  async onApplicationShutdown() {
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One pass (one at a time per replica); answers how many rows it took. */
  run(): Promise<number> {
    this.running ??= this.sweep()
      .catch((err: Error) => {
        this.logger.warn({ errorName: err.name }, `${this.sweeper.name} interrupted; the next pass resumes`);
        return 0;
      })
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async sweep(): Promise<number> {
    let total = 0;
    for (;;) {
      const taken = await this.batch();
      total += taken;
      if (taken < this.sweeper.batchSize) break;
    }
    const [field, message] = this.sweeper.done;
    if (total > 0) this.logger.log({ [field]: total }, message);
    return total;
  }
}

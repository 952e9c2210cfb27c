import type { Counter, Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import type { EventType } from '@dvd/contracts';
import { catalogueCounter, catalogueGauge, initialiseLabels } from '../health/metrics';
import type { DeadLetterReason } from './dead-letters';

const DEAD_LETTER_REASONS: readonly DeadLetterReason[] = ['handler-failed', 'malformed', 'delivery-limit'];
/** The outbox is counted up to this many rows: a scrape stays cheap during a long broker outage. */
const PENDING_COUNT_CAP = 100_000;

/**
 * The event bus metrics of one service (`docs/metrics.md`): outbox lag and backlog, published
 * and consumed events, redeliveries and dead letters per queue. The gauges read Postgres when
 * they are scraped (a failing query keeps the last value and never fails the scrape).
 */
export class MessagingMetrics {
  readonly published: Counter<'event_type'>;
  readonly consumed: Counter<'queue' | 'event_type' | 'outcome'>;
  readonly redelivered: Counter<'queue' | 'cause'>;
  readonly deadLettered: Counter<'queue' | 'reason'>;

  constructor(
    registry: Registry | undefined,
    private readonly queue: string,
    db: DataSource,
  ) {
    this.published = catalogueCounter(registry, 'dvd_events_published_total');
    this.consumed = catalogueCounter(registry, 'dvd_events_consumed_total');
    this.redelivered = catalogueCounter(registry, 'dvd_events_redelivered_total');
    this.deadLettered = catalogueCounter(registry, 'dvd_events_dead_lettered_total');
    catalogueGauge(registry, 'dvd_outbox_pending_events', async (gauge) => {
      const [row]: Array<{ n: number }> = await db.query(`SELECT count(*)::int AS n FROM (SELECT 1 FROM outbox LIMIT $1) pending`, [
        PENDING_COUNT_CAP,
      ]);
      gauge.set(row?.n ?? 0);
    });
    catalogueGauge(registry, 'dvd_outbox_oldest_event_age_seconds', async (gauge) => {
      // served by outbox_created_at_idx
      const [row]: Array<{ age: number | null }> = await db.query(
        `SELECT extract(epoch FROM now() - min(created_at))::float8 AS age FROM outbox`,
      );
      gauge.set(Math.max(0, row?.age ?? 0));
    });
    catalogueGauge(registry, 'dvd_dead_letters', async (gauge) => {
      const [row]: Array<{ n: number }> = await db.query(`SELECT count(*)::int AS n FROM dead_letters`);
      gauge.set({ queue }, row?.n ?? 0);
    });
  }

  /** Every series of the consumer starts at 0, so that rates and alerts have it before the first event. */
  initialise(types: readonly EventType[]): void {
    const queue = this.queue;
    initialiseLabels(
      this.consumed,
      types.flatMap((event_type) => ['applied', 'duplicate', 'failed'].map((outcome) => ({ queue, event_type, outcome }))),
    );
    initialiseLabels(this.redelivered, [
      { queue, cause: 'retry' },
      { queue, cause: 'broker' },
    ]);
    initialiseLabels(
      this.deadLettered,
      DEAD_LETTER_REASONS.map((reason) => ({ queue, reason })),
    );
  }
}

import { ExportJobSchema } from '@dvd/contracts';
import { ExportJobEntity, toJobView } from './export-job.entity';

const job = (over: Partial<ExportJobEntity> = {}): ExportJobEntity =>
  Object.assign(new ExportJobEntity(), {
    id: '0b6f3c52-4a47-4f3e-9a55-1d2b7f1c9e10',
    documentId: '1c7f4d63-5b58-4f4e-8a66-2e3c8f2d0f21',
    authorityId: 'a1',
    requestedBy: 'official-7',
    status: 'PENDING',
    attempts: 0,
    lastError: null,
    lastErrorCategory: null,
    receipt: null,
    nextAttemptAt: new Date('2026-01-31T09:30:00Z'),
    lockedUntil: null,
    createdAt: new Date('2026-01-31T09:30:00Z'),
    completedAt: null,
    ...over,
  });

describe('toJobView (typed as the contract’s ExportJob)', () => {
  it.each([
    ['a pending job', job()],
    [
      'a failed job',
      job({ status: 'FAILED', attempts: 5, lastError: 'http-5xx (after 5 attempts)', lastErrorCategory: 'delivery-retryable' }),
    ],
    ['a completed job with a receipt', job({ status: 'COMPLETED', completedAt: new Date('2026-01-31T09:31:00Z'), receipt: { ok: true } })],
  ])('answers exactly the fields of the contract for %s, nothing internal', (_name, j) => {
    const view = toJobView(j);
    expect(ExportJobSchema.strict().safeParse(view).error?.issues).toBeUndefined();
    expect(view).not.toHaveProperty('requestedBy');
  });
});

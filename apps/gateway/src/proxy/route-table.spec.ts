import { upstreamFor } from './route-table';

describe('upstreamFor', () => {
  it.each([
    ['/documents', 'intake'],
    ['/documents/abc', 'intake'],
    ['/documents/abc/payload', 'intake'],
    ['/documents/abc/threads', 'communication'],
    ['/threads/t1/messages', 'communication'],
    ['/authorities/a1/keys', 'routing-engine'],
    ['/admin/unroutable-documents', 'routing-engine'],
    ['/exports/j1', 'export-worker'],
    ['/admin/dead-letters/intake', 'intake'],
    ['/admin/dead-letters/routing-engine/0b6e0c4e-6f5c-4c55-9d0e-3c1f4c2d8a11/replay', 'routing-engine'],
    ['/admin/dead-letters/communication/x', 'communication'],
    ['/admin/dead-letters/export-worker', 'export-worker'],
    ['/admin/dead-letters', null],
    ['/admin/dead-letters/gateway', null],
    ['/documentsX', null],
    ['/unknown', null],
  ])('%s → %s', (path, upstream) => {
    expect(upstreamFor(path)).toBe(upstream);
  });
});

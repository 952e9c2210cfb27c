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
    ['/documentsX', null],
    ['/unknown', null],
  ])('%s → %s', (path, upstream) => {
    expect(upstreamFor(path)).toBe(upstream);
  });
});

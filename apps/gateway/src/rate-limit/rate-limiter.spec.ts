import { LocalSlidingWindow } from './rate-limiter';

describe('LocalSlidingWindow', () => {
  it('admits up to the limit within the window, then again as entries leave it', () => {
    const w = new LocalSlidingWindow(60_000);
    const t0 = 1_000_000;
    for (let i = 0; i < 10; i++) expect(w.hit('u', 10, t0 + i * 1000).admitted).toBe(true);
    const refused = w.hit('u', 10, t0 + 30_000);
    expect(refused).toMatchObject({ admitted: false, remaining: 0 });
    expect(refused.resetMs).toBe(30_000); // the first entry leaves at t0 + 60 s
    expect(w.hit('u', 10, t0 + 60_001).admitted).toBe(true);
    expect(w.hit('other', 10, t0).admitted).toBe(true);
  });

  it('is a sliding window, not a fixed one', () => {
    const w = new LocalSlidingWindow(60_000);
    for (let i = 0; i < 5; i++) w.hit('u', 5, 59_000);
    expect(w.hit('u', 5, 61_000).admitted).toBe(false); // a fixed window would have reset at 60 s
  });
});

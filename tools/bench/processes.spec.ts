import { sharedServiceCpu } from './processes';

type Times = Map<number, { service: string; user: number; system: number; parent: number }>;
/** [pid, service, user s, system s, parent pid (1: init, not one of them)] */
const times = (entries: Array<[number, string, number, number, number?]>): Times =>
  new Map(entries.map(([pid, service, user, system, parent]) => [pid, { service, user, system, parent: parent ?? 1 }]));

describe('sharedServiceCpu', () => {
  it('counts what each process spent in between, a new one from zero', () => {
    const before = times([
      [1, 'postgres', 10, 2],
      [2, 'rabbitmq', 5, 1],
    ]);
    const after = times([
      [1, 'postgres', 10.5, 2.1],
      [2, 'rabbitmq', 5.2, 1],
      [3, 'postgres', 0.1, 0.05],
    ]);
    const { cpuMs, kernelMs } = sharedServiceCpu(before, after);
    expect(cpuMs.postgres).toBeCloseTo(600 + 150);
    expect(kernelMs.postgres).toBeCloseTo(100 + 50);
    expect(cpuMs.rabbitmq).toBeCloseTo(200);
  });

  it('takes off what a backend that ended in between had spent before, which its postmaster reaped with the rest', () => {
    // backend 7 had spent 8 s in its life by `before`, then 0.3 s more, then ended: the
    // postmaster (100) now carries all 8.3 s as reaped-children time
    const before = times([
      [100, 'postgres', 1, 0.5],
      [7, 'postgres', 6, 2, 100],
    ]);
    const after = times([[100, 'postgres', 1 + 6.2, 0.5 + 2.1]]);
    const { cpuMs, kernelMs } = sharedServiceCpu(before, after);
    expect(cpuMs.postgres).toBeCloseTo(300);
    expect(kernelMs.postgres).toBeCloseTo(100);
  });

  it('lets a process that none of them reaped drop out, and takes nothing off a parent that has not reaped it yet', () => {
    // a health check's VM (parent: something else) ended; backend 8 ended, but its postmaster had not reaped it when read
    const before = times([
      [100, 'postgres', 1, 0.5],
      [8, 'postgres', 6, 2, 100],
      [200, 'rabbitmq', 4, 1],
      [300, 'rabbitmq', 2, 1, 55],
    ]);
    const after = times([
      [100, 'postgres', 1.2, 0.5],
      [200, 'rabbitmq', 4.5, 1.1],
    ]);
    const { cpuMs } = sharedServiceCpu(before, after);
    expect(cpuMs.postgres).toBeCloseTo(200);
    expect(cpuMs.rabbitmq).toBeCloseTo(600);
  });
});

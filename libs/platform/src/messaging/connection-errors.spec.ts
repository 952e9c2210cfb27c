import { isConnectionError } from './connection-errors';

describe('isConnectionError', () => {
  it.each([
    ['refused socket', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })],
    ['terminated connection', new Error('Connection terminated unexpectedly')],
    ['pool connect timeout', new Error('timeout exceeded when trying to connect')],
    ['admin shutdown', Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })],
    ['starting up', Object.assign(new Error('the database system is starting up'), { code: '57P03' })],
    ['class 08', Object.assign(new Error('x'), { code: '08006' })],
    ['TypeORM-wrapped', Object.assign(new Error('query failed'), { driverError: Object.assign(new Error('x'), { code: 'ECONNRESET' }) })],
    [
      'IPv4 and IPv6 refused',
      Object.assign(new AggregateError([Object.assign(new Error('a'), { code: 'ECONNREFUSED' })]), { code: undefined }),
    ],
  ])('%s → true', (_name, err) => {
    expect(isConnectionError(err)).toBe(true);
  });

  it.each([
    ['unique violation', Object.assign(new Error('duplicate key value violates unique constraint'), { code: '23505' })],
    ['plain error', new Error('cannot handle this one')],
    ['nothing', undefined],
    ['a string', 'ECONNREFUSED'],
  ])('%s → false', (_name, err) => {
    expect(isConnectionError(err)).toBe(false);
  });

  it('stops on cyclic causes', () => {
    const a: { cause?: unknown } = {};
    a.cause = a;
    expect(isConnectionError(a)).toBe(false);
  });
});

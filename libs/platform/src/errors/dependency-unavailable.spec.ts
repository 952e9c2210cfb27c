import { isDependencyUnavailable } from './problem-json.filter';

describe('isDependencyUnavailable', () => {
  const errnoError = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code, errno: -111 });

  it.each([
    ['pg: connection refused', errnoError('ECONNREFUSED')],
    ['pg: connection reset', errnoError('ECONNRESET')],
    [
      'pg: admin shutdown inside QueryFailedError',
      Object.assign(new Error('q'), { name: 'QueryFailedError', driverError: { code: '57P01' } }),
    ],
    ['pg: connection exception class 08', Object.assign(new Error('x'), { code: '08006' })],
    ['pg pool: connection terminated', new Error('Connection terminated unexpectedly')],
    ['pg pool: connect timeout', new Error('timeout exceeded when trying to connect')],
    ['S3: socket error', Object.assign(errnoError('ECONNREFUSED'), { $metadata: {} })],
    ['S3: timeout', Object.assign(new Error('t'), { name: 'TimeoutError', $metadata: {} })],
    ['S3: 503 SlowDown', Object.assign(new Error('s'), { name: 'SlowDown', $metadata: { httpStatusCode: 503 } })],
    ['wrapped in cause', new Error('outer', { cause: errnoError('ETIMEDOUT') })],
  ])('classifies %s as unavailable', (_what, err) => {
    expect(isDependencyUnavailable(err)).toBe(true);
  });

  it.each([
    ['a bug', new TypeError('x is undefined')],
    ['pg: unique violation', Object.assign(new Error('dup'), { code: '23505' })],
    ['pg: syntax error inside QueryFailedError', Object.assign(new Error('q'), { driverError: { code: '42601' } })],
    ['S3: missing object', Object.assign(new Error('n'), { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } })],
    ['S3: access denied', Object.assign(new Error('a'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } })],
    ['nothing', undefined],
  ])('does not classify %s as unavailable', (_what, err) => {
    expect(isDependencyUnavailable(err)).toBe(false);
  });
});

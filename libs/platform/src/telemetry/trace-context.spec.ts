import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { activeTraceparent, contextOfTraceparent, traceHeaders } from './trace-context';

describe('trace context of outbox rows and messages', () => {
  const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

  it('continues a stored traceparent', () => {
    const ctx = contextOfTraceparent(traceparent);
    expect(trace.getSpanContext(ctx)).toMatchObject({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      isRemote: true,
    });
  });

  it.each([null, undefined, '', 'garbage', `${traceparent}-extra`, 42])('starts from the root for %p', (value) => {
    expect(contextOfTraceparent(value)).toBe(ROOT_CONTEXT);
  });

  it('carries traceparent only, and only a well-formed one', () => {
    expect(traceHeaders(traceparent)).toEqual({ traceparent });
    expect(traceHeaders('00-nonsense')).toEqual({});
    expect(traceHeaders(null)).toEqual({});
  });

  it('has nothing to store without an active span (tracing off)', () => {
    expect(activeTraceparent()).toBeNull();
  });
});

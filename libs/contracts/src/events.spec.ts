import { randomUUID } from 'node:crypto';
import { EVENT_TYPES, EventMap, EventType, isEventType, parseEnvelope } from './events';

/** Compile-time contract: `npm run typecheck` fails if a wrong payload were accepted. */
function publish<K extends EventType>(_type: K, _data: EventMap[K]): void {}

describe('event contracts', () => {
  const envelope = (data: unknown, type = 'document.routed') => ({
    id: randomUUID(),
    type,
    occurredAt: new Date().toISOString(),
    correlationId: 'c',
    causationId: null,
    data,
  });

  it('types payloads per event name, and the runtime schemas agree with the types', () => {
    const routed = { documentId: randomUUID(), authorityId: 'a1', unitId: 'u1', ruleId: null, revision: 2, claimDeadline: 'PT2S' };
    publish('document.routed', routed);
    expect(parseEnvelope(envelope(routed))).toEqual({
      ok: true,
      envelope: expect.objectContaining({ type: 'document.routed', data: routed }),
    });

    const withoutUnit = { documentId: randomUUID(), authorityId: 'a1', ruleId: null };
    // @ts-expect-error a document.routed payload needs unitId
    publish('document.routed', withoutUnit);
    expect(parseEnvelope(envelope(withoutUnit))).toEqual({ ok: false, reason: 'invalid payload (unitId)' });

    const claimed = { threadId: randomUUID(), documentId: randomUUID(), officialId: 'o' };
    // @ts-expect-error thread.claimed has no note
    publish('thread.claimed', { ...claimed, note: 'x' });
    // at runtime an unknown field is dropped, never passed on to the consumer
    const parsed = parseEnvelope(envelope({ ...claimed, note: 'x' }, 'thread.claimed'));
    expect(parsed).toEqual({ ok: true, envelope: expect.objectContaining({ type: 'thread.claimed', data: claimed }) });

    // @ts-expect-error unknown event names do not compile
    publish('document.deleted', {});
    expect(isEventType('document.deleted')).toBe(false);
    expect(parseEnvelope(envelope({}, 'document.deleted'))).toEqual({ ok: false, reason: 'unknown event type' });
  });

  it('has a payload schema for every event name, and nothing else', () => {
    expect(EVENT_TYPES.length).toBeGreaterThan(0);
    for (const type of EVENT_TYPES) expect(isEventType(type)).toBe(true);
    expect(isEventType('toString')).toBe(false);
    expect(isEventType('__proto__')).toBe(false);
  });

  it('reads a document.routed from before re-routing (no revision, no claimDeadline) with the defaults', () => {
    const old = { documentId: randomUUID(), authorityId: 'a1', unitId: 'u1', ruleId: null };
    expect(parseEnvelope(envelope(old))).toEqual({
      ok: true,
      envelope: expect.objectContaining({ data: { ...old, revision: 1, claimDeadline: 'P3D' } }),
    });
  });

  it('accepts a valid envelope', () => {
    const result = parseEnvelope(envelope({ documentId: randomUUID(), authorityId: 'a1', unitId: 'u1', ruleId: null }));
    expect(result.ok).toBe(true);
  });

  it.each([
    ['a payload missing a field', envelope({ documentId: randomUUID(), authorityId: 'a1' })],
    ['an unknown type', envelope({}, 'document.exploded')],
    ['a non-uuid id', { ...envelope({}), id: 'nope' }],
    ['no envelope at all', 'hello'],
  ])('refuses %s, naming fields but not values', (_name, raw) => {
    const result = parseEnvelope(raw);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).not.toContain('a1');
  });
});

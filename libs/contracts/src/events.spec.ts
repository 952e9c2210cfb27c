import { randomUUID } from 'node:crypto';
import { EventMap, EventType, parseEnvelope } from './events';

/** Compile-time contract: `npm run typecheck` fails if a wrong payload were accepted. */
function publish<K extends EventType>(_type: K, _data: EventMap[K]): void {}

describe('event contracts', () => {
  it('types payloads per event name', () => {
    publish('document.routed', { documentId: randomUUID(), authorityId: 'a1', unitId: 'u1', ruleId: null });
    // @ts-expect-error a document.routed payload needs unitId
    publish('document.routed', { documentId: randomUUID(), authorityId: 'a1', ruleId: null });
    // @ts-expect-error thread.claimed has no unitId
    publish('thread.claimed', { threadId: randomUUID(), documentId: randomUUID(), officialId: 'o', unitId: 'x' });
    // @ts-expect-error unknown event names do not compile
    publish('document.deleted', {});
    expect(true).toBe(true);
  });

  const envelope = (data: unknown, type = 'document.routed') => ({
    id: randomUUID(),
    type,
    occurredAt: new Date().toISOString(),
    correlationId: 'c',
    causationId: null,
    data,
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

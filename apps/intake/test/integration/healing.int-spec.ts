import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { INestApplication } from '@nestjs/common';
import {
  TestEncryptionKey,
  TestUser,
  citizen,
  documentUpload,
  encryptCompact,
  freePort,
  makeEncryptionKey,
  pollUntil,
  signedHeaders,
} from '@dvd/testing';
import { createIntakeApp } from '../../src/main';
import { Intake, startIntake } from './intake-harness';

const PATH = '/api/v1/documents';
const LEASE_MS = 1500;

describe('idempotency leases and key checks that heal (real Postgres, RabbitMQ, local S3)', () => {
  let intake: Intake;
  let k1: TestEncryptionKey;
  let k2: TestEncryptionKey;
  const meta = () => ({ referenceNumber: 'AZ-HEAL-1', authorityId: 'a1', documentType: 'ANTRAG' });

  async function upload(user: TestUser, payload: string, headers: Record<string, string> = {}, base = intake.base) {
    const { body, contentType } = documentUpload(meta(), payload);
    const res = await fetch(`${base}${PATH}`, {
      method: 'POST',
      headers: { ...signedHeaders(user, 'POST', PATH, { body, contentType }), 'content-type': contentType, ...headers },
      body,
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  /** An upload whose body stops half-way until `finish()`: a request that is alive and busy. */
  function slowUpload(user: TestUser, payload: string, idempotencyKey: string) {
    const { body, contentType } = documentUpload(meta(), payload);
    const req = httpRequest(`${intake.base}${PATH}`, {
      method: 'POST',
      headers: {
        ...signedHeaders(user, 'POST', PATH, { body, contentType }),
        'content-type': contentType,
        'content-length': String(body.length),
        'idempotency-key': idempotencyKey,
      },
    });
    const answer = new Promise<{ status: number; body: { id?: string; type?: string } }>((resolve, reject) => {
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(Buffer.concat(chunks).toString() || '{}') }));
      });
      req.on('error', reject);
    });
    const half = Math.floor(body.length / 2);
    req.write(body.subarray(0, half));
    return {
      finish: () => {
        req.end(body.subarray(half));
        return answer;
      },
    };
  }

  const lockOf = async (citizenId: string, key: string) =>
    (
      await intake.sql.query(
        `SELECT status, locked_until, lock_token, locked_until > now() AS held FROM intake.idempotency_keys WHERE citizen_id = $1 AND key = $2`,
        [citizenId, key],
      )
    ).rows[0] as { status: string; locked_until: Date; lock_token: string; held: boolean } | undefined;
  const documentsOf = async (citizenId: string) =>
    Number((await intake.sql.query(`SELECT count(*)::int AS n FROM intake.documents WHERE citizen_id = $1`, [citizenId])).rows[0].n);

  beforeAll(async () => {
    intake = await startIntake({ IDEMPOTENCY_LEASE_MS: String(LEASE_MS) });
    [k1, k2] = await Promise.all([makeEncryptionKey('a1-k1'), makeEncryptionKey('a1-k2')]);
    await intake.registerAuthority('a1', ['a1-k1']);
  }, 60_000);
  afterAll(() => intake?.close());

  describe('Idempotency-Key leases', () => {
    it('lets a retry take over the key of a request that died (its lease ran out), and not a live one', async () => {
      // what a crashed process leaves: an IN_FLIGHT claim nobody extends any more
      await intake.sql.query(
        `INSERT INTO intake.idempotency_keys (citizen_id, key, status, lock_token, locked_until, expires_at)
         VALUES ('crash', 'dead', 'IN_FLIGHT', $1, now() - interval '1 millisecond', now() + interval '1 day'),
                ('crash', 'alive', 'IN_FLIGHT', $2, now() + interval '1 hour', now() + interval '1 day')`,
        [randomUUID(), randomUUID()],
      );
      const retry = await upload(citizen('crash'), await encryptCompact(k1, 100), { 'idempotency-key': 'dead' });
      expect(retry.status).toBe(201);
      expect(await lockOf('crash', 'dead')).toMatchObject({ status: 'DONE' });
      const blocked = await upload(citizen('crash'), await encryptCompact(k1, 100), { 'idempotency-key': 'alive' });
      expect(blocked.status).toBe(409);
      expect(blocked.body.type).toContain('idempotency-key-in-flight');
    });

    it('claims with a short lease and extends it while the request lives, past the first lease', async () => {
      const jwe = await encryptCompact(k1, 50_000);
      const slow = slowUpload(citizen('lease'), jwe, 'long-1');
      const first = await pollUntil(() => lockOf('lease', 'long-1'), { what: 'the claim' });
      expect(first.status).toBe('IN_FLIGHT');
      const { rows } = await intake.sql.query(`SELECT $1::timestamptz <= now() + ($2::int * interval '1 millisecond') AS short`, [
        first.locked_until,
        LEASE_MS,
      ]);
      expect(rows[0].short).toBe(true); // the lease, not half an hour
      // wait until the first lease would have run out (database clock)…
      await pollUntil(
        async () => (await intake.sql.query(`SELECT $1::timestamptz < now() AS past`, [first.locked_until])).rows[0].past as boolean,
        { what: 'the first lease to end', intervalMs: 50 },
      );
      // …the request is still alive, so its heartbeat has moved the lease on and the key stays taken
      const now = await lockOf('lease', 'long-1');
      expect(now).toMatchObject({ status: 'IN_FLIGHT', held: true, lock_token: first.lock_token });
      expect(now!.locked_until.getTime()).toBeGreaterThan(first.locked_until.getTime());
      const duplicate = await upload(citizen('lease'), jwe, { 'idempotency-key': 'long-1' });
      expect(duplicate.status).toBe(409);

      const done = await slow.finish();
      expect(done.status).toBe(201);
      const again = await upload(citizen('lease'), jwe, { 'idempotency-key': 'long-1' });
      expect(again).toMatchObject({ status: 201, body: { id: done.body.id } });
      expect(await documentsOf('lease')).toBe(1);
    });

    it('refuses to complete a request whose lease was taken over: one key, one document', async () => {
      const jwe = await encryptCompact(k1, 50_000);
      const slow = slowUpload(citizen('fence'), jwe, 'k');
      await pollUntil(() => lockOf('fence', 'k'), { what: 'the claim' });
      // the lease ran out (say the process stalled) and a retry claimed the key: a new token
      await intake.sql.query(`UPDATE intake.idempotency_keys SET lock_token = $1 WHERE citizen_id = 'fence' AND key = 'k'`, [randomUUID()]);
      const late = await slow.finish();
      expect(late.status).toBe(409);
      expect(await documentsOf('fence')).toBe(0);
      expect(await lockOf('fence', 'k')).toMatchObject({ status: 'IN_FLIGHT' }); // the new owner's claim is untouched
      await pollUntil(async () => (await intake.counts()).pending === 0, { what: 'the late object removed' });
    });
  });

  describe('keys read through to the key directory', () => {
    it('accepts a key as soon as the directory lists it and refuses it as soon as it does not, before any event', async () => {
      // routing-engine answered 201 for a1-k2: its directory lists it; authority.changed has not arrived
      intake.keyDirectory.kids.set('a1', ['a1-k1', 'a1-k2']);
      expect((await intake.sql.query(`SELECT active_key_ids FROM intake.authorities WHERE id = 'a1'`)).rows[0].active_key_ids).toEqual([
        'a1-k1',
      ]);
      expect((await upload(citizen('keys'), await encryptCompact(k2, 100))).status).toBe(201);

      // routing-engine answered 204 for retiring a1-k1: refused at once, although intake's read model still lists it
      intake.keyDirectory.kids.set('a1', ['a1-k2']);
      const refused = await upload(citizen('keys'), await encryptCompact(k1, 100));
      expect(refused.status).toBe(422);
      expect(refused.body.type).toContain('unknown-kid');
      intake.keyDirectory.kids.set('a1', ['a1-k1']);
    });

    it('answers a burst of concurrent uploads through shared lookups', async () => {
      const before = intake.keyDirectory.calls();
      const results = await Promise.all(Array.from({ length: 12 }, async () => upload(citizen('burst'), await encryptCompact(k1, 100))));
      expect(results.every((r) => r.status === 201)).toBe(true);
      expect(intake.keyDirectory.calls() - before).toBeGreaterThanOrEqual(1);
      expect(intake.keyDirectory.calls() - before).toBeLessThanOrEqual(12);
    });

    it('answers 503 and stores nothing when the key directory cannot be reached', async () => {
      let orphan: INestApplication | undefined;
      try {
        orphan = await createIntakeApp({ ...intake.config, ROUTING_ENGINE_URL: `http://127.0.0.1:${await freePort()}` });
        await orphan.listen(0, '127.0.0.1');
        const base = (await orphan.getUrl()).replace('[::1]', '127.0.0.1');
        const before = await documentsOf('nodir');
        const res = await upload(citizen('nodir'), await encryptCompact(k1, 100), {}, base);
        expect(res.status).toBe(503);
        expect(await documentsOf('nodir')).toBe(before);
      } finally {
        await orphan?.close();
      }
    });
  });
});

import { randomUUID } from 'node:crypto';
import { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { EventEnvelope, EventMap } from '@dvd/contracts';
import {
  EventProbe,
  TestUser,
  admin,
  citizen,
  createTestDatabase,
  createTestVhost,
  freePort,
  official,
  pollUntil,
  signedClient,
  testIdentityEnv,
} from '@dvd/testing';
import { AppointmentBookings, retryingBookingDeadlocks } from '../../src/appointments/appointment-bookings';
import { AppointmentReminderSweeper } from '../../src/appointments/appointment-reminder.sweeper';
import { CommunicationConfig, communicationConfigSchema } from '../../src/communication.config';
import { createCommunicationApp } from '../../src/main';

/**
 * Appointments people can keep (ADR 0022), over the real Postgres and RabbitMQ, with two
 * replicas of communication on one database: the calendar file, no double booking of an
 * official (also when two citizens confirm at once, on different replicas), and one
 * `appointment.reminder` per confirmation while both replicas sweep.
 */
describe('appointments (real Postgres and RabbitMQ; two replicas)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let vhost: Awaited<ReturnType<typeof createTestVhost>>;
  let app: INestApplication;
  let replica: INestApplication;
  let probe: EventProbe;
  let api: ReturnType<typeof signedClient>;
  let other: ReturnType<typeof signedClient>;

  const HOST = 'dvd.test.example';
  /** An Aktenzeichen that must never appear in a calendar file or an event of this service. */
  const AKTENZEICHEN = `AZ-${randomUUID()}`;
  const AUTHORITY_NAME = 'Bürgeramt Musterstadt; Abteilung für Bau, Grundstücke und Straßenverkehr (Außenstelle Süd)';
  const alice = citizen('alice-appt');
  const bob = citizen('bob-appt');
  const carol = citizen('carol-appt'); // a2
  const docs = { alice: randomUUID(), bob: randomUUID(), carol: randomUUID() };

  const as = (u: TestUser) => api.as(u);
  const HOUR = 3600_000;
  /** A slot `fromNowH` hours ahead (whole minutes), `minutes` long. */
  const slotIn = (fromNowH: number, minutes = 30) => {
    const start = Math.floor((Date.now() + fromNowH * HOUR) / 60_000) * 60_000;
    return { start: new Date(start).toISOString(), end: new Date(start + minutes * 60_000).toISOString() };
  };

  async function propose(by: TestUser, documentId: string, slots: Array<{ start: string; end: string }>): Promise<string> {
    const res = await as(by)
      .post(`/api/v1/documents/${documentId}/threads`)
      .send({ type: 'APPOINTMENT', appointment: { proposedSlots: slots } });
    expect(res.status).toBe(201);
    return res.body.id as string;
  }
  const confirm = (u: TestUser, threadId: string, start: string, client = api) =>
    client.as(u).post(`/api/v1/threads/${threadId}/appointment/confirm`).send({ start });
  const cancel = (u: TestUser, threadId: string) => as(u).post(`/api/v1/threads/${threadId}/appointment/cancel`);
  const ics = (u: TestUser, threadId: string) => as(u).get(`/api/v1/threads/${threadId}/appointment.ics`);

  async function applied(envelope: { id: string }) {
    const ds = app.get(DataSource);
    await pollUntil(async () => (await ds.query('SELECT 1 FROM processed_events WHERE event_id = $1', [envelope.id])).length === 1, {
      what: 'event applied',
    });
  }

  /** Both replicas swept once more, every event relayed and read by the probe: what it has not seen was not published. */
  async function settled() {
    await Promise.all([app.get(AppointmentReminderSweeper).run(), replica.get(AppointmentReminderSweeper).run()]);
    for (const a of [app, replica]) {
      const ds = a.get(DataSource);
      await pollUntil(async () => (await ds.query('SELECT count(*)::int AS n FROM outbox'))[0].n === 0, { what: 'outbox relayed' });
    }
    await probe.barrier();
  }
  const reminders = (threadIds: string[]): Array<EventEnvelope<'appointment.reminder'>> =>
    probe.of('appointment.reminder', (d) => threadIds.includes(d.threadId));

  beforeAll(async () => {
    [db, vhost] = await Promise.all([createTestDatabase(), createTestVhost()]);
    const config: CommunicationConfig = communicationConfigSchema.parse({
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      ...testIdentityEnv('communication'),
      DATABASE_URL: db.url,
      AMQP_URL: vhost.url,
      INTAKE_URL: `http://127.0.0.1:${await freePort()}`, // nothing listens: documents come from events here
      PUBLIC_BASE_URL: `https://${HOST}`,
      // sweeps run when the test says so (run()), never on their own
      APPOINTMENT_REMINDER_SWEEP_INTERVAL_MS: String(3600_000),
      APPOINTMENT_REMINDER_LEAD: 'PT24H',
    });
    app = await createCommunicationApp(config);
    await app.init();
    replica = await createCommunicationApp(config); // a second replica on the same database
    await replica.init();
    api = signedClient(app.getHttpServer());
    other = signedClient(replica.getHttpServer());
    probe = await EventProbe.create(vhost.url, ['appointment.reminder']);
    for (const [documentId, c, a] of [
      [docs.alice, alice.userId, 'a1'],
      [docs.bob, bob.userId, 'a1'],
      [docs.carol, carol.userId, 'a2'],
    ] as const) {
      await applied(
        await probe.publish('document.received', {
          documentId,
          citizenId: c,
          authorityId: a,
          documentType: 'X',
          serviceKey: null,
          regionKey: null,
          referenceNumber: AKTENZEICHEN,
          createdAt: new Date().toISOString(),
        }),
      );
    }
    await applied(
      await probe.publish('document.routed', {
        documentId: docs.alice,
        authorityId: 'a1',
        unitId: 'buergeramt',
        ruleId: null,
        revision: 1,
        claimDeadline: 'P3D',
      }),
    );
    const authority = { retentionPeriod: 'P180D', defaultUnitId: null, activeKeyIds: [], deleted: false };
    // a rename arriving before the older event it replaces: the newer name stays
    const newer = await probe.publish('authority.changed', { authorityId: 'a1', name: AUTHORITY_NAME, ...authority });
    await applied(newer);
    const older = await probe.publish(
      'authority.changed',
      { authorityId: 'a1', name: 'Alter Name', ...authority },
      {
        id: randomUUID(),
        type: 'authority.changed',
        occurredAt: new Date(Date.parse(newer.occurredAt) - 60_000).toISOString(),
        correlationId: randomUUID(),
        causationId: null,
        data: { authorityId: 'a1', name: 'Alter Name', ...authority },
      },
    );
    await applied(older);
  }, 60_000);

  afterAll(async () => {
    await probe?.close();
    await replica?.close();
    await app?.close();
    await Promise.all([db?.drop(), vhost?.drop()]);
  });

  describe('the calendar file (GET /threads/{id}/appointment.ics)', () => {
    /** RFC 5545 §3.1: CRLF line ends, physical lines of at most 75 octets, folded lines continue with a space. */
    function contentLines(text: string): string[] {
      expect(text.endsWith('\r\n')).toBe(true);
      expect(text.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/); // no bare CR or LF
      const physical = text.slice(0, -2).split('\r\n');
      for (const line of physical) expect([line, Buffer.byteLength(line, 'utf8') <= 75]).toEqual([line, true]);
      return physical.reduce<string[]>((lines, line) => {
        if (line.startsWith(' ') || line.startsWith('\t')) lines[lines.length - 1] += line.slice(1);
        else lines.push(line);
        return lines;
      }, []);
    }
    const unescape = (value: string) => value.replace(/\\([\\;,nN])/g, (_m, c: string) => (c.toLowerCase() === 'n' ? '\n' : c));
    /** The value of property `name` inside component `within` (first occurrence). */
    function property(lines: string[], within: string, name: string): string | undefined {
      const begin = lines.indexOf(`BEGIN:${within}`);
      const end = lines.indexOf(`END:${within}`, begin);
      const line = lines.slice(begin, end).find((l) => l.split(/[:;]/)[0] === name);
      return line?.slice(line.indexOf(':') + 1);
    }
    const stamp = (iso: string) => iso.replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');

    it('answers an RFC 5545 calendar of the confirmed slot to the citizen and the authority, with no Aktenzeichen or person in it', async () => {
      const o = official('a1', 'o-ics');
      const slots = [slotIn(24 * 30, 45), slotIn(24 * 31, 45)];
      const id = await propose(o, docs.alice, slots);
      expect((await confirm(alice, id, slots[1].start)).status).toBe(200);

      const res = await ics(alice, id);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('text/calendar; charset=utf-8');
      expect(res.headers['content-disposition']).toBe(`attachment; filename="termin-${id}.ics"`);
      expect(res.headers['cache-control']).toBe('private, no-store');
      const text = res.text;
      const lines = contentLines(text);

      expect(lines[0]).toBe('BEGIN:VCALENDAR');
      expect(lines[lines.length - 1]).toBe('END:VCALENDAR');
      expect(property(lines, 'VCALENDAR', 'VERSION')).toBe('2.0');
      expect(property(lines, 'VCALENDAR', 'PRODID')).toBe('-//DirektVermittlungDe//Termine//DE');
      expect(property(lines, 'VCALENDAR', 'METHOD')).toBe('PUBLISH');
      expect(lines.filter((l) => l === 'BEGIN:VEVENT')).toHaveLength(1);
      expect(property(lines, 'VEVENT', 'UID')).toBe(`${id}@${HOST}`);
      expect(property(lines, 'VEVENT', 'SEQUENCE')).toBe('0');
      expect(property(lines, 'VEVENT', 'DTSTAMP')).toMatch(/^\d{8}T\d{6}Z$/);
      expect(property(lines, 'VEVENT', 'DTSTART')).toBe(stamp(slots[1].start));
      expect(property(lines, 'VEVENT', 'DTEND')).toBe(stamp(slots[1].end));
      expect(property(lines, 'VEVENT', 'STATUS')).toBe('CONFIRMED');
      // the authority's public name, escaped (; ,) and folded (longer than a line), read back whole
      expect(unescape(property(lines, 'VEVENT', 'SUMMARY')!)).toBe(`Termin bei ${AUTHORITY_NAME}`);
      expect(text).toContain('\r\n '); // it was folded
      expect(property(lines, 'VALARM', 'ACTION')).toBe('DISPLAY');
      expect(property(lines, 'VALARM', 'TRIGGER')).toBe('-P1D'); // APPOINTMENT_REMINDER_LEAD PT24H
      expect(lines.indexOf('BEGIN:VALARM')).toBeGreaterThan(lines.indexOf('BEGIN:VEVENT'));
      expect(lines.indexOf('END:VALARM')).toBeLessThan(lines.indexOf('END:VEVENT'));

      for (const secret of [AKTENZEICHEN, alice.userId, o.userId, docs.alice]) expect(text).not.toContain(secret);

      // officials of the authority get the same file; every download of one confirmation is identical
      const forOfficial = await ics(official('a1', 'o-someone-else'), id);
      expect(forOfficial.status).toBe(200);
      expect(forOfficial.text).toBe(text);
      expect((await ics(alice, id)).text).toBe(text);
    });

    it('is 404 to others and for other threads, 409 until a slot is confirmed and after a cancellation; a new confirmation raises SEQUENCE', async () => {
      const o = official('a1', 'o-ics-2');
      const slots = [slotIn(24 * 40), slotIn(24 * 41)];
      const id = await propose(o, docs.alice, slots);
      for (const u of [bob, carol, official('a2', 'o-a2')]) expect((await ics(u, id)).status).toBe(404);
      const before = await ics(alice, id);
      expect(before.status).toBe(409);
      expect(before.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(before.body).toMatchObject({ type: 'https://direktvermittlung.de/problems/appointment-not-confirmed', status: 409 });
      const chat = await as(alice).post(`/api/v1/documents/${docs.alice}/threads`).send({ type: 'CHAT' });
      expect((await ics(alice, chat.body.id as string)).status).toBe(404);
      expect((await ics(alice, 'not-a-uuid')).status).toBe(404);

      expect((await confirm(alice, id, slots[0].start)).status).toBe(200);
      const uid = (await ics(alice, id)).text.match(/\r\nUID:(.*)\r\n/)![1];
      expect((await cancel(alice, id)).body.appointment.confirmedSlot).toBeNull();
      expect((await ics(official('a1', 'o-x'), id)).status).toBe(409);
      expect((await confirm(alice, id, slots[1].start)).status).toBe(200);
      const again = (await ics(alice, id)).text;
      expect(again).toMatch(new RegExp(`\\r\\nUID:${uid}\\r\\n`));
      expect(again).toContain('\r\nSEQUENCE:2\r\n');
      expect(again).toContain(`\r\nDTSTART:${stamp(slots[1].start)}\r\n`);
    });

    it('names no authority while its name is not known here', async () => {
      const o = official('a2', 'o-ics-a2');
      const slot = slotIn(24 * 50);
      const id = await propose(o, docs.carol, [slot]);
      expect((await confirm(carol, id, slot.start)).status).toBe(200);
      expect((await ics(carol, id)).text).toContain('\r\nSUMMARY:Termin (DirektVermittlungDe)\r\n');
    });
  });

  describe('no double booking of an official', () => {
    it('of two citizens confirming overlapping slots of one official at once (on two replicas), exactly one wins', async () => {
      const o = official('a1', 'o-race');
      for (let round = 0; round < 8; round++) {
        const mine = slotIn(24 * 60 + round * 3, 60);
        const overlapping = {
          start: new Date(Date.parse(mine.start) + 30 * 60_000).toISOString(),
          end: new Date(Date.parse(mine.end) + 30 * 60_000).toISOString(),
        };
        const [a, b] = [await propose(o, docs.alice, [mine]), await propose(o, docs.bob, [overlapping])];
        const answers = await Promise.all([confirm(alice, a, mine.start, api), confirm(bob, b, overlapping.start, other)]);
        const statuses = answers.map((r) => r.status).sort();
        expect({ round, statuses }).toEqual({ round, statuses: [200, 409] });
        const loser = answers.find((r) => r.status === 409)!;
        expect(loser.body).toMatchObject({ type: 'https://direktvermittlung.de/problems/slot-taken', status: 409 });
        expect(loser.headers['content-type']).toMatch(/^application\/problem\+json/);
        // the loser's thread shows nothing confirmed, and the database holds one booking
        const loserId = answers[0].status === 409 ? a : b;
        const loserUser = answers[0].status === 409 ? alice : bob;
        expect((await as(loserUser).get(`/api/v1/threads/${loserId}`)).body.appointment.confirmedSlot).toBeNull();
        const booked = await app
          .get(DataSource)
          .query(`SELECT thread_id FROM appointments WHERE thread_id = ANY($1::uuid[]) AND slot IS NOT NULL`, [[a, b]]);
        expect(booked).toHaveLength(1);
      }
    });

    it('ends two bookings racing in Postgres as one booking and one slot-taken, also when Postgres deadlocks them', async () => {
      // Postgres enters each booking in the exclusion index before checking it: two racing
      // inserts sometimes wait for each other and one is aborted as a deadlock (1–7% of rounds)
      const o = official('a1', 'o-race-db');
      const first = slotIn(24 * 100, 60);
      const second = { start: new Date(Date.parse(first.start) + 30 * 60_000).toISOString(), end: first.end };
      const [a, b] = [await propose(o, docs.alice, [first]), await propose(o, docs.bob, [second])];
      const ds = app.get(DataSource);
      const bookings = app.get(AppointmentBookings);
      const book = (threadId: string, slot: { start: string; end: string }) =>
        retryingBookingDeadlocks(() =>
          ds.transaction((m) => bookings.book(m, { threadId, authorityId: 'a1', officialId: o.userId, slot })),
        );
      const outcome = (r: PromiseSettledResult<unknown>) =>
        r.status === 'fulfilled' ? 'booked' : ((r.reason as { type?: string }).type ?? (r.reason as { code?: string }).code);
      for (let round = 0; round < 400; round++) {
        const settled = await Promise.allSettled([book(a, first), book(b, second)]);
        expect({ round, outcomes: settled.map(outcome).sort() }).toEqual({
          round,
          outcomes: ['booked', 'slot-taken'],
        });
        await ds.query(`DELETE FROM appointments WHERE thread_id = ANY($1::uuid[])`, [[a, b]]);
      }
    });

    it('books back-to-back slots and other officials at the same time, refuses overlapping proposals, and frees a cancelled slot', async () => {
      const o = official('a1', 'o-book');
      const nine = slotIn(24 * 90, 60);
      const ten = { start: nine.end, end: new Date(Date.parse(nine.end) + 30 * 60_000).toISOString() };
      const first = await propose(o, docs.alice, [nine]);
      const offeredTwice = await propose(o, docs.bob, [nine]); // proposals may overlap; bookings may not
      expect((await confirm(alice, first, nine.start)).status).toBe(200);
      expect((await confirm(alice, first, nine.start)).status).toBe(200); // the same again: unchanged
      expect((await confirm(bob, offeredTwice, nine.start)).body).toMatchObject({
        status: 409,
        type: expect.stringMatching(/\/slot-taken$/),
      });

      // [start, end): a slot starting when another ends does not overlap
      const next = await propose(o, docs.bob, [ten]);
      expect((await confirm(bob, next, ten.start)).status).toBe(200);
      // another official of the authority is free at nine
      const colleague = await propose(official('a1', 'o-colleague'), docs.bob, [nine]);
      expect((await confirm(bob, colleague, nine.start)).status).toBe(200);

      // the official cannot offer a time that is booked already; the answer names the slot
      const inside = { start: new Date(Date.parse(nine.start) + 15 * 60_000).toISOString(), end: nine.end };
      const refused = await as(o)
        .post(`/api/v1/documents/${docs.bob}/threads`)
        .send({ type: 'APPOINTMENT', appointment: { proposedSlots: [slotIn(24 * 91), inside] } });
      expect(refused.status).toBe(409);
      expect(refused.body).toMatchObject({
        type: 'https://direktvermittlung.de/problems/slot-taken',
        errors: [{ field: 'appointment.proposedSlots.1' }],
      });

      // after a cancellation the time is free again
      expect((await cancel(official('a1', 'o-stranger'), first)).status).toBe(409); // neither proposer nor holder
      expect((await cancel(bob, first)).status).toBe(404); // not bob's thread
      expect((await cancel(alice, first)).status).toBe(200);
      expect((await cancel(alice, first)).status).toBe(200); // nothing confirmed any more: unchanged
      const retry = await propose(o, docs.bob, [nine]);
      expect((await confirm(bob, retry, nine.start)).status).toBe(200);
      // the official who proposed and an admin of the authority may cancel too
      expect((await cancel(o, retry)).status).toBe(200);
      expect((await confirm(bob, retry, nine.start)).status).toBe(200);
      expect((await cancel(admin('a1'), retry)).body.appointment.confirmedSlot).toBeNull();
    });
  });

  describe('appointment.reminder', () => {
    const eventOf = (
      threadId: string,
      documentId: string,
      citizenId: string,
      slot: { start: string; end: string },
      unitId: string | null,
    ) =>
      ({
        threadId,
        documentId,
        authorityId: 'a1',
        unitId,
        citizenId,
        officialId: 'o-remind',
        startsAt: slot.start,
        endsAt: slot.end,
      }) satisfies EventMap['appointment.reminder'];

    it('goes out once per confirmation starting within the lead, never for unconfirmed, cancelled or later ones', async () => {
      const o = official('a1', 'o-remind');
      const soon = [slotIn(1), slotIn(2), slotIn(3), slotIn(4)];
      const later = slotIn(48);
      const confirmed = await propose(o, docs.alice, [soon[0]]);
      const unconfirmed = await propose(o, docs.alice, [soon[1]]);
      const cancelled = await propose(o, docs.bob, [soon[1]]);
      const tooEarly = await propose(o, docs.bob, [later]);
      expect((await confirm(alice, confirmed, soon[0].start)).status).toBe(200);
      expect((await confirm(bob, cancelled, soon[1].start)).status).toBe(200);
      expect((await cancel(bob, cancelled)).status).toBe(200);
      expect((await confirm(bob, tooEarly, later.start)).status).toBe(200);
      const all = [confirmed, unconfirmed, cancelled, tooEarly];

      await settled(); // both replicas sweep at once
      expect(reminders(all).map((e) => e.data)).toEqual([eventOf(confirmed, docs.alice, alice.userId, soon[0], 'buergeramt')]);
      const sent = JSON.stringify(reminders(all));
      for (const secret of [AKTENZEICHEN, AUTHORITY_NAME]) expect(sent).not.toContain(secret);

      await settled(); // and again: nothing new
      expect(reminders(all)).toHaveLength(1);
    });

    it('reminds of a changed appointment anew, with its new start, and not of the slot it replaced', async () => {
      const o = official('a1', 'o-remind');
      const [first, second] = [slotIn(5), slotIn(6)];
      const id = await propose(o, docs.bob, [first, second]);
      expect((await confirm(bob, id, first.start)).status).toBe(200);
      await settled();
      expect(reminders([id]).map((e) => e.data)).toEqual([eventOf(id, docs.bob, bob.userId, first, null)]);

      expect((await cancel(bob, id)).status).toBe(200);
      expect((await confirm(bob, id, second.start)).status).toBe(200);
      await settled();
      await settled();
      expect(reminders([id]).map((e) => e.data)).toEqual([
        eventOf(id, docs.bob, bob.userId, first, null),
        eventOf(id, docs.bob, bob.userId, second, null),
      ]);
    });

    it('reminds of each of many due appointments exactly once while two replicas sweep', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 30; i++) {
        const slot = slotIn(7 + i * 0.5, 20);
        const id = await propose(official('a1', 'o-remind'), docs.alice, [slot]);
        expect((await confirm(alice, id, slot.start)).status).toBe(200);
        ids.push(id);
      }
      await settled();
      await settled();
      expect(reminders(ids)).toHaveLength(ids.length);
      expect(new Set(reminders(ids).map((e) => e.data.threadId)).size).toBe(ids.length);
    });
  });
});

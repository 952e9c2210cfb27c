import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DvdClient, DvdProblemError, generateAuthorityKeyPair, type DvdDocument } from '@dvd/sdk';
import { EventProbe, ResponseRecorder, pollUntil } from '@dvd/testing';
import { ROOT, RunningPlatform, expectResponsesMatchOpenApi, startPlatform } from './platform-process';

const CLI = join(ROOT, 'dist', 'apps', 'cli', 'src', 'main.js');

/**
 * Appointments people can keep (ADR 0022) over the whole platform, through the gateway only:
 * an official proposes slots with `dvd`, the citizen confirms one with `dvd`, both download the
 * same calendar file (SDK and `dvd appointment ics`, a text/calendar answer streamed through the
 * gateway), the reminder goes out, a second citizen cannot take the official's booked time, and
 * a cancellation takes the file away. Every response is checked against docs/openapi.json.
 */
describe('appointments through the gateway (SDK and dvd)', () => {
  let p: RunningPlatform;
  let probe: EventProbe;
  let work: string;
  let env: NodeJS.ProcessEnv;
  const recorder = new ResponseRecorder();
  const authority = `amt-${randomBytes(4).toString('hex')}`;
  const AKTENZEICHEN = `AZ-${randomUUID()}`;
  let sdk: Record<'platformAdmin' | 'admin' | 'official' | 'citizen' | 'otherCitizen', DvdClient>;

  const recordingFetch: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    const url = new URL(String(input instanceof Request ? input.url : input));
    const type = res.headers.get('content-type');
    const text = type && /json/.test(type) ? await res.clone().text() : undefined;
    recorder.record({
      method: init?.method ?? 'GET',
      path: url.pathname + url.search,
      status: res.status,
      contentType: type,
      body: text === undefined ? (res.status === 204 ? undefined : '(text)') : text ? JSON.parse(text) : undefined,
    });
    return res;
  };

  const dvd = (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      execFile(process.execPath, [CLI, ...args], { cwd: work, env }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      });
    });
  const json = async <T>(...args: string[]): Promise<T> => {
    const r = await dvd('--json', ...args);
    if (r.code !== 0) throw new Error(`dvd ${args.join(' ')} → ${r.code}\n${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  };
  const problem = async (work: Promise<unknown>): Promise<DvdProblemError> => {
    const err = await work.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DvdProblemError);
    return err as DvdProblemError;
  };
  const slotIn = (hours: number, minutes = 30) => {
    const start = Math.floor((Date.now() + hours * 3600_000) / 60_000) * 60_000;
    return { start: new Date(start).toISOString(), end: new Date(start + minutes * 60_000).toISOString() };
  };

  beforeAll(async () => {
    p = await startPlatform({ APPOINTMENT_REMINDER_SWEEP_INTERVAL_MS: '250' });
    probe = await EventProbe.create(p.env.AMQP_URL, ['appointment.reminder']);
    work = await mkdtemp(join(tmpdir(), 'dvd-appointments-'));
    env = { PATH: process.env.PATH, HOME: work, DVD_CONFIG_DIR: join(work, 'config') };
    await json(
      'login',
      '--dev',
      '--sub',
      'erika',
      '--authority',
      authority,
      '--gateway',
      p.gateway,
      '--dev-idp',
      `http://127.0.0.1:${p.ports['dev-idp']}`,
    );
    const client = async (body: Record<string, unknown>) =>
      new DvdClient({ baseUrl: `${p.gateway}/api/v1`, token: await p.token(body), fetch: recordingFetch, retryDelayMs: 50 });
    sdk = {
      platformAdmin: await client({ role: 'platform-admin', authority: 'platform' }),
      admin: await client({ role: 'admin', authority, sub: 'admin-dev' }),
      official: await client({ role: 'official', authority, sub: 'official-dev' }), // the dvd profile's official
      citizen: await client({ role: 'citizen', sub: 'erika' }), // the dvd profile's citizen
      otherCitizen: await client({ role: 'citizen', sub: 'max' }),
    };
    const key = await generateAuthorityKeyPair({ alg: 'ECDH-ES+A256KW' });
    await sdk.platformAdmin.createAuthority({
      id: authority,
      name: 'Bürgeramt Musterstadt',
      ingestUrl: 'https://eakte.example/in',
      ingestSecret: `whsec_${randomBytes(32).toString('base64')}`,
      retentionPeriod: 'P30D',
    });
    await sdk.admin.createUnit(authority, { id: 'buergerbuero', name: 'Bürgerbüro' });
    await sdk.admin.addAuthorityKey(authority, key.publicJwk);
  }, 180_000);

  afterAll(async () => {
    await probe?.close();
    await p?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  async function routedDocument(citizen: DvdClient): Promise<DvdDocument> {
    const sent = await pollUntil(
      async () =>
        citizen
          .sendDocument({
            file: randomBytes(1000),
            metadata: { referenceNumber: AKTENZEICHEN, authorityId: authority, documentType: 'ANTRAG' },
          })
          .catch((err: unknown) => {
            if (err instanceof DvdProblemError && err.code === 'unknown-authority') return null;
            throw err;
          }),
      { what: 'the upload to be accepted', timeoutMs: 30_000 },
    );
    await pollUntil(async () => (await citizen.getDocument(sent.document.id)).status === 'ROUTED', { what: 'ROUTED', timeoutMs: 30_000 });
    return sent.document;
  }

  it('is proposed and confirmed with dvd, kept as the same .ics by citizen and official, reminded of, never double-booked, and cancelled', async () => {
    const document = await routedDocument(sdk.citizen);
    const [soon, later] = [slotIn(2), slotIn(24 * 30)];
    const thread = await json<{ id: string }>(
      ...['-p', 'official', 'thread', 'open', document.id, '--type', 'APPOINTMENT'],
      ...['--slot', `${soon.start}/${soon.end}`, '--slot', `${later.start}/${later.end}`],
    );
    expect((await problem(sdk.citizen.getAppointmentCalendar(thread.id))).code).toBe('appointment-not-confirmed');
    await json('-p', 'citizen', 'thread', 'confirm', thread.id, '--start', soon.start);

    // the calendar file, through the gateway, once the authority's name has reached communication
    const text = await pollUntil(
      async () => {
        const t = await sdk.citizen.getAppointmentCalendar(thread.id);
        return t.includes('SUMMARY:Termin bei Bürgeramt Musterstadt\r\n') ? t : null;
      },
      { what: "the authority's name in the calendar file" },
    );
    expect(text).toMatch(/^BEGIN:VCALENDAR\r\n/);
    expect(text).toContain('\r\nMETHOD:PUBLISH\r\n');
    expect(text).toContain(`\r\nUID:${thread.id}@127.0.0.1\r\n`); // the host of PUBLIC_BASE_URL (the gateway)
    expect(text).toContain(`\r\nDTSTART:${soon.start.replace(/[-:]/g, '').replace('.000Z', 'Z')}\r\n`);
    expect(text).toContain('\r\nBEGIN:VALARM\r\n');
    for (const secret of [AKTENZEICHEN, 'erika', 'official-dev', document.id]) expect(text).not.toContain(secret);
    expect(await sdk.official.getAppointmentCalendar(thread.id)).toBe(text);
    expect((await problem(sdk.otherCitizen.getAppointmentCalendar(thread.id))).status).toBe(404);

    // the raw answer of the gateway: a download, not cached
    const raw = await recordingFetch(`${p.gateway}/api/v1/threads/${thread.id}/appointment.ics`, {
      headers: { authorization: `Bearer ${await p.token({ role: 'citizen', sub: 'erika' })}` },
    });
    expect(raw.status).toBe(200);
    expect(raw.headers.get('content-type')).toBe('text/calendar; charset=utf-8');
    expect(raw.headers.get('content-disposition')).toBe(`attachment; filename="termin-${thread.id}.ics"`);
    expect(raw.headers.get('cache-control')).toBe('private, no-store');
    expect(await raw.text()).toBe(text);

    // dvd saves the same bytes (mode 0600), or prints them
    const saved = await json<{ file: string; bytes: number; start: string }>(
      '-p',
      'citizen',
      'appointment',
      'ics',
      thread.id,
      '-o',
      'termin.ics',
    );
    expect(await readFile(join(work, 'termin.ics'), 'utf8')).toBe(text);
    expect((await stat(join(work, 'termin.ics'))).mode & 0o777).toBe(0o600);
    expect(saved).toMatchObject({ bytes: Buffer.byteLength(text), start: soon.start.replace(/[-:]/g, '').replace('.000Z', 'Z') });
    expect((await dvd('-p', 'official', 'appointment', 'ics', thread.id, '-o', '-')).stdout).toBe(text);

    // the slot starts within APPOINTMENT_REMINDER_LEAD (24 h): reminded of, with ids and times only
    const reminder = await probe.waitFor('appointment.reminder', (d) => d.threadId === thread.id);
    expect(reminder.data).toEqual({
      threadId: thread.id,
      documentId: document.id,
      authorityId: authority,
      unitId: 'buergerbuero',
      citizenId: 'erika',
      officialId: 'official-dev',
      startsAt: soon.start,
      endsAt: soon.end,
    });

    // the official's time is taken: not offered again, and not confirmable by another citizen
    const taken = await problem(
      sdk.official.createThread((await routedDocument(sdk.otherCitizen)).id, {
        type: 'APPOINTMENT',
        appointment: { proposedSlots: [soon] },
      }),
    );
    expect([taken.status, taken.code]).toEqual([409, 'slot-taken']);

    // cancelled with dvd: no calendar file any more (exit code 5: refused)
    await json('-p', 'citizen', 'appointment', 'cancel', thread.id);
    const gone = await dvd('-p', 'citizen', 'appointment', 'ics', thread.id);
    expect(gone.code).toBe(5);
    expect(gone.stderr).toContain('409');
    expect((await problem(sdk.official.getAppointmentCalendar(thread.id))).code).toBe('appointment-not-confirmed');

    expectResponsesMatchOpenApi(recorder, 8);
  });
});

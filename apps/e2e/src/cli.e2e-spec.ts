import { ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { Webhook } from 'standardwebhooks';
import { decryptWith } from '@dvd/sdk';
import { freePort, pollUntil } from '@dvd/testing';
import { ROOT, RunningPlatform, startPlatform } from './platform-process';

const CLI = join(ROOT, 'dist', 'apps', 'cli', 'src', 'main.js');
const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The `dvd` command line, driven as processes against the real platform: an authority
 * registered with a key made on this machine, a 20 MiB file encrypted and sent by a citizen,
 * opened by an official byte for byte, a reply decrypted with the citizen's key, and the
 * export taken by `dvd receive` — which refuses a tampered or replayed delivery.
 */
describe('dvd command line against the platform', () => {
  let p: RunningPlatform;
  let work: string;
  let env: NodeJS.ProcessEnv;
  let receiver: ChildProcess | undefined;
  let receiverOut = '';
  const authority = `amt-${randomBytes(4).toString('hex')}`;

  const dvd = (...args: string[]): Promise<Run> =>
    new Promise((resolve) => {
      execFile(process.execPath, [CLI, ...args], { cwd: work, env, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      });
    });
  const ok = async (...args: string[]) => {
    const r = await dvd(...args);
    if (r.code !== 0) throw new Error(`dvd ${args.join(' ')} → ${r.code}\n${r.stderr}`);
    return r;
  };
  const json = async <T = Record<string, unknown>>(...args: string[]): Promise<T> => JSON.parse((await ok('--json', ...args)).stdout) as T;

  beforeAll(async () => {
    p = await startPlatform({ OVERDUE_SWEEP_INTERVAL_MS: '250' });
    work = await mkdtemp(join(tmpdir(), 'dvd-cli-'));
    env = { PATH: process.env.PATH, HOME: work, DVD_CONFIG_DIR: join(work, 'config') };
    // 1. profiles for every role against the development IdP
    const login = await json<{ profiles: string[] }>(
      'login',
      '--dev',
      '--authority',
      authority,
      '--gateway',
      p.gateway,
      '--dev-idp',
      `http://127.0.0.1:${p.ports['dev-idp']}`,
    );
    expect(login.profiles).toEqual(['citizen', 'official', 'admin', 'platform-admin']);
  }, 180_000);

  afterAll(async () => {
    if (receiver && receiver.exitCode === null) receiver.kill('SIGTERM');
    await p?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('registers, sends, opens, replies and exports with the dvd tools only', async () => {
    // 2. the authority with its first unit and a key pair made here
    const port = await freePort();
    const init = await json<{ kid: string; privateKeyFile: string; ingestSecretFile: string }>(
      '--profile',
      'platform-admin',
      'authority',
      'init',
      authority,
      '--name',
      'Bauamt Test',
      '--ingest-url',
      `http://127.0.0.1:${port}/ingest`,
      '--alg',
      'ec',
    );
    const privateKey = JSON.parse(await readFile(init.privateKeyFile, 'utf8')) as { d?: string; kid: string };
    expect(privateKey.d).toBeDefined();
    expect((await stat(init.privateKeyFile)).mode & 0o777).toBe(0o600);
    expect((await stat(init.ingestSecretFile)).mode & 0o777).toBe(0o600);
    const registered = await json<Array<{ kid: string; d?: string }>>('--profile', 'citizen', 'keys', 'list', authority);
    expect(registered.map((k) => k.kid)).toEqual([init.kid]);
    expect(registered[0].d).toBeUndefined();

    // 3. the reference receiver
    const out = join(work, 'received');
    receiver = spawn(
      process.execPath,
      [CLI, '--json', 'receive', '--port', String(port), '--secret-file', init.ingestSecretFile, '--path', '/ingest', '--out', out],
      { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    receiver.stdout!.on('data', (c: Buffer) => (receiverOut += c.toString()));
    await pollUntil(async () => receiverOut.includes('"listening"'), { what: 'dvd receive to listen' });

    // 4. a citizen sends a 20 MiB file, encrypted on this machine
    const original = randomBytes(20 * 1024 * 1024);
    await writeFile(join(work, 'antrag.bin'), original);
    const sent = await json<{ document: { id: string; payload: { sha256: string } }; kid: string; replyKeyFile: string }>(
      '--profile',
      'citizen',
      'send',
      'antrag.bin',
      '--to',
      authority,
      '--ref',
      'BAU-2026/0815',
      '--type',
      'BAUANTRAG',
    );
    expect(sent.kid).toBe(init.kid);
    const id = sent.document.id;
    await pollUntil(async () => (await json<{ status: string }>('--profile', 'official', 'status', id)).status === 'ROUTED', {
      what: 'the document to be routed',
      timeoutMs: 30_000,
    });

    // 5. the official opens it: the identical bytes
    await ok('--profile', 'official', 'open', id, '--key', init.privateKeyFile, '-o', 'opened.bin');
    expect(Buffer.compare(await readFile(join(work, 'opened.bin')), original)).toBe(0);
    // a wrong key: exit code 7 (crypto), nothing written
    await ok('keys', 'generate', '--alg', 'ec', '--out', 'other');
    const wrong = await dvd('--profile', 'official', 'open', id, '--key', 'other.private.jwk', '-o', 'wrong.bin');
    expect(wrong.code).toBe(7);
    await expect(stat(join(work, 'wrong.bin'))).rejects.toThrow();

    // 6. a thread: the official's reply decrypts with the citizen's reply key, and back
    const thread = await json<{ id: string }>('--profile', 'citizen', 'thread', 'open', id, '--type', 'CHAT');
    await ok('--profile', 'official', 'thread', 'claim', thread.id);
    await ok('--profile', 'official', 'reply', thread.id, 'Bitte reichen Sie den Lageplan nach.');
    await ok('--profile', 'citizen', 'reply', thread.id, 'Lageplan folgt am Montag.');
    const citizenView = await json<Array<{ from: string; text: string | null }>>('--profile', 'citizen', 'thread', 'messages', thread.id);
    expect(citizenView).toContainEqual(expect.objectContaining({ from: 'official', text: 'Bitte reichen Sie den Lageplan nach.' }));
    const officialView = await json<Array<{ from: string; text: string | null }>>(
      '--profile',
      'official',
      'thread',
      'messages',
      thread.id,
      '--key',
      init.privateKeyFile,
    );
    expect(officialView).toContainEqual(expect.objectContaining({ from: 'citizen', text: 'Lageplan folgt am Montag.' }));

    // 7. the export reaches `dvd receive`; every hash matches the manifest
    const job = await json<{ jobId: string; status: string }>('--profile', 'official', 'export', id, '--wait');
    expect(job.status).toBe('COMPLETED');
    await pollUntil(async () => receiverOut.includes(`"accepted","jobId":"${job.jobId}"`), { what: 'the receiver to accept' });
    const dir = join(out, job.jobId);
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as {
      document: { id: string; referenceNumber: string };
      files: Record<string, { size: number; sha256: string }>;
      threads: Array<{ messages: Array<{ sha256: string }> }>;
    };
    expect(manifest.document.id).toBe(id);
    for (const name of ['payload.jwe', 'messages.json']) {
      const bytes = await readFile(join(dir, name));
      expect({ name, size: bytes.length, sha256: sha256(bytes) }).toEqual({ name, ...manifest.files[name] });
    }
    expect(manifest.files['payload.jwe'].sha256).toBe(sent.document.payload.sha256);
    expect(manifest.threads.flatMap((t) => t.messages)).toHaveLength(2);
    const exported = await decryptWith((await readFile(join(dir, 'payload.jwe'), 'utf8')).trim(), privateKey as never);
    expect(Buffer.compare(Buffer.from(exported), original)).toBe(0);

    // 8. a tampered or replayed delivery is refused and writes nothing
    const secret = (await readFile(init.ingestSecretFile, 'utf8')).trim();
    const files = Object.fromEntries(
      await Promise.all(['manifest.json', 'payload.jwe', 'messages.json'].map(async (n) => [n, await readFile(join(dir, n))])),
    );
    const forged = (jobId: string) => {
      const zip = zipSync(files);
      const body = JSON.stringify({
        type: 'export.package',
        timestamp: new Date().toISOString(),
        data: {
          jobId,
          documentId: id,
          authorityId: authority,
          package: { contentType: 'application/zip', size: zip.length, sha256: sha256(zip), base64: Buffer.from(zip).toString('base64') },
        },
      });
      const now = new Date();
      const headers = {
        'content-type': 'application/json',
        'webhook-id': jobId,
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': new Webhook(secret).sign(jobId, now, body),
      };
      return { body, headers };
    };
    // a new connection each time: building a package takes seconds on a loaded machine, and a kept-alive
    // connection the receiver closed meanwhile fails the next write (EPIPE) before the receiver sees it
    const post = (d: { body: string; headers: Record<string, string> }) =>
      fetch(`http://127.0.0.1:${port}/ingest`, { method: 'POST', headers: { ...d.headers, connection: 'close' }, body: d.body });
    const before = await readdir(out);

    const fresh = forged(randomUUID());
    const tampered = { ...fresh, body: fresh.body.replace('"export.package"', '"export.packagf"') };
    expect((await post(tampered)).status).toBe(401);
    expect(await readdir(out)).toEqual(before);

    expect((await post(fresh)).status).toBe(200); // the same delivery untampered is fine …
    const replay = await post(fresh); // … once
    expect(replay.status).toBe(409);
    expect(((await replay.json()) as { type: string }).type).toMatch(/webhook-replayed$/);
    // the real job's id with other bytes
    files['messages.json'] = Buffer.from('{"documentId":"x","threads":[]}');
    const swapped = forged(job.jobId);
    expect((await post(swapped)).status).toBe(409);
    expect((await readdir(out)).sort()).toEqual([...before, JSON.parse(fresh.body).data.jobId].sort());
    expect(receiverOut).not.toContain('Lageplan');
  }, 240_000);

  it('sets a claim deadline, finds the overdue document in the inbox and re-routes it', async () => {
    const set = await json<{ claimDeadline: string }>('--profile', 'admin', 'authority', 'set', authority, '--claim-deadline', 'PT1S');
    expect(set.claimDeadline).toBe('PT1S');
    expect((await dvd('--profile', 'admin', 'authority', 'set', authority)).code).toBe(2); // nothing to change
    await writeFile(join(work, 'brief.txt'), 'Widerspruch');
    const sent = await json<{ document: { id: string } }>(
      ...['--profile', 'citizen', 'send', 'brief.txt', '--to', authority, '--ref', 'W-1', '--type', 'WIDERSPRUCH', '--no-reply-key'],
    );
    const id = sent.document.id;
    const overdue = await pollUntil(
      async () => {
        const inbox = await json<Array<{ id: string; overdue: boolean }>>('--profile', 'official', 'inbox', '--overdue');
        return inbox.find((d) => d.id === id);
      },
      { what: 'the document in the overdue inbox', timeoutMs: 30_000 },
    );
    expect(overdue.overdue).toBe(true);
    expect((await ok('--profile', 'official', 'inbox', '--overdue')).stdout).toContain('OVERDUE');
    expect(await json('--profile', 'admin', 'reroute', id)).toMatchObject({ documentId: id, outcome: 'ROUTED', changed: false });
    expect((await ok('--profile', 'admin', 'reroute', id)).stdout).toContain('(unchanged)');
    expect((await dvd('--profile', 'official', 'reroute', id)).code).toBe(4); // officials do not re-route
  });

  it('keeps and verifies receipts, and decides with the dvd tools: reject with a note, accept, forward, history', async () => {
    const privateKeyFile = join(work, `${authority}.private.jwk`);
    await writeFile(join(work, 'nachtrag.bin'), randomBytes(4096));
    const send = async (file: string, ...extra: string[]) =>
      json<{ document: { id: string }; receipt: string; receiptKid: string }>(
        ...['--profile', 'citizen', 'send', file, '--to', authority, '--ref', 'BAU-2026/0816', '--type', 'NACHTRAG', ...extra],
      );
    // the receipt: verified at once by `send`, saved, verified again from the file; one changed byte → exit code 11
    const sent = await send('nachtrag.bin', '--receipt-out', 'nachtrag.receipt');
    expect((await readFile(join(work, 'nachtrag.receipt'), 'utf8')).trim()).toBe(sent.receipt);
    const verified = await json<{ valid: boolean; claims: { sub: string; payloadKid: string } }>(
      '--profile',
      'citizen',
      'receipt',
      'verify',
      'nachtrag.receipt',
    );
    expect(verified).toMatchObject({ valid: true, claims: { sub: sent.document.id } });
    const parts = sent.receipt.split('.');
    const sig = parts[2];
    await writeFile(join(work, 'forged.receipt'), `${parts[0]}.${parts[1]}.${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}\n`);
    const forged = await dvd('--profile', 'citizen', 'receipt', 'verify', 'forged.receipt', '--jwks', `${p.gateway}/.well-known/jwks.json`);
    expect(forged.code).toBe(11);
    expect((await dvd('--profile', 'official', 'receipt', 'verify', sent.document.id)).code).toBe(0);
    expect((await ok('--profile', 'official', 'receipt', sent.document.id)).stdout.trim()).toBe(sent.receipt);

    // the official holding the thread rejects with a note only the citizen can read
    const id = sent.document.id;
    await pollUntil(async () => (await json<{ status: string }>('--profile', 'official', 'status', id)).status === 'ROUTED', {
      what: 'the document to be routed',
      timeoutMs: 30_000,
    });
    const thread = await json<{ id: string }>('--profile', 'citizen', 'thread', 'open', id);
    await ok('--profile', 'official', 'thread', 'claim', thread.id);
    expect((await dvd('--profile', 'official', 'reject', id, '--reason', 'LAZY')).code).toBe(2);
    const rejected = await json<{ status: string }>(
      '--profile',
      'official',
      'reject',
      id,
      '--reason',
      'INCOMPLETE',
      '--note',
      'Lageplan fehlt.',
    );
    expect(rejected.status).toBe('REJECTED');
    expect(await json<{ note: string }>('--profile', 'citizen', 'note', id)).toMatchObject({
      reasonCode: 'INCOMPLETE',
      note: 'Lageplan fehlt.',
    });
    const refused = await dvd('--profile', 'official', '--json', 'accept', id);
    expect(refused.code).toBe(5);
    expect(JSON.parse(refused.stderr)).toMatchObject({ problem: { status: 409, type: expect.stringMatching(/invalid-transition$/) } });
    const history = await json<Array<{ state: string; actorRole: string }>>('--profile', 'citizen', 'history', id);
    expect(history.map((e) => [e.state, e.actorRole])).toEqual([
      ['RECEIVED', 'citizen'],
      ['ROUTED', 'system'],
      ['ASSIGNED', 'official'],
      ['REJECTED', 'official'],
    ]);

    // an admin forwards another one to the responsible authority (registered with its own platform-admin profile)
    const target = `${authority}-2`;
    await ok(
      ...['login', '--profile', 'target-admin', '--role', 'platform-admin', '--authority', target],
      ...['--gateway', p.gateway, '--dev-idp', `http://127.0.0.1:${p.ports['dev-idp']}`],
    );
    const targetPort = await freePort();
    await json(
      '--profile',
      'target-admin',
      'authority',
      'init',
      target,
      '--name',
      'Landkreis',
      '--ingest-url',
      `http://127.0.0.1:${targetPort}/in`,
      '--alg',
      'ec',
    );
    const other = await send('nachtrag.bin');
    const forwarded = await pollUntil(
      async () => {
        const r = await dvd('--profile', 'admin', '--json', 'forward', other.document.id, '--to', target, '--key', privateKeyFile);
        if (r.code === 5 && r.stderr.includes('unknown-authority')) return null; // intake learns the new authority from an event
        if (r.code !== 0) throw new Error(r.stderr);
        return JSON.parse(r.stdout) as { document: { status: string }; forwarded: { id: string } };
      },
      { what: 'the forward to be accepted', timeoutMs: 30_000 },
    );
    expect(forwarded.document.status).toBe('FORWARDED');
    const mine = await json<Array<{ id: string; forwardedFrom: string | null }>>('--profile', 'citizen', 'inbox');
    expect(mine.find((d) => d.id === forwarded.forwarded.id)?.forwardedFrom).toBe(other.document.id);
    // the target's key opens it (an official of the target would use `dvd open`; the key file is here)
    const opened = await ok(
      '--profile',
      'target-admin',
      'open',
      forwarded.forwarded.id,
      '--key',
      join(work, `${target}.private.jwk`),
      '-o',
      'fwd.bin',
    );
    expect(opened.code).toBe(0);
    expect(Buffer.compare(await readFile(join(work, 'fwd.bin')), await readFile(join(work, 'nachtrag.bin')))).toBe(0);
  }, 180_000);

  it('watches the event stream with dvd watch, one line per event, until Ctrl-C', async () => {
    const watch = (...args: string[]) => {
      const child = spawn(process.execPath, [CLI, ...args], { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });
      const lines = { out: '', err: '' };
      child.stdout!.on('data', (c: Buffer) => (lines.out += c.toString()));
      child.stderr!.on('data', (c: Buffer) => (lines.err += c.toString()));
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      return { child, lines, exited };
    };
    // the citizen resumes from the start of the stream (--since 0): whenever its stream opens, it misses nothing
    const citizenWatch = watch('--profile', 'citizen', '--json', 'watch', '--since', '0');
    const officialWatch = watch('--profile', 'official', 'watch');
    await pollUntil(async () => officialWatch.lines.err.includes('watching the events'), { what: 'the official watching' });
    await writeFile(join(work, 'watch.txt'), 'Antrag');
    const sent = await json<{ document: { id: string } }>(
      ...['--profile', 'citizen', 'send', 'watch.txt', '--to', authority, '--ref', 'WATCH-1', '--type', 'ANTRAG', '--no-reply-key'],
    );
    const id = sent.document.id;
    const events = () =>
      citizenWatch.lines.out
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { type: string; documentId?: string; status?: string; id?: string });
    await pollUntil(async () => events().some((e) => e.documentId === id && e.status === 'ROUTED'), {
      what: 'the citizen to see ROUTED',
      timeoutMs: 30_000,
    });
    expect(events().filter((e) => e.documentId === id)).toEqual([
      { type: 'document.status-changed', documentId: id, status: 'RECEIVED', time: expect.any(String), id: expect.stringMatching(/^\d+$/) },
      { type: 'document.status-changed', documentId: id, status: 'ROUTED', time: expect.any(String), id: expect.stringMatching(/^\d+$/) },
    ]);
    await pollUntil(async () => new RegExp(`document\\.status-changed +document ${id} +ROUTED`).test(officialWatch.lines.out), {
      what: 'the official to see ROUTED',
    });
    expect(officialWatch.lines.out).not.toContain('WATCH-1'); // ids and a status, never the Aktenzeichen
    expect(citizenWatch.lines.err).toBe(''); // --json: events on stdout, nothing else
    citizenWatch.child.kill('SIGINT');
    officialWatch.child.kill('SIGINT');
    expect(await citizenWatch.exited).toBe(0);
    expect(await officialWatch.exited).toBe(0);
  });

  it('says what failed with its exit code', async () => {
    expect((await dvd('--profile', 'nobody', 'inbox')).code).toBe(2);
    const missing = await dvd('--profile', 'official', 'status', randomUUID());
    expect(missing.code).toBe(4);
    const refused = await dvd(
      ...['--profile', 'citizen', '--json', 'thread', 'open', randomUUID(), '--type', 'CALLBACK'],
      ...['--from', '2026-12-24T10:00:00Z', '--to', '2026-12-24T09:00:00Z'],
    );
    expect(refused.code).toBe(5);
    expect(JSON.parse(refused.stderr)).toMatchObject({ exitCode: 5, problem: { status: 400 } });
  });
});

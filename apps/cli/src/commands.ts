import { randomBytes } from 'node:crypto';
import { access, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  DvdClient,
  decryptMessage,
  generateAuthorityKeyPair,
  generateReplyKeyPair,
  publicPart,
  type AuthorityPatch,
  type DocumentListParams,
  verifyReceipt,
  type DocumentHistoryEntry,
  type DvdDocument,
  type DvdStreamItem,
  type RejectReason,
  type Thread,
  type ThreadCreate,
  type VerifiedReceipt,
} from '@dvd/sdk';
import { readJwkFile, startExportReceiver, writePrivateJwk, writePublicJwk } from '@dvd/sdk/node';
import type { JWK } from 'jose';
import { EXIT } from './exit-codes';
import { output, table, type Out } from './output';
import { ROLES, UsageError, configDir, loadConfig, pickProfile, saveConfig, tokenSource, type Profile, type Role } from './profiles';

export interface GlobalOptions {
  profile?: string;
  json?: boolean;
  progress?: boolean;
  quiet?: boolean;
  configDir?: string;
}

export interface Context {
  out: Out;
  dir: string;
  profileName: string;
  profile: Profile;
  client: DvdClient;
}

export async function context(g: GlobalOptions): Promise<Context> {
  const dir = configDir(g.configDir);
  const { name, profile } = pickProfile(await loadConfig(dir), g.profile);
  const client = new DvdClient({ baseUrl: `${profile.gateway.replace(/\/+$/, '')}/api/v1`, token: tokenSource(profile) });
  return { out: output({ json: g.json === true, progress: g.progress, quiet: g.quiet }), dir, profileName: name, profile, client };
}

const docRow = (d: DvdDocument) => ({
  id: d.id,
  status: d.status,
  authority: d.authorityId,
  unit: d.unitId,
  type: d.documentType,
  created: d.createdAt,
  bytes: d.payload.size,
  overdue: d.overdue ? 'OVERDUE' : '',
  chain: d.forwardedTo ? `→ ${d.forwardedTo}` : d.forwardedFrom ? `← ${d.forwardedFrom}` : null,
});
const DOC_COLUMNS = ['id', 'status', 'authority', 'unit', 'type', 'created', 'bytes', 'overdue', 'chain'];

// ── login ───────────────────────────────────────────────────────────────────────────────
export async function login(
  g: GlobalOptions,
  o: {
    gateway: string;
    devIdp?: string;
    dev?: boolean;
    role?: string;
    sub?: string;
    authority?: string;
    token?: string;
    tokenStdin?: boolean;
  },
) {
  const dir = configDir(g.configDir);
  const out = output({ json: g.json === true, quiet: g.quiet });
  const config = await loadConfig(dir);
  const gateway = o.gateway.replace(/\/+$/, '');
  let created: Record<string, Profile>;
  if (o.dev) {
    // one profile per role against the development IdP (the platform admin is admin of the same authority)
    if (!o.authority) throw new UsageError('--dev needs --authority (the authority the staff profiles belong to)');
    const devIdp = o.devIdp ?? 'http://127.0.0.1:3100';
    created = {
      citizen: { gateway, role: 'citizen', sub: o.sub ?? 'citizen-dev', devIdp },
      official: { gateway, role: 'official', sub: 'official-dev', authority: o.authority, devIdp },
      admin: { gateway, role: 'admin', sub: 'admin-dev', authority: o.authority, devIdp },
      'platform-admin': { gateway, role: 'platform-admin', sub: 'platform-admin-dev', authority: o.authority, devIdp },
    };
  } else {
    const role = (o.role ?? 'citizen') as Role;
    if (!ROLES.includes(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
    let token = o.token;
    if (o.tokenStdin) token = (await readStdin(20_000)).trim();
    if (!token && !o.devIdp) throw new UsageError('give --dev-idp URL (development IdP), --token or --token-stdin');
    if (role !== 'citizen' && !token && !o.authority) throw new UsageError(`a ${role} profile needs --authority`);
    const name = g.profile ?? role;
    created = { [name]: { gateway, role, sub: o.sub, authority: o.authority, devIdp: token ? undefined : o.devIdp, token } };
  }
  // each new profile must be able to get a token now
  for (const profile of Object.values(created)) await tokenSource(profile)();
  config.profiles = { ...config.profiles, ...created };
  config.current = config.current ?? Object.keys(created)[0];
  await saveConfig(dir, config);
  out.result({ profiles: Object.keys(created), current: config.current, configDir: dir }, () =>
    [`profiles saved in ${join(dir, 'config.json')}: ${Object.keys(created).join(', ')}`, `current profile: ${config.current}`].join('\n'),
  );
}

async function readStdin(max: number): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) {
    text += String(chunk);
    if (text.length > max) throw new UsageError('stdin is too long for a token');
  }
  return text;
}

export async function profiles(g: GlobalOptions) {
  const dir = configDir(g.configDir);
  const config = await loadConfig(dir);
  const rows = Object.entries(config.profiles).map(([name, p]) => ({
    name: name === config.current ? `${name} *` : name,
    role: p.role,
    authority: p.authority,
    gateway: p.gateway,
    auth: p.token ? 'token' : 'dev IdP',
  }));
  output({ json: g.json === true }).result(
    Object.entries(config.profiles).map(([name, p]) => ({
      name,
      role: p.role,
      authority: p.authority,
      gateway: p.gateway,
      current: name === config.current,
    })),
    () => table(rows, ['name', 'role', 'authority', 'gateway', 'auth']),
  );
}

// ── authority ───────────────────────────────────────────────────────────────────────────
export function newIngestSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

async function absent(path: string) {
  try {
    await access(path);
  } catch {
    return;
  }
  throw new UsageError(`${path} exists: refusing to overwrite a key file`);
}

export async function authorityInit(
  g: GlobalOptions,
  id: string,
  o: {
    name: string;
    ingestUrl: string;
    ingestSecret?: string;
    retention: string;
    claimDeadline?: string;
    unit: string;
    unitName: string;
    alg: string;
    keyDir: string;
  },
) {
  const ctx = await context(g);
  const keyDir = resolve(o.keyDir);
  const privatePath = join(keyDir, `${id}.private.jwk`);
  const publicPath = join(keyDir, `${id}.public.jwk`);
  const secretPath = join(keyDir, `${id}.whsec`);
  await absent(privatePath);
  if (!['rsa', 'ec'].includes(o.alg)) throw new UsageError('--alg must be rsa (RSA-3072, RSA-OAEP-256) or ec (P-256, ECDH-ES+A256KW)');
  const ingestSecret = o.ingestSecret ?? newIngestSecret();

  const authority = await ctx.client.createAuthority({
    id,
    name: o.name,
    ingestUrl: o.ingestUrl,
    ingestSecret,
    retentionPeriod: o.retention,
    ...(o.claimDeadline ? { claimDeadline: o.claimDeadline } : {}),
  });
  const unit = await ctx.client.createUnit(id, { id: o.unit, name: o.unitName });
  // the pair is made here; only the public half leaves this machine
  const pair = await generateAuthorityKeyPair({ alg: o.alg === 'ec' ? 'ECDH-ES+A256KW' : 'RSA-OAEP-256' });
  await writePrivateJwk(privatePath, pair.privateJwk!);
  await writePublicJwk(publicPath, pair.publicJwk);
  const key = await ctx.client.addAuthorityKey(id, pair.publicJwk);
  if (!o.ingestSecret) await writeFile(secretPath, `${ingestSecret}\n`, { mode: 0o600, flag: 'wx' });
  ctx.out.result(
    {
      authority,
      unit,
      kid: key.kid,
      alg: key.alg,
      privateKeyFile: privatePath,
      publicKeyFile: publicPath,
      ingestSecretFile: o.ingestSecret ? null : secretPath,
    },
    () =>
      [
        `authority ${authority.id} registered, exports go to ${authority.ingestUrl}`,
        `unit ${unit.id} created (documents without a matching rule go there)`,
        `key ${key.kid} (${key.alg}) registered; private key written to ${privatePath} (mode 0600, never sent)`,
        o.ingestSecret ? 'ingest secret: the one given' : `ingest secret written to ${secretPath} (mode 0600) — give it to your receiver`,
      ].join('\n'),
  );
  return EXIT.ok;
}

/** Changes an authority's settings (admins): only the options given. */
export async function authoritySet(
  g: GlobalOptions,
  id: string,
  o: { name?: string; ingestUrl?: string; retention?: string; claimDeadline?: string; defaultUnit?: string },
) {
  const patch: AuthorityPatch = {
    ...(o.name !== undefined ? { name: o.name } : {}),
    ...(o.ingestUrl !== undefined ? { ingestUrl: o.ingestUrl } : {}),
    ...(o.retention !== undefined ? { retentionPeriod: o.retention } : {}),
    ...(o.claimDeadline !== undefined ? { claimDeadline: o.claimDeadline } : {}),
    ...(o.defaultUnit !== undefined ? { defaultUnitId: o.defaultUnit } : {}),
  };
  if (Object.keys(patch).length === 0)
    throw new UsageError('give at least one of --name, --ingest-url, --retention, --claim-deadline, --default-unit');
  const ctx = await context(g);
  const a = await ctx.client.updateAuthority(id, patch);
  ctx.out.result(a, () =>
    [
      `authority ${a.id} (${a.name}) changed`,
      `retention ${a.retentionPeriod}, claim deadline ${a.claimDeadline}, default unit ${a.defaultUnitId ?? '(none)'}`,
    ].join('\n'),
  );
}

export async function keysGenerate(g: GlobalOptions, o: { alg: string; out: string; reply?: boolean }) {
  const out = output({ json: g.json === true, quiet: g.quiet });
  const pair = o.reply
    ? await generateReplyKeyPair()
    : await generateAuthorityKeyPair({ alg: o.alg === 'ec' ? 'ECDH-ES+A256KW' : 'RSA-OAEP-256' });
  const privatePath = resolve(`${o.out}.private.jwk`);
  const publicPath = resolve(`${o.out}.public.jwk`);
  await absent(privatePath);
  await writePrivateJwk(privatePath, pair.privateJwk!);
  await writePublicJwk(publicPath, pair.publicJwk);
  out.result(
    { kid: pair.kid, alg: pair.publicJwk.alg, privateKeyFile: privatePath, publicKeyFile: publicPath },
    () => `key ${pair.kid} (${pair.publicJwk.alg}): private ${privatePath} (0600), public ${publicPath}`,
  );
}

export async function keysAdd(g: GlobalOptions, authorityId: string, file: string) {
  const ctx = await context(g);
  const jwk = publicPart(await readJwkFile(file));
  const key = await ctx.client.addAuthorityKey(authorityId, jwk);
  ctx.out.result(key, () => `key ${key.kid} (${key.alg}) is active for ${authorityId}`);
}

export async function keysList(g: GlobalOptions, authorityId: string) {
  const ctx = await context(g);
  const { keys } = await ctx.client.listAuthorityKeys(authorityId);
  ctx.out.result(keys, () => table(keys as Array<Record<string, unknown>>, ['kid', 'alg', 'kty', 'crv']));
}

// ── citizen: send ───────────────────────────────────────────────────────────────────────
/** The citizen's reply key pair of this profile, made on first use (`<config>/<profile>.reply.private.jwk`, 0600). */
async function replyKey(ctx: Context, path?: string): Promise<{ publicJwk: JWK; file: string }> {
  const file = path ? resolve(path) : join(ctx.dir, `${ctx.profileName}.reply.private.jwk`);
  try {
    return { publicJwk: publicPart(await readJwkFile(file)), file };
  } catch (err) {
    if (path) throw err;
  }
  const pair = await generateReplyKeyPair();
  await writePrivateJwk(file, pair.privateJwk!);
  return { publicJwk: pair.publicJwk, file };
}

export async function send(
  g: GlobalOptions,
  file: string,
  o: {
    to: string;
    ref: string;
    type: string;
    serviceKey?: string;
    regionKey?: string;
    replyKey?: string;
    noReplyKey?: boolean;
    idempotencyKey?: string;
    receiptOut?: string;
  },
): Promise<number> {
  const ctx = await context(g);
  const bytes = await readFile(file);
  const reply = o.noReplyKey ? undefined : await replyKey(ctx, o.replyKey);
  const bar = ctx.out.progress('uploading');
  const result = await ctx.client
    .sendDocument({
      file: bytes,
      metadata: {
        referenceNumber: o.ref,
        authorityId: o.to,
        documentType: o.type,
        ...(o.serviceKey ? { serviceKey: o.serviceKey } : {}),
        ...(o.regionKey ? { regionKey: o.regionKey } : {}),
        ...(reply ? { replyKey: reply.publicJwk } : {}),
      },
      idempotencyKey: o.idempotencyKey,
      onStage: (stage) => stage === 'encrypting' && ctx.out.note(`encrypting ${bytes.length} bytes on this machine`),
      onProgress: bar.onProgress,
    })
    .finally(bar.stop);
  const d = result.document;
  // the platform's signed receipt: checked against the published keys and what was sent
  const verified = await ctx.client.verifyReceipt(result.receipt, {
    expected: { documentId: d.id, authorityId: d.authorityId, size: d.payload.size, sha256: result.sha256 },
  });
  if (o.receiptOut) await writeFile(o.receiptOut, `${result.receipt}\n`, { mode: 0o644 });
  ctx.out.result({ ...result, receiptKid: verified.kid, replyKeyFile: reply?.file ?? null, receiptFile: o.receiptOut ?? null }, () =>
    [
      `document ${d.id} ${d.status} at ${d.authorityId}`,
      `encrypted for key ${result.kid}; ${d.payload.size} bytes stored, sha256 ${d.payload.sha256} (verified)`,
      `receipt signed by the platform (key ${verified.kid}, verified)${o.receiptOut ? `, saved to ${o.receiptOut}` : `: ${result.receipt}`}`,
      reply ? `replies will be encrypted to your reply key (${reply.file})` : 'no reply key: officials cannot write to you',
    ].join('\n'),
  );
  return EXIT.ok;
}

// ── reading ─────────────────────────────────────────────────────────────────────────────
export async function inbox(g: GlobalOptions, o: { status?: string; unit?: string; limit?: string; all?: boolean; overdue?: boolean }) {
  const ctx = await context(g);
  const query: DocumentListParams = {
    status: o.status as DvdDocument['status'] | undefined,
    unitId: o.unit,
    limit: o.limit ? Number(o.limit) : undefined,
    overdue: o.overdue ? true : undefined,
  };
  const items: DvdDocument[] = [];
  if (o.all) for await (const d of ctx.client.documents(query)) items.push(d);
  else items.push(...(await ctx.client.listDocuments(query)).items);
  ctx.out.result(items, () => table(items.map(docRow), DOC_COLUMNS));
}

export async function status(g: GlobalOptions, id: string) {
  const ctx = await context(g);
  const d = await ctx.client.getDocument(id);
  ctx.out.result(d, () =>
    [
      table([docRow(d)], DOC_COLUMNS),
      d.rejection ? `rejected: ${d.rejection.reasonCode}${d.rejection.note ? ' (with a note: dvd note ID)' : ''}` : '',
    ]
      .filter(Boolean)
      .join('\n'),
  );
}

/** Routes a document again by its authority's current rules (admins). */
export async function reroute(g: GlobalOptions, id: string) {
  const ctx = await context(g);
  const r = await ctx.client.rerouteDocument(id);
  ctx.out.result(r, () =>
    r.outcome === 'ROUTED'
      ? `document ${r.documentId}: routed to unit ${r.unitId}${r.ruleId ? ` by rule ${r.ruleId}` : ' (default unit)'}${r.changed ? '' : ' (unchanged)'}`
      : `document ${r.documentId}: still unroutable (${r.reason})`,
  );
}

// ── receipts ────────────────────────────────────────────────────────────────────────────
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function receipt(g: GlobalOptions, id: string, o: { out?: string }) {
  const ctx = await context(g);
  const r = await ctx.client.getDocumentReceipt(id);
  if (o.out) await writeFile(o.out, `${r.receipt}\n`, { mode: 0o644 });
  ctx.out.result(r, () => (o.out ? `receipt of document ${r.documentId} written to ${o.out}` : r.receipt));
}

/** The JWS in a file: the receipt itself, or the JSON of `dvd --json receipt|send` holding it. */
function receiptInFile(text: string): string {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) return trimmed;
  try {
    const value = JSON.parse(trimmed) as { receipt?: unknown };
    if (typeof value.receipt === 'string') return value.receipt;
  } catch {
    // not JSON: not a receipt either
  }
  throw new UsageError('the file holds no receipt (a compact JWS, or JSON with a "receipt" field)');
}

/**
 * Verifies a receipt — from a file, or a document's from the platform — against the receipt
 * keys (`--jwks URL`, default the profile's gateway). Exit code 11 when it does not verify.
 */
export async function receiptVerify(g: GlobalOptions, target: string, o: { jwks?: string; issuer?: string }): Promise<number> {
  const text = await readFile(target, 'utf8').catch(() => undefined);
  if (text === undefined && !UUID.test(target)) throw new UsageError(`${target} is neither a readable file nor a document id`);
  const needsProfile = text === undefined || !o.jwks;
  const ctx = needsProfile ? await context(g) : undefined;
  const out = ctx?.out ?? output({ json: g.json === true, quiet: g.quiet });
  const jws = text !== undefined ? receiptInFile(text) : (await ctx!.client.getDocumentReceipt(target)).receipt;
  const jwksUrl = o.jwks ?? `${ctx!.profile.gateway.replace(/\/+$/, '')}/.well-known/jwks.json`;
  let url: URL;
  try {
    url = new URL(jwksUrl);
  } catch {
    throw new UsageError('--jwks must be a URL');
  }
  const verified: VerifiedReceipt = await verifyReceipt(jws, url, {
    issuer: o.issuer,
    expected: text === undefined ? { documentId: target } : undefined,
  });
  const c = verified.claims;
  out.result({ valid: true, kid: verified.kid, alg: verified.alg, claims: c }, () =>
    [
      `receipt valid: signed by ${c.iss} (key ${verified.kid}, ${verified.alg}) at ${new Date(c.iat * 1000).toISOString()}`,
      `document ${c.sub} (${c.documentType}) for ${c.authorityId}: ${c.payload.size} bytes, sha256 ${c.payload.sha256}, encrypted for key ${c.payloadKid}`,
    ].join('\n'),
  );
  return EXIT.ok;
}

// ── decisions ───────────────────────────────────────────────────────────────────────────
const REASONS: readonly RejectReason[] = ['NOT_RESPONSIBLE', 'INCOMPLETE', 'UNREADABLE', 'DUPLICATE', 'OTHER'];

export async function accept(g: GlobalOptions, id: string) {
  const ctx = await context(g);
  const d = await ctx.client.acceptDocument(id);
  ctx.out.result(d, () => `document ${d.id}: ${d.status}`);
}

export async function reject(g: GlobalOptions, id: string, o: { reason: string; note?: string }) {
  const ctx = await context(g);
  const reason = o.reason.toUpperCase() as RejectReason;
  if (!REASONS.includes(reason)) throw new UsageError(`--reason is one of ${REASONS.join(', ')}`);
  // the note is encrypted here, to the citizen's reply key; the platform never sees it in plain text
  const d = o.note
    ? await ctx.client.rejectDocumentWithNote(id, reason, o.note)
    : await ctx.client.rejectDocument(id, { reasonCode: reason });
  ctx.out.result(
    d,
    () => `document ${d.id}: ${d.status} (${d.rejection?.reasonCode})${d.rejection?.note ? ', note encrypted to the citizen' : ''}`,
  );
}

export async function forward(g: GlobalOptions, id: string, o: { to: string; key: string }) {
  const ctx = await context(g);
  const privateKey = await readJwkFile(o.key);
  const bar = ctx.out.progress('forwarding');
  ctx.out.note(`decrypting on this machine and encrypting again for ${o.to}`);
  const result = await ctx.client
    .forwardDocument(id, { targetAuthorityId: o.to, privateKey, onProgress: bar.onProgress })
    .finally(bar.stop);
  const f = result.forwarded;
  ctx.out.result(result, () =>
    [
      `document ${result.document.id}: ${result.document.status} → document ${f.id} at ${f.authorityId}`,
      `${f.payload.size} bytes stored for ${f.authorityId}, sha256 ${f.payload.sha256} (verified)`,
    ].join('\n'),
  );
}

export async function history(g: GlobalOptions, id: string) {
  const ctx = await context(g);
  const items: DocumentHistoryEntry[] = [];
  let cursor: string | undefined;
  do {
    const page = await ctx.client.getDocumentHistory(id, { limit: 100, cursor });
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  ctx.out.result(items, () =>
    table(
      items.map((e) => ({ at: e.at, state: e.state, by: e.actorRole, reason: e.reasonCode })),
      ['at', 'state', 'by', 'reason'],
    ),
  );
}

/** A rejection note, decrypted with the citizen's reply key. */
export async function note(g: GlobalOptions, id: string, o: { key?: string }) {
  const ctx = await context(g);
  const d = await ctx.client.getDocument(id);
  if (!d.rejection?.note) throw new UsageError(`document ${id} has no rejection note`);
  const key = await readJwkFile(o.key ?? join(ctx.dir, `${ctx.profileName}.reply.private.jwk`));
  const { text } = await decryptMessage(d.rejection.note, key);
  ctx.out.result({ documentId: d.id, reasonCode: d.rejection.reasonCode, note: text }, () => `${d.rejection!.reasonCode}: ${text}`);
}

export async function open(g: GlobalOptions, id: string, o: { key: string; output?: string }) {
  const ctx = await context(g);
  const key = await readJwkFile(o.key);
  const bar = ctx.out.progress('downloading');
  const { document, plaintext } = await ctx.client.openDocument(id, key).finally(bar.stop);
  const target = o.output ?? `${document.id}.bin`;
  if (target === '-') {
    process.stdout.write(plaintext);
    return;
  }
  await writeFile(target, plaintext, { mode: 0o600 });
  ctx.out.result(
    { documentId: document.id, file: resolve(target), bytes: plaintext.length, sha256Verified: true },
    () => `document ${document.id}: payload verified (sha256) and decrypted, ${plaintext.length} bytes written to ${target}`,
  );
}

// ── threads ─────────────────────────────────────────────────────────────────────────────
export async function threadOpen(g: GlobalOptions, documentId: string, o: { type: string; from?: string; to?: string; slot?: string[] }) {
  const ctx = await context(g);
  let input: ThreadCreate;
  switch (o.type.toUpperCase()) {
    case 'CHAT':
      input = { type: 'CHAT' };
      break;
    case 'CALLBACK':
      if (!o.from || !o.to) throw new UsageError('a CALLBACK thread needs --from and --to (the time window)');
      input = { type: 'CALLBACK', callback: { preferredFrom: o.from, preferredTo: o.to } };
      break;
    case 'APPOINTMENT': {
      const slots = (o.slot ?? []).map((s) => {
        const [start, end] = s.split('/');
        if (!start || !end) throw new UsageError('--slot is START/END (RFC 3339)');
        return { start, end };
      });
      if (slots.length === 0) throw new UsageError('an APPOINTMENT thread needs at least one --slot START/END');
      input = { type: 'APPOINTMENT', appointment: { proposedSlots: slots } };
      break;
    }
    default:
      throw new UsageError('--type is CHAT, CALLBACK or APPOINTMENT');
  }
  const t = await ctx.client.createThread(documentId, input);
  ctx.out.result(t, () => `thread ${t.id} (${t.type}) opened on document ${t.documentId}`);
}

export async function threadList(g: GlobalOptions, o: { document?: string; assigned?: string; status?: string }) {
  const ctx = await context(g);
  const items: Thread[] = [];
  for await (const t of ctx.client.threads({
    documentId: o.document,
    assigned: o.assigned as 'me' | 'none' | undefined,
    status: o.status as 'OPEN' | 'CLOSED' | undefined,
  }))
    items.push(t);
  ctx.out.result(items, () =>
    table(
      items.map((t) => ({ ...t, assigned: t.assignedOfficialId })),
      ['id', 'type', 'status', 'documentId', 'assigned', 'lastActivityAt'],
    ),
  );
}

export async function threadAction(g: GlobalOptions, action: 'claim' | 'release' | 'close', id: string) {
  const ctx = await context(g);
  const t =
    action === 'claim'
      ? await ctx.client.claimThread(id)
      : action === 'release'
        ? await ctx.client.releaseThread(id)
        : await ctx.client.closeThread(id);
  ctx.out.result(t, () => `thread ${t.id}: ${t.status}${t.assignedOfficialId ? `, assigned to ${t.assignedOfficialId}` : ', unassigned'}`);
}

export async function threadConfirm(g: GlobalOptions, id: string, o: { start: string }) {
  const ctx = await context(g);
  const t = await ctx.client.confirmAppointment(id, { start: o.start });
  const slot = t.appointment?.confirmedSlot;
  ctx.out.result(t, () => `appointment confirmed: ${slot ? `${slot.start} – ${slot.end}` : o.start}`);
}

// ── appointments ────────────────────────────────────────────────────────────────────────
/** Saves the confirmed appointment as an .ics file (byte for byte as the platform sent it), or prints it with `-o -`. */
export async function appointmentIcs(g: GlobalOptions, threadId: string, o: { output?: string }) {
  const ctx = await context(g);
  const text = await ctx.client.getAppointmentCalendar(threadId);
  const target = o.output ?? `termin-${threadId}.ics`;
  if (target === '-') {
    process.stdout.write(text);
    return;
  }
  await writeFile(target, text, { mode: 0o600 });
  const start = /\r\nDTSTART(?:;[^:\r\n]*)?:([0-9TZ]+)\r\n/.exec(text)?.[1] ?? null;
  ctx.out.result(
    { threadId, file: resolve(target), bytes: Buffer.byteLength(text, 'utf8'), start },
    () => `appointment of thread ${threadId}${start ? ` (starts ${start})` : ''} saved to ${target}: open it with your calendar`,
  );
}

export async function appointmentCancel(g: GlobalOptions, threadId: string) {
  const ctx = await context(g);
  const t = await ctx.client.cancelAppointment(threadId);
  ctx.out.result(t, () => `appointment of thread ${t.id} cancelled: no slot confirmed (the proposed slots stay)`);
}

export async function threadMessages(g: GlobalOptions, id: string, o: { key?: string }) {
  const ctx = await context(g);
  const key = o.key
    ? await readJwkFile(o.key)
    : ctx.profile.role === 'citizen'
      ? await readJwkFile(join(ctx.dir, `${ctx.profileName}.reply.private.jwk`))
      : undefined;
  if (!key) throw new UsageError('--key KEY.jwk is needed to read messages (the authority private key)');
  const rows: Array<{ id: string; from: string; at: string; text: string | null }> = [];
  for await (const m of ctx.client.readMessages(id, key))
    rows.push({ id: m.message.id, from: m.message.senderRole, at: m.message.createdAt, text: m.text });
  ctx.out.result(
    rows,
    () => rows.map((r) => `[${r.at}] ${r.from}: ${r.text ?? '(encrypted for the other side)'}`).join('\n') || '(no messages)',
  );
}

export async function reply(g: GlobalOptions, threadId: string, text: string, o: { to?: string }) {
  const ctx = await context(g);
  const recipientKey = o.to ? publicPart(await readJwkFile(o.to)) : undefined;
  const m = await ctx.client.sendMessage(threadId, text, { recipientKey });
  ctx.out.result(m, () => `message ${m.id} posted (encrypted on this machine)`);
}

// ── exports ─────────────────────────────────────────────────────────────────────────────
export async function exportDocument(g: GlobalOptions, documentId: string, o: { wait?: boolean; timeout: string }): Promise<number> {
  const ctx = await context(g);
  const accepted = await ctx.client.createExport(documentId);
  if (!o.wait) {
    ctx.out.result(accepted, () => `export job ${accepted.jobId}: ${accepted.status}`);
    return EXIT.ok;
  }
  let last = '';
  const job = await ctx.client.waitForExport(accepted.jobId, {
    timeoutMs: Number(o.timeout) * 1000,
    onStatus: (j) => {
      if (j.status !== last) ctx.out.note(`export ${j.jobId}: ${j.status}${j.lastError ? ` (${j.lastError})` : ''}`);
      last = j.status;
    },
  });
  ctx.out.result(job, () =>
    job.status === 'COMPLETED'
      ? `export ${job.jobId} COMPLETED after ${job.attempts} attempt(s); receipt: ${JSON.stringify(job.receipt)}`
      : `export ${job.jobId} FAILED: ${job.lastError}`,
  );
  return job.status === 'COMPLETED' ? EXIT.ok : EXIT.exportFailed;
}

// ── receiving exports ───────────────────────────────────────────────────────────────────
export async function receive(
  g: GlobalOptions,
  o: { port: string; host: string; secret?: string[]; secretFile?: string; out: string; path?: string },
) {
  const out = output({ json: g.json === true, quiet: g.quiet });
  const secrets = [...(o.secret ?? [])];
  if (o.secretFile) secrets.push((await readFile(o.secretFile, 'utf8')).trim());
  if (secrets.length === 0) throw new UsageError('give --secret whsec_… or --secret-file FILE');
  for (const s of secrets) if (!/^whsec_[A-Za-z0-9+/]+={0,2}$/.test(s)) throw new UsageError('a secret looks like whsec_<base64>');
  const dir = resolve(o.out);
  const server = await startExportReceiver({
    port: Number(o.port),
    host: o.host,
    secrets,
    outDir: dir,
    path: o.path,
    onEvent: (e) => {
      // ids and outcomes only: never contents
      if (g.json) process.stdout.write(`${JSON.stringify(e)}\n`);
      else if (e.kind === 'accepted')
        process.stdout.write(`accepted export ${e.jobId} of document ${e.documentId} → ${join(dir, e.jobId)} (sha256 verified)\n`);
      else if (e.kind === 'duplicate') process.stdout.write(`duplicate delivery of ${e.jobId} acknowledged (nothing written)\n`);
      else process.stdout.write(`refused a delivery: ${e.status} ${e.reason}\n`);
    },
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : Number(o.port);
  out.note(`receiving exports on http://${o.host}:${port}${o.path ?? '/'} into ${dir} (Ctrl-C stops)`);
  if (g.json) process.stdout.write(`${JSON.stringify({ kind: 'listening', port, outDir: dir })}\n`);
  await new Promise<void>((resolveStop) => {
    const stop = () => server.close(() => resolveStop());
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

// ── watch ───────────────────────────────────────────────────────────────────────────────
/** One line of `dvd watch`: the event's type and ids, never more than the stream tells. */
export function watchLine(e: DvdStreamItem): string {
  if (e.type === 'reset') return 'reset: events were missed while disconnected (more than 5 minutes): reload what you show';
  const parts: string[] = [e.time, e.type.padEnd(23), `document ${e.documentId}`];
  if (e.status) parts.push(e.status);
  if (e.threadId) parts.push(`thread ${e.threadId}`);
  if (e.messageId) parts.push(`message ${e.messageId}`);
  if (e.exportJobId) parts.push(`export ${e.exportJobId}`);
  return parts.join('  ');
}

/**
 * `dvd watch`: the profile's event stream, one line per event (or one JSON object per line)
 * until Ctrl-C; reconnects and resumes by itself. A token that expires is replaced by a fresh
 * one from the development IdP; a fixed token that expired ends it (exit code 3).
 */
export async function watch(g: GlobalOptions, o: { unit?: string; since?: string }) {
  const { client, out, profileName } = await context(g);
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    for await (const e of client.watchEvents({
      unitId: o.unit,
      lastEventId: o.since,
      signal: stop.signal,
      onState: (s) => {
        if (s.state === 'open')
          out.note(`watching the events of profile ${profileName}${o.unit ? ` (unit ${o.unit})` : ''} (Ctrl-C stops)`);
        else if (s.error !== undefined) out.note(`reconnecting (${s.error instanceof Error ? s.error.message : 'failed'})`);
        else out.note('the stream ended: reconnecting');
      },
    }))
      process.stdout.write(g.json ? `${JSON.stringify(e)}\n` : `${watchLine(e)}\n`);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

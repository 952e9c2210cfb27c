import { randomBytes } from 'node:crypto';
import { encryptCompact, makeEncryptionKey, pollUntil } from '@dvd/testing';
import { apiCall, uploadDocument } from './http';
import type { BenchPlatform } from './platform';
import type { PhaseProfiler } from './profiler';
import { startRssSampler } from './processes';
import type { ApiResponse, BenchAuthority, BenchContext, TokenRequest, UploadOptions, UploadOutcome } from './types';
import { mapLimit } from './util';

const TOKEN_TTL_S = 4 * 3600;

export function mintToken(idpUrl: string) {
  return async (body: TokenRequest): Promise<string> => {
    const res = await fetch(`${idpUrl}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ttlSeconds: TOKEN_TTL_S, ...body }),
      signal: AbortSignal.timeout(30_000),
    });
    if (!res.ok) throw new Error(`the dev IdP refused a ${body.role} token: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { access_token: string }).access_token;
  };
}

/**
 * Registers a fresh authority through the gateway as platform-admin and admin (one unit,
 * which becomes the default unit, and one encryption key) and waits until intake, which
 * learns authorities and keys from events, accepts an upload; then until it is ROUTED.
 */
export async function setUpAuthority(
  apiUrl: string,
  token: (b: TokenRequest) => Promise<string>,
  log: (l: string) => void,
): Promise<BenchAuthority> {
  const id = `bench-${randomBytes(4).toString('hex')}`;
  const unitId = 'poststelle';
  const [platformAdminToken, adminToken, officialToken] = await Promise.all([
    token({ role: 'platform-admin', authority: 'platform', sub: 'bench-platform-admin' }),
    token({ role: 'admin', authority: id, sub: 'bench-admin' }),
    token({ role: 'official', authority: id, sub: 'bench-official' }),
  ]);
  const expect = (what: string, r: ApiResponse<unknown>, status = 201) => {
    if (r.status !== status) throw new Error(`${what}: expected ${status}, got ${r.status} ${JSON.stringify(r.body)}`);
  };
  expect(
    'POST /authorities',
    await apiCall(apiUrl, platformAdminToken, 'POST', '/authorities', {
      id,
      name: `Benchmark authority ${id}`,
      // nothing listens there: an export attempt must never leave the machine
      ingestUrl: 'http://127.0.0.1:9/ingest',
      ingestSecret: `whsec_${randomBytes(32).toString('base64')}`,
      retentionPeriod: 'P30D',
    }),
  );
  expect(
    `POST /authorities/${id}/units`,
    await apiCall(apiUrl, adminToken, 'POST', `/authorities/${id}/units`, { id: unitId, name: 'Poststelle' }),
  );
  const key = await makeEncryptionKey(`${id}-k1`, 'ec');
  expect(`POST /authorities/${id}/keys`, await apiCall(apiUrl, adminToken, 'POST', `/authorities/${id}/keys`, key.publicJwk));

  const citizenSub = `bench-citizen-${randomBytes(3).toString('hex')}`;
  const citizenToken = await token({ role: 'citizen', sub: citizenSub });
  const jwe = Buffer.from(await encryptCompact(key, 1024));
  let last: UploadOutcome | undefined;
  const accepted = await pollUntil(
    async () => {
      last = await uploadDocument(apiUrl, id, { token: citizenToken, jwe, referenceNumber: 'BENCH-SETUP' });
      return last.status === 201 ? last : null;
    },
    {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: 'intake to accept an upload for the new authority',
      diagnose: async () => JSON.stringify(last),
    },
  );
  const documentId = accepted.id!;
  await pollUntil(
    async () => {
      const r = await apiCall<{ status?: string }>(apiUrl, citizenToken, 'GET', `/documents/${documentId}`);
      return r.body?.status === 'ROUTED';
    },
    { timeoutMs: 60_000, intervalMs: 250, what: 'the setup document to be ROUTED' },
  );
  log(`authority ${id} registered (unit ${unitId}, key ${key.kid}); upload accepted and routed`);
  return { id, unitId, key, platformAdminToken, adminToken, officialToken, sample: { documentId, citizenSub, citizenToken } };
}

/** A compact JWE for `key` whose total length is about `bytes` (base64url grows the plaintext by 4/3). */
export async function jweOfSize(key: BenchAuthority['key'], bytes: number): Promise<Buffer> {
  const overhead = 400; // protected header, encrypted key, iv, tag
  const plaintext = Math.max(1, Math.floor(((bytes - overhead) * 3) / 4));
  return Buffer.from(await encryptCompact(key, plaintext));
}

export async function createContext(
  platform: BenchPlatform,
  scale: number,
  log: (l: string) => void,
  extra: { profiler: PhaseProfiler | null; reps: number },
): Promise<BenchContext> {
  const apiUrl = `${platform.gatewayUrl}/api/v1`;
  const token = mintToken(platform.idpUrl);
  const authority = await setUpAuthority(apiUrl, token, log);
  return {
    gatewayUrl: platform.gatewayUrl,
    apiUrl,
    mode: platform.mode,
    direct: platform.direct,
    scale,
    scaled: (n, min = 1) => Math.max(min, Math.round(n * scale)),
    token,
    tokens: (bodies) => mapLimit(bodies, 16, token),
    authority,
    api: (t, method, path, body) => apiCall(apiUrl, t, method, path, body),
    upload: (o: UploadOptions) => uploadDocument(apiUrl, authority.id, o),
    makeJwe: (bytes) => jweOfSize(authority.key, bytes),
    pidOf: (app) => platform.pidOf(app),
    rssSampler: (pids, intervalMs) => startRssSampler(pids, intervalMs),
    profiler: extra.profiler,
    reps: extra.reps,
    log,
  };
}

import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { DvdClient, generateAuthorityKeyPair, verifyReceipt } from '@dvd/sdk';
import { pollUntil } from '@dvd/testing';
import { ROOT, RunningPlatform, startPlatform } from './platform-process';

const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const SHOTS = join(ROOT, 'test-results', 'web-case');
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const WAIT = { timeout: 60_000 };

/**
 * The case workflow in the browser app (Debian's Chromium, headless), one browser context per
 * person: a citizen sends four documents; the official sees them in the overdue inbox, accepts
 * one, rejects one with a note (encrypted in the browser to the citizen's reply key) and
 * forwards one to a second authority (decrypted and re-encrypted in the browser); an admin
 * routes the fourth again after a rule change. The citizen sees each decision, reads the
 * decrypted note, follows the forward chain both ways and gets the signed receipts verified in
 * the browser (and downloads one, which verifies outside it too); the second authority's
 * official opens the forwarded file to the identical bytes. No request carries a file's bytes
 * or the note's text; axe finds no serious or critical violation on any page; the rejected
 * document's page has no horizontal scroll at 320 px; screenshots in test-results/web-case/.
 */
describe('browser app: case workflow', () => {
  let p: RunningPlatform;
  let browser: Browser;
  let work: string;
  const suffix = randomBytes(3).toString('hex');
  const authorityA = `amt-${suffix}`;
  const authorityB = `ziel-${suffix}`;
  const files = {
    'CASE-1': randomBytes(64 * 1024),
    'CASE-2': randomBytes(64 * 1024),
    'CASE-3': randomBytes(2 * 1024 * 1024),
    'CASE-4': randomBytes(16 * 1024),
  } as const;
  type Ref = keyof typeof files;
  const note = `Bitte reichen Sie den Lageplan nach (${suffix}).`;
  const ids = {} as Record<Ref, string>;
  const leaks: string[] = [];
  const violations: string[] = [];
  const receiptKeyRequests: string[] = [];
  let shot = 0;
  let api: { officialA: DvdClient; adminA: DvdClient; citizen: DvdClient };

  const snap = async (page: Page, name: string) => {
    await page.screenshot({ path: join(SHOTS, `${String(++shot).padStart(2, '0')}-${name}.png`), fullPage: true });
    const axe = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
    for (const v of axe.violations)
      if (v.impact === 'serious' || v.impact === 'critical') violations.push(`${name}: ${v.id} (${v.impact})`);
  };

  /** Every request body is checked for slices of the files and for the note's text. */
  const watch = (context: BrowserContext) => {
    const probes = [...Object.values(files).flatMap((f) => [f.subarray(0, 64), f.subarray(f.length - 64)]), Buffer.from(note)];
    context.on('request', (req) => {
      const body = req.postDataBuffer();
      if (body && probes.some((probe) => body.includes(probe))) leaks.push(`${req.method()} ${req.url()}`);
      if (req.url().includes('/.well-known/jwks.json')) receiptKeyRequests.push(req.url());
    });
  };

  const newPage = async () => {
    const context = await browser.newContext({ acceptDownloads: true, locale: 'de-DE' });
    watch(context);
    return context.newPage();
  };

  const login = async (page: Page, role: 'citizen' | 'official' | 'admin', sub: string, authority?: string) => {
    await page.goto(`http://127.0.0.1:${p.ports.web}/`);
    await page.locator(`#role-${role}`).check();
    await page.getByRole('button', { name: 'Anmelden' }).click();
    await page.locator('#sub').waitFor(WAIT);
    await page.locator('#sub').fill(sub);
    if (role !== 'citizen') {
      await page.locator('#role').selectOption(role);
      await page.locator('#authority').fill(authority!);
    }
    await page.getByRole('button', { name: 'Anmelden' }).click();
    await page.getByRole('button', { name: 'Abmelden' }).waitFor(WAIT);
  };

  const row = (page: Page, ref: Ref) => page.getByTestId('document-row').filter({ hasText: ref });
  const open = async (page: Page, ref: Ref) => {
    await row(page, ref).first().waitFor(WAIT);
    await row(page, ref).first().getByRole('link').first().click();
    await page.getByRole('heading', { level: 1, name: `Dokument ${ref}` }).waitFor(WAIT);
  };
  const toInbox = async (page: Page) => {
    await page.getByRole('link', { name: 'Zurück zum Posteingang' }).click();
    await page.getByRole('heading', { level: 1, name: 'Posteingang' }).waitFor(WAIT);
  };
  /** An official takes the document up the way the app offers: writing to the citizen claims a new conversation. */
  const writeToCitizen = async (page: Page, text: string) => {
    await page.getByLabel('Nachricht an die Bürgerin/den Bürger').fill(text);
    await page.getByRole('button', { name: 'Nachricht senden' }).click();
    await page.getByText('Ihre Nachricht wurde verschlüsselt gesendet.').waitFor(WAIT);
  };
  const decision = (page: Page, status: string) => page.locator(`[data-testid=decision][data-status=${status}]`).first();

  beforeAll(async () => {
    await mkdir(SHOTS, { recursive: true });
    p = await startPlatform({ OVERDUE_SWEEP_INTERVAL_MS: '250' });
    work = await mkdtemp(join(tmpdir(), 'dvd-web-case-'));
    const client = async (body: Record<string, unknown>) => new DvdClient({ baseUrl: `${p.gateway}/api/v1`, token: await p.token(body) });
    const platformAdmin = await client({ role: 'platform-admin', authority: 'platform' });
    api = {
      officialA: await client({ role: 'official', authority: authorityA, sub: 'probe-a' }),
      adminA: await client({ role: 'admin', authority: authorityA, sub: 'admin-a' }),
      citizen: await client({ role: 'citizen', sub: 'erika' }),
    };
    for (const [id, name, unit, deadline] of [
      [authorityA, 'Bauamt Musterstadt', 'poststelle', 'PT2S'],
      [authorityB, 'Landratsamt Beispielkreis', 'eingang', 'P3D'],
    ] as const) {
      await platformAdmin.createAuthority({
        id,
        name,
        // no export in this test: nothing listens there
        ingestUrl: 'http://127.0.0.1:9/ingest',
        ingestSecret: `whsec_${randomBytes(32).toString('base64')}`,
        retentionPeriod: 'P30D',
        claimDeadline: deadline,
      });
      // units and keys by the authority's own admin
      const own = await client({ role: 'admin', authority: id, sub: `setup-${id}` });
      await own.createUnit(id, { id: unit, name: unit });
      const pair = await generateAuthorityKeyPair({ alg: 'ECDH-ES+A256KW' });
      await own.addAuthorityKey(id, pair.publicJwk);
      await writeFile(join(work, `${id}.private.jwk`), JSON.stringify(pair.privateJwk), { mode: 0o600 });
    }
    for (const [ref, bytes] of Object.entries(files)) await writeFile(join(work, `${ref}.pdf`), bytes);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await p?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('accept, reject with a note, forward, re-route; the citizen sees decisions, note, chain and verified receipts', async () => {
    const citizen = await newPage();
    const official = await newPage();
    const admin = await newPage();
    const officialB = await newPage();

    // ── the citizen sends four documents, encrypted in the browser ─────────────────────────
    await login(citizen, 'citizen', 'erika');
    await citizen.getByLabel('Behörde (Kennung)').fill(authorityA);
    await citizen.getByLabel('Behörde (Kennung)').blur();
    await citizen.getByTestId('authority-name').waitFor(WAIT);
    await citizen.getByLabel('Dokumentart').fill('BAUANTRAG');
    for (const ref of Object.keys(files) as Ref[]) {
      await citizen.getByLabel('Aktenzeichen').fill(ref);
      await citizen.locator('#upload-file').setInputFiles(join(work, `${ref}.pdf`));
      await citizen.getByRole('button', { name: 'Verschlüsseln und senden' }).click();
      await citizen.getByTestId('upload-success').filter({ hasText: ref }).waitFor(WAIT);
      ids[ref] = (await row(citizen, ref).first().getAttribute('data-document-id'))!;
    }
    expect(Object.values(ids).every((id) => /^[0-9a-f-]{36}$/.test(id))).toBe(true);

    // with claimDeadline PT2S all four become overdue
    await pollUntil(async () => (await api.officialA.listDocuments({ overdue: true, limit: 100 })).items.length === 4, {
      timeoutMs: 30_000,
      what: 'four overdue documents',
    });

    // ── the official: the overdue inbox ───────────────────────────────────────────────────
    await login(official, 'official', 'sachbearbeiter-1', authorityA);
    await official.getByRole('heading', { level: 1, name: 'Posteingang' }).waitFor(WAIT);
    await official.getByTestId('document-row').first().waitFor(WAIT);
    // the inbox may re-render from a live update while the box is clicked: click until the filter is on
    const overdueOnly = official.getByLabel('Nur überfällige Dokumente');
    await pollUntil(
      async () => {
        if (!(await overdueOnly.isChecked())) await overdueOnly.click();
        return /[?&]overdue=true/.test(official.url());
      },
      { what: 'the overdue filter on' },
    );
    await official.getByRole('heading', { name: 'Überfällige Dokumente' }).waitFor(WAIT);
    await official.waitForURL(/[?&]overdue=true/);
    await pollUntil(async () => (await official.getByTestId('document-row').count()) === 4, {
      timeoutMs: 20_000,
      what: 'four rows in the overdue inbox',
    });
    expect(await official.getByTestId('overdue-badge').count()).toBe(4);
    await snap(official, 'official-overdue-inbox');

    // accept CASE-1: not before the official holds a conversation of it
    await open(official, 'CASE-1');
    await official.getByTestId('overdue-alert').waitFor(WAIT);
    await official.getByText('Erst einen Vorgang übernehmen').waitFor(WAIT);
    // re-routing is for admins only
    expect(await official.getByRole('heading', { name: 'Zuordnung' }).count()).toBe(0);
    await snap(official, 'official-document-overdue');
    await writeToCitizen(official, 'Wir haben Ihren Antrag erhalten.');
    await official.getByRole('radio', { name: 'Annehmen' }).check();
    await official.getByRole('button', { name: 'Dokument annehmen' }).click();
    await decision(official, 'ACCEPTED').waitFor(WAIT);
    await official.locator('[data-step=ACCEPTED][aria-current=step]').waitFor(WAIT);
    await official.locator('[data-testid=history] [data-state=ACCEPTED]').waitFor(WAIT);
    await snap(official, 'official-accepted');
    expect((await api.officialA.getDocument(ids['CASE-1'])).status).toBe('ACCEPTED');

    // reject CASE-2 with a note for the citizen
    await toInbox(official);
    await open(official, 'CASE-2');
    await writeToCitizen(official, 'Zu Ihrem Antrag:');
    await official.getByRole('radio', { name: 'Ablehnen' }).check();
    await official.locator('#reject-reason').selectOption('OTHER');
    await official.getByRole('button', { name: 'Dokument ablehnen' }).click();
    // "other" needs its reason in the note: the form says so at the field
    await official.getByText('Bitte nennen Sie bei „Anderer Grund“ den Grund in der Notiz.').waitFor(WAIT);
    expect(await official.locator('#reject-note').getAttribute('aria-invalid')).toBe('true');
    await snap(official, 'official-reject-form-error');
    await official.locator('#reject-reason').selectOption('INCOMPLETE');
    await official.locator('#reject-note').fill(note);
    await official.getByRole('button', { name: 'Dokument ablehnen' }).click();
    await decision(official, 'REJECTED').waitFor(WAIT);
    await snap(official, 'official-rejected');
    const rejected = await api.officialA.getDocument(ids['CASE-2']);
    expect(rejected.status).toBe('REJECTED');
    expect(rejected.rejection?.reasonCode).toBe('INCOMPLETE');
    // a JWE for the citizen, not the text
    expect(rejected.rejection?.note?.split('.')).toHaveLength(5);

    // forward CASE-3 to the second authority, decrypted and re-encrypted in this browser
    await toInbox(official);
    await open(official, 'CASE-3');
    await writeToCitizen(official, 'Wir leiten Ihr Dokument weiter.');
    await official.getByLabel('Privater Schlüssel (JWK-Datei)').setInputFiles(join(work, `${authorityA}.private.jwk`));
    await official.getByRole('radio', { name: 'An andere Behörde weiterleiten' }).check();
    await official.locator('#forward-target').fill(authorityA);
    await official.locator('#forward-target').blur();
    await official.getByText('Das ist Ihre eigene Behörde.', { exact: false }).waitFor(WAIT);
    await official.locator('#forward-target').fill(authorityB);
    await official.locator('#forward-target').blur();
    await official.getByTestId('forward-target-name').filter({ hasText: 'Landratsamt Beispielkreis' }).waitFor(WAIT);
    await snap(official, 'official-forward-form');
    await official.getByRole('button', { name: 'Neu verschlüsseln und weiterleiten' }).click();
    await decision(official, 'FORWARDED').waitFor(WAIT);
    await snap(official, 'official-forwarded');
    const forwardedTo = (await api.officialA.getDocument(ids['CASE-3'])).forwardedTo!;
    expect(forwardedTo).toMatch(/^[0-9a-f-]{36}$/);

    // ── an admin routes CASE-4 again after a rule change ─────────────────────────────────
    await api.adminA.createUnit(authorityA, { id: 'bauamt', name: 'Bauamt' });
    await api.adminA.createRoutingRule(authorityA, {
      priority: 10,
      conditions: { referenceNumberPrefix: 'CASE-4' },
      targetUnitId: 'bauamt',
    });
    // a rule changes only what comes after it
    expect((await api.adminA.getDocument(ids['CASE-4'])).unitId).toBe('poststelle');
    await login(admin, 'admin', 'admin-1', authorityA);
    await admin.getByRole('link', { name: 'Posteingang' }).click();
    await open(admin, 'CASE-4');
    await admin.getByRole('button', { name: 'Erneut zuordnen' }).click();
    await admin.locator('[data-testid=reroute-result][data-outcome=ROUTED][data-changed=true]').waitFor(WAIT);
    await admin.getByText('Neu zugeordnet: bauamt').waitFor(WAIT);
    await snap(admin, 'admin-rerouted');
    expect((await api.adminA.getDocument(ids['CASE-4'])).unitId).toBe('bauamt');

    // ── the citizen: the decisions ───────────────────────────────────────────────────────
    await citizen.getByRole('link', { name: 'Meine Dokumente' }).click();
    await open(citizen, 'CASE-1');
    await decision(citizen, 'ACCEPTED').waitFor(WAIT);
    await citizen.getByText('Ihr Dokument wurde angenommen').waitFor(WAIT);
    await citizen.locator('[data-step=ACCEPTED][aria-current=step]').waitFor(WAIT);
    // the steps it went through before the decision, from the history
    expect(await citizen.locator('.timeline__step').evaluateAll((els) => els.map((e) => e.getAttribute('data-step')))).toEqual([
      'RECEIVED',
      'ROUTED',
      'ASSIGNED',
      'ACCEPTED',
    ]);
    await citizen.locator('[data-testid=history] [data-state=ACCEPTED]').filter({ hasText: 'durch Sachbearbeitung' }).waitFor(WAIT);
    // the receipt, verified in the browser against the platform's keys (through the web server)
    await citizen.getByTestId('receipt-verified').waitFor(WAIT);
    await expect(citizen.getByTestId('receipt-claims').textContent()).resolves.toContain(ids['CASE-1']);
    const [download] = await Promise.all([
      citizen.waitForEvent('download'),
      citizen.getByRole('button', { name: 'Empfangsbestätigung herunterladen' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe(`empfangsbestaetigung-${ids['CASE-1']}.jws`);
    const saved = (await readFile((await download.path())!, 'utf8')).trim();
    // the downloaded file verifies outside the browser, too
    const outside = await verifyReceipt(saved, new URL(`${p.gateway}/.well-known/jwks.json`), {
      issuer: p.gateway,
      expected: { documentId: ids['CASE-1'], authorityId: authorityA },
    });
    expect(outside.claims.payload.sha256).toBe((await api.citizen.getDocument(ids['CASE-1'])).payload.sha256);
    await snap(citizen, 'citizen-accepted-receipt');

    // the rejection: reason and the note, decrypted with the reply key that never left this browser
    await citizen.getByRole('link', { name: 'Zurück zu meinen Dokumenten' }).click();
    await open(citizen, 'CASE-2');
    await citizen.locator('[data-testid=rejection-reason][data-reason=INCOMPLETE]').waitFor(WAIT);
    await expect(citizen.getByTestId('rejection-note').textContent()).resolves.toBe(note);
    await citizen.locator('[data-step=REJECTED][aria-current=step]').waitFor(WAIT);
    await snap(citizen, 'citizen-rejected');
    // a phone's width: nothing wider than the screen
    await citizen.setViewportSize({ width: 320, height: 900 });
    await citizen.getByTestId('rejection-note').waitFor(WAIT);
    expect(await citizen.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(320);
    await snap(citizen, 'citizen-rejected-320px');
    await citizen.setViewportSize({ width: 1280, height: 900 });

    // the forward: a link to the new document at the responsible authority, and back
    await citizen.getByRole('link', { name: 'Zurück zu meinen Dokumenten' }).click();
    // two rows say CASE-3 now: the original and, newer, the forwarded one at the target authority
    await pollUntil(async () => (await row(citizen, 'CASE-3').count()) === 2, { timeoutMs: 20_000, what: 'both CASE-3 rows' });
    await citizen.locator(`[data-testid=document-row][data-document-id="${ids['CASE-3']}"]`).getByRole('link').first().click();
    await decision(citizen, 'FORWARDED').waitFor(WAIT);
    await snap(citizen, 'citizen-forwarded');
    await citizen.getByTestId('forwarded-to').click();
    await citizen.waitForURL(new RegExp(`/citizen/documents/${forwardedTo}$`));
    await citizen.getByTestId('forwarded-from').filter({ hasText: authorityB }).waitFor(WAIT);
    await citizen.getByTestId('receipt-verified').waitFor(WAIT);
    await expect(citizen.getByTestId('receipt-claims').textContent()).resolves.toContain(authorityB);
    await snap(citizen, 'citizen-forwarded-new-document');
    await citizen.getByTestId('forwarded-from').getByRole('link').click();
    await citizen.waitForURL(new RegExp(`/citizen/documents/${ids['CASE-3']}$`));
    await decision(citizen, 'FORWARDED').waitFor(WAIT);

    // ── the target authority opens the forwarded file to the identical bytes ────────────
    await login(officialB, 'official', 'sachbearbeiter-b', authorityB);
    // the target's staff see the new document only
    await row(officialB, 'CASE-3').first().waitFor(WAIT);
    expect(await officialB.getByTestId('document-row').count()).toBe(1);
    await open(officialB, 'CASE-3');
    expect(officialB.url()).toContain(`/official/documents/${forwardedTo}`);
    await officialB.getByTestId('forwarded-from').waitFor(WAIT);
    await officialB.getByLabel('Privater Schlüssel (JWK-Datei)').setInputFiles(join(work, `${authorityB}.private.jwk`));
    await officialB.getByRole('button', { name: 'Herunterladen und entschlüsseln' }).click();
    await officialB.getByTestId('decrypted-file').waitFor(WAIT);
    expect((await officialB.getByTestId('decrypted-sha256').textContent())?.trim()).toBe(sha256(files['CASE-3']));
    await snap(officialB, 'target-official-decrypted');

    // receipts were verified with keys from the app's own origin (CSP connect-src 'self')
    expect(receiptKeyRequests.length).toBeGreaterThan(0);
    expect(receiptKeyRequests.every((u) => u.startsWith(`http://127.0.0.1:${p.ports.web}/`))).toBe(true);
    expect(leaks).toEqual([]);
    expect(violations).toEqual([]);
  }, 420_000);
});

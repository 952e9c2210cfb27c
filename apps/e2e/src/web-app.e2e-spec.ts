import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:http';
import AxeBuilder from '@axe-core/playwright';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { DvdClient, generateAuthorityKeyPair, generateReplyKeyPair } from '@dvd/sdk';
import { startExportReceiver } from '@dvd/sdk/node';
import { freePort } from '@dvd/testing';
import { ROOT, RunningPlatform, startPlatform } from './platform-process';

const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const SHOTS = join(ROOT, 'test-results', 'web');
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const WAIT = { timeout: 60_000 };

/**
 * The browser app in Debian's Chromium (headless), two browser contexts: a citizen sends a
 * 5 MiB file encrypted in the browser, an official claims, decrypts it to the identical bytes
 * and replies; the citizen reads the decrypted reply as it arrives (live, through the event
 * stream: no reload, no click on "Refresh"), and the official's inbox shows another citizen's
 * new upload by itself; the official exports and sees it COMPLETED. No request ever carries the file's bytes; axe finds no serious or critical
 * violation on any page; each step is screenshotted to test-results/web/.
 */
describe('browser app', () => {
  let p: RunningPlatform;
  let browser: Browser;
  let work: string;
  let receiver: Server;
  const authority = `web-${randomBytes(3).toString('hex')}`;
  const file = randomBytes(5 * 1024 * 1024);
  const leaks: string[] = [];
  const violations: string[] = [];
  let shot = 0;

  const snap = async (page: Page, name: string) => {
    await page.screenshot({ path: join(SHOTS, `${String(++shot).padStart(2, '0')}-${name}.png`), fullPage: true });
    const axe = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
    for (const v of axe.violations)
      if (v.impact === 'serious' || v.impact === 'critical') violations.push(`${name}: ${v.id} (${v.impact})`);
  };

  /** Every request body the browser sends is checked for slices of the plaintext file. */
  const watch = (context: BrowserContext) => {
    const probes = [file.subarray(0, 64), file.subarray(2 * 1024 * 1024, 2 * 1024 * 1024 + 64), file.subarray(file.length - 64)];
    context.on('request', (req) => {
      const body = req.postDataBuffer();
      if (body && probes.some((probe) => body.includes(probe))) leaks.push(`${req.method()} ${req.url()}`);
    });
  };

  const login = async (page: Page, role: 'citizen' | 'official', sub: string) => {
    await page.goto(`http://127.0.0.1:${p.ports.web}/`);
    await page.locator(`#role-${role}`).check();
    await snap(page, `start-${role}`);
    await page.getByRole('button', { name: 'Anmelden' }).click();
    await page.locator('#sub').waitFor(WAIT);
    await page.locator('#sub').fill(sub);
    if (role === 'official') {
      await page.locator('#role').selectOption('official');
      await page.locator('#authority').fill(authority);
    }
    await page.getByRole('button', { name: 'Anmelden' }).click();
    await page.getByRole('button', { name: 'Abmelden' }).waitFor(WAIT);
  };

  beforeAll(async () => {
    await mkdir(SHOTS, { recursive: true });
    p = await startPlatform();
    work = await mkdtemp(join(tmpdir(), 'dvd-web-'));
    const api = `${p.gateway}/api/v1`;
    const secret = `whsec_${randomBytes(32).toString('base64')}`;
    const port = await freePort();
    receiver = await startExportReceiver({ port, secrets: secret, outDir: join(work, 'received') });
    const platformAdmin = new DvdClient({ baseUrl: api, token: await p.token({ role: 'platform-admin', authority }) });
    await platformAdmin.createAuthority({
      id: authority,
      name: 'Bauamt im Browser',
      ingestUrl: `http://127.0.0.1:${port}/ingest`,
      ingestSecret: secret,
      retentionPeriod: 'P30D',
    });
    await platformAdmin.createUnit(authority, { id: 'poststelle', name: 'Poststelle' });
    const pair = await generateAuthorityKeyPair({ alg: 'ECDH-ES+A256KW' });
    await platformAdmin.addAuthorityKey(authority, pair.publicJwk);
    await writeFile(join(work, 'authority.private.jwk'), JSON.stringify(pair.privateJwk), { mode: 0o600 });
    await writeFile(join(work, 'bauantrag.pdf'), file);
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
    await new Promise((r) => (receiver ? receiver.close(r) : r(undefined)));
    await p?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('citizen sends, official decrypts and replies, citizen reads, official exports', async () => {
    const citizenContext = await browser.newContext({ acceptDownloads: true, locale: 'de-DE' });
    const officialContext = await browser.newContext({ acceptDownloads: true, locale: 'de-DE' });
    watch(citizenContext);
    watch(officialContext);
    const citizen = await citizenContext.newPage();
    const official = await officialContext.newPage();

    // the citizen sends the file, encrypted in the browser
    await login(citizen, 'citizen', 'alice');
    await citizen.getByLabel('Behörde (Kennung)').fill(authority);
    await citizen.getByLabel('Behörde (Kennung)').blur();
    await citizen.getByTestId('authority-name').waitFor(WAIT);
    await citizen.getByLabel('Aktenzeichen').fill('BAU-2026/0815');
    await citizen.getByLabel('Dokumentart').fill('BAUANTRAG');
    await citizen.locator('#upload-file').setInputFiles(join(work, 'bauantrag.pdf'));
    await snap(citizen, 'citizen-upload-form');
    await citizen.getByRole('button', { name: 'Verschlüsseln und senden' }).click();
    await citizen.getByText('Dokument gesendet').first().waitFor(WAIT);
    await snap(citizen, 'citizen-sent');

    // and writes to the authority about it
    await citizen.getByTestId('document-row').first().getByRole('link').first().click();
    await citizen.getByRole('textbox', { name: 'Nachricht', exact: true }).fill('Guten Tag, anbei mein Bauantrag.');
    await citizen.getByRole('button', { name: 'Nachricht senden' }).click();
    await citizen.getByText('Ihre Nachricht wurde verschlüsselt gesendet.').waitFor(WAIT);
    await snap(citizen, 'citizen-document');
    await citizen.locator('[data-testid=live-indicator][data-status=live]').waitFor(WAIT);
    await citizen.evaluate(() => ((globalThis as unknown as { notReloaded: boolean }).notReloaded = true));

    // the official opens it with the authority's key (a file, never sent)
    await login(official, 'official', 'sachbearbeiter-1');
    await official.getByTestId('document-row').first().waitFor(WAIT);
    await official.locator('[data-testid=live-indicator][data-status=live]').waitFor(WAIT);
    await snap(official, 'official-inbox');

    // live: another citizen's upload appears in the open inbox without a reload or a click
    await official.evaluate(() => ((globalThis as unknown as { notReloaded: boolean }).notReloaded = true));
    const bob = new DvdClient({ baseUrl: `${p.gateway}/api/v1`, token: await p.token({ role: 'citizen', sub: 'bob' }) });
    await bob.sendDocument({
      file: randomBytes(1024),
      metadata: {
        referenceNumber: 'BAU-2026/0900',
        authorityId: authority,
        documentType: 'BAUANTRAG',
        replyKey: (await generateReplyKeyPair()).publicJwk as never,
      },
    });
    await official.getByTestId('document-row').filter({ hasText: 'BAU-2026/0900' }).waitFor(WAIT);
    expect(await official.evaluate(() => (globalThis as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    await snap(official, 'official-inbox-live');
    await official.getByTestId('document-row').filter({ hasText: 'BAU-2026/0815' }).getByRole('link').first().click();
    await official.getByLabel('Privater Schlüssel (JWK-Datei)').setInputFiles(join(work, 'authority.private.jwk'));
    await official.getByRole('button', { name: 'Herunterladen und entschlüsseln' }).click();
    await official.getByTestId('decrypted-file').waitFor(WAIT);
    expect((await official.getByTestId('decrypted-sha256').textContent())?.trim()).toBe(sha256(file));
    const [download] = await Promise.all([
      official.waitForEvent('download'),
      official.getByRole('button', { name: 'Datei speichern' }).click(),
    ]);
    const saved = await readFile((await download.path())!);
    expect(Buffer.compare(saved, file)).toBe(0);
    await snap(official, 'official-decrypted');

    // claims the conversation, reads the citizen's message and replies, encrypted to the citizen's reply key
    await official.getByRole('button', { name: 'Übernehmen' }).first().click();
    await official.getByText('Guten Tag, anbei mein Bauantrag.').waitFor(WAIT);
    await official
      .getByLabel(/Antwort an die Bürgerin/)
      .first()
      .fill('Danke, bitte reichen Sie noch den Lageplan nach.');
    await official.getByRole('button', { name: 'Senden', exact: true }).first().click();
    await official.getByText('Nachricht gesendet.').waitFor(WAIT);

    // the citizen reads the reply, decrypted with the key that never left the browser — live:
    // the page open since before the reply shows it without a reload or a click on "Refresh"
    await citizen.getByText('Danke, bitte reichen Sie noch den Lageplan nach.').waitFor(WAIT);
    expect(await citizen.evaluate(() => (globalThis as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    expect(await citizen.getByTestId('live-announcer').textContent()).toBe('Neue Nachricht eingegangen.');
    await snap(citizen, 'citizen-reads-reply');

    // the official exports the case and sees it completed
    await official.getByRole('button', { name: 'Export anfordern' }).click();
    await official.locator('[data-testid=export-status][data-status=COMPLETED]').waitFor({ timeout: 90_000 });
    await snap(official, 'official-export-completed');

    expect(leaks).toEqual([]);
    expect(violations).toEqual([]);
    await citizenContext.close();
    await officialContext.close();
  }, 300_000);
});

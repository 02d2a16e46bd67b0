// Browser tests of attachments (CASE-6): a real (Debian) Chromium driven by playwright-core
// against `tobira serve`, whose file store is its data directory behind the same contract as S3
// (a signed form the page posts the file to, straight to the store; the store's redirect to the
// confirmation; signed, short-lived download links).
//
// Run through scripts/test.sh, or by hand:
//   TOBIRA_BIN=target/debug/tobira node --test tests/browser/attachments.test.mjs
//
// The demo's tenant admin (admin@example.co.jp, created in the portal: it files cases here) files
// a case and attaches a file with JavaScript off (the plain form), finds it on the case and
// downloads it: the bytes and the Japanese name are the uploaded ones. With JavaScript on, the
// portal's script uploads with a progress bar. A user of another tenant (legacy.argon, tenant
// econ2000000001, set up through the identity check) gets 404 for the download. Tests run in
// order and share one journey; every page is seen at 360 px and kept as
// tests/browser/artifacts/attachments-*.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { clickAndWait, journeySteps } from './support.mjs';
import { defaultsFile } from './flows.mjs';

// src/lib.rs DEMO_ADMIN, DEMO_ADMIN_PASSWORD: e-mail codes, terms at the first sign-in.
const ADMIN = { email: 'admin@example.co.jp', loginId: 'admin@example.co.jp', password: 'Kanri-Door-5183' };
// demo/legacy-users.jsonl: a migrated user of another tenant.
const OTHER = {
  email: 'legacy.argon@example.jp',
  loginId: 'legacy.argon@example.jp',
  name: 'Legacy Argon',
  phone: '09000000012',
  password: 'Hoshi-Kawa-7315',
};

// Bytes no text decoding would keep: a NUL, bytes over 0x7f, CR LF.
const FILE = {
  name: '月次レポート 2026年11月.pdf',
  mimeType: 'application/pdf',
  buffer: Buffer.concat([Buffer.from('%PDF-1.4\r\n'), Buffer.from([0, 1, 2, 0xff, 0xfe, 0x80]), Buffer.from('\r\n%%EOF\r\n')]),
};
const SCRIPTED = { name: 'log-2026-11.csv', mimeType: 'text/csv', buffer: Buffer.from('time,event\n12:00,reboot\n') };

const {
  live, expectPage, shoot, newContext, signInWithMailedCode, acceptTerms, setupLinksFor, firstTimeSetup, signIn,
  enrolEmail,
} = defaultsFile('attachments', (port) => ({
  // The file store on another site than the portal (http://127.0.0.1:port), as S3 is: the
  // form posts cross-site, the store's redirect comes back cross-site (where a browser holds
  // the SameSite=Strict session cookie back), the script's upload needs the store's CORS.
  TOBIRA_LOCAL_FILES_ORIGIN: `http://localhost:${port}`,
}));

const journey = { context: null, page: null, id: null, href: null, failed: false };
const step = journeySteps(journey, 'attachments', shoot);

test('CASE-6: a file attached without JavaScript is on the case and downloads as uploaded', { timeout: 180_000 }, async () => {
  journey.context = await newContext({ locale: 'ja-JP', acceptDownloads: true });
  journey.page = await journey.context.newPage();
  await step('file a case', async (page) => {
    await signInWithMailedCode(page, ADMIN, ['00-challenge', '01-code-sent']);
    await acceptTerms(page, ['02-terms', '03-dashboard']);
    await page.goto(`${live.server.baseUrl}/cases/new`);
    await expectPage(page, '/cases/new', '04-new-case');
    assert.ok(await page.locator('#attach-after-filing').isVisible(), 'the form says where files are attached');
    await page.check('input[name="kind"][value="inquiry"]');
    await page.selectOption('#category', { index: 1 });
    await page.fill('#subject', '月次レポートの確認');
    await page.fill('#body', 'レポートを添付します。');
    await clickAndWait(page, '#submit-case');
    const url = new URL(page.url());
    journey.id = url.pathname.split('/')[2];
    await expectPage(page, `/cases/${journey.id}`, '05-case');
  });
  await step('attach', async (page) => {
    const form = page.locator('#attach-form');
    assert.equal(await form.getAttribute('enctype'), 'multipart/form-data');
    const store = live.server.baseUrl.replace('127.0.0.1', 'localhost');
    assert.equal(await form.getAttribute('action'), `${store}/_files/upload`, 'the form posts to the file store');
    assert.match(await page.locator('#attach-hint').innerText(), /2\.1 GB/);
    await page.setInputFiles('#attach-file', FILE);
    // The store's redirect to the confirmation: with or without the session cookie, the file
    // ends on the case (without it, a page of the portal's own sends the browser on).
    const confirmations = [];
    page.on('response', (r) => { if (r.url().includes('/uploads/confirm')) confirmations.push(r.status()); });
    await clickAndWait(page, '#attach-submit');
    await page.waitForURL(/notice=attachment_added/);
    await expectPage(page, `/cases/${journey.id}`, '06-attached');
    // Chromium sends the Strict cookie after the store's redirect (303 at once); a browser that
    // holds it back gets the page that sends it on (200, then 303: tests/api/cases_attachments.rs).
    assert.ok(confirmations.at(-1) === 303, `the confirmation answered ${JSON.stringify(confirmations)}`);
    assert.equal(new URL(page.url()).searchParams.get('notice'), 'attachment_added');
    const link = page.locator('#comments a.attachment', { hasText: FILE.name });
    assert.equal(await link.count(), 1, 'the file is on the case');
    journey.href = await link.getAttribute('href');
  });
  await step('download', async (page) => {
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('#comments a.attachment', { hasText: FILE.name }).click(),
    ]);
    assert.equal(download.suggestedFilename(), FILE.name, 'saved under its Japanese name');
    const bytes = await readFile(await download.path());
    assert.deepEqual(bytes, FILE.buffer, 'the downloaded bytes are the uploaded ones');
  });
});

test('CASE-6: with the portal\'s script, the upload shows its progress and lands on the case', { timeout: 60_000 }, async () => {
  await step('scripted upload', async () => {
    // The same session (cookies) in a context with JavaScript on.
    const state = await journey.context.storageState();
    const context = await newContext({ locale: 'ja-JP', javaScriptEnabled: true, storageState: state });
    try {
      const page = await context.newPage();
      await page.goto(`${live.server.baseUrl}/cases/${journey.id}`);
      await expectPage(page, `/cases/${journey.id}`, '07-case-scripted', { shot: false });
      assert.ok(await page.locator('#attach-progress').isHidden(), 'no progress bar before an upload');
      // The progress bar's values while the file goes up (the page leaves when it is done).
      const progress = [];
      await page.exposeFunction('tobiraProgress', (v) => progress.push(v));
      await page.evaluate(() => {
        const bar = document.getElementById('attach-progress');
        new MutationObserver(() => { if (!bar.hidden) window.tobiraProgress(bar.value); })
          .observe(bar, { attributes: true });
      });
      await page.setInputFiles('#attach-file', SCRIPTED);
      const asked = page.waitForRequest((r) => r.url().endsWith(`/api/cases/${journey.id}/uploads`));
      const uploaded = page.waitForResponse((r) => r.url().endsWith('/_files/upload'));
      await page.click('#attach-submit');
      await asked;
      assert.equal((await uploaded).status(), 201, 'the script posts to the store and gets its 201');
      await page.waitForURL(/notice=attachment_added/);
      assert.ok(progress.length > 0 && progress.at(-1) === 100, `the progress bar showed ${JSON.stringify(progress)}`);
      await expectPage(page, `/cases/${journey.id}`, '08-attached-scripted');
      assert.equal(await page.locator('#comments a.attachment', { hasText: SCRIPTED.name }).count(), 1);
    } finally {
      await context.close();
    }
  });
});

test('CASE-6: a user of another tenant gets 404 for the download', { timeout: 180_000 }, async () => {
  await step('other tenant', async () => {
    const context = await newContext({ locale: 'en-US' });
    try {
      const page = await context.newPage();
      await firstTimeSetup(page, OTHER, 'other', (await setupLinksFor(OTHER.email)).at(-1));
      await signIn(page, OTHER);
      await expectPage(page, '/enroll', '09-other-enrol', { shot: false });
      await enrolEmail(page, OTHER.email, ['10-other-email', '11-other-codes', '12-other-login']);
      await signInWithMailedCode(page, OTHER, ['13-other-challenge', '14-other-sent']);
      await acceptTerms(page, ['15-other-terms', '16-other-dashboard']);
      const res = await page.goto(`${live.server.baseUrl}${journey.href}`);
      assert.equal(res.status(), 404, 'another tenant\'s file is not found');
      const api = await page.request.get(`${live.server.baseUrl}/api${journey.href}`);
      assert.equal(api.status(), 404);
    } finally {
      await context.close();
    }
  });
});

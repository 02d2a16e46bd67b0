// Browser tests of the tenant admin's pages (ADM-1..5, ADM-8, issue 15): a real (Debian)
// Chromium driven by playwright-core against `tobira serve`, pages only (no JavaScript needed),
// links and codes read from the dev outbox.
//
// Run through scripts/test.sh, or by hand:
//   TOBIRA_BIN=target/debug/tobira node --test tests/browser/admin.test.mjs
//
// This file starts its own server with a fresh data dir and the default configuration. The
// demo's tenant admin (src/lib.rs DEMO_ADMIN: active, e-mail codes) signs in, creates a user,
// who sets the first password from the registration mail (RST-4), enrols the preset e-mail
// method and signs in; the admin disables the user (whose session ends and whose sign-in then
// fails) and enables them again; five wrong passwords lock the user (LOG-2), the admin sees
// "locked" and unlocks, and the user signs in. The admin works in Japanese, the user in
// English; both at 360 px. The journey is split into tests that run in order and share two
// browser contexts; a later one is skipped when an earlier one failed. Every page must fit
// 360 px and need no script (SES-3); every page is kept as tests/browser/artifacts/admin-*.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formErrorText, clickAndWait, journeySteps } from './support.mjs';
import { defaultsFile } from './flows.mjs';

// src/lib.rs DEMO_ADMIN / DEMO_ADMIN_PASSWORD: tenant econ1000000001, e-mail codes enrolled,
// the terms not yet accepted.
const ADMIN = {
  email: 'admin@example.co.jp',
  loginId: 'admin@example.co.jp',
  password: 'Kanri-Door-5183',
};

// The user the admin creates (ADM-1): English mails, e-mail codes preset (SET-4).
const USER = {
  name: 'Kimura Hanako',
  email: 'hanako.kimura@example.co.jp',
  loginId: 'hanako.kimura@example.co.jp',
  phone: '03-5555-1234',
  title: 'Manager',
  group: 'IT',
  password: 'Sora-Mizu-7315',
};

const {
  live, shoot, expectPage, newContext, mailedLink, firstPassword, signIn, enrolEmail, signInWithMailedCode,
  acceptTerms,
} = defaultsFile('admin');

const JAPANESE = { locale: 'ja-JP' };
const ENGLISH = { locale: 'en-US', extraHTTPHeaders: { 'Accept-Language': 'en-US,en;q=0.9' } };

async function statusOf(page) {
  return page.locator('#user-status').getAttribute('data-status');
}

// The list's line of `loginId`: its status word, or null when it is not listed.
async function listedStatus(page, loginId) {
  const line = page.locator(`#user-list li[data-login-id="${loginId}"]`);
  return (await line.count()) ? line.getAttribute('data-status') : null;
}

// A button of the user's page: the page again with `?notice=${notice}` and the user in `status`.
async function userAction(page, action, name, notice, status) {
  await clickAndWait(page, `#action-${action}`);
  await expectPage(page, journey.userPath, name);
  assert.equal(new URL(page.url()).searchParams.get('notice'), notice);
  assert.ok(await page.locator('p#form-notice').isVisible(), `the page says what was done (${notice})`);
  assert.equal(await statusOf(page), status);
}

// The user's sign-in with the mailed code, to the dashboard.
async function userSignsIn(page, prefix) {
  await signInWithMailedCode(page, USER, [`${prefix}-challenge`, `${prefix}-code-sent`]);
  await expectPage(page, '/', `${prefix}-dashboard`);
}

// ------------------------------------------------------------------ the journey

// What the tests hand on: the admin's page, the user's page, the user's page path.
const journey = { page: null, userPage: null, userPath: null, failed: false };
const step = journeySteps(journey, 'admin', shoot);
const userStep = async (name, fn) => step(name, () => fn(journey.userPage));

test('ADM-5: the demo admin signs in and sees the users of the tenant',
  { timeout: 120_000 }, async () => {
    journey.page = await (await newContext(JAPANESE)).newPage();
    await step('admin-sign-in', async (page) => {
      await signInWithMailedCode(page, ADMIN, ['00-challenge', '01-code-sent']);
      await acceptTerms(page, ['02-terms', '03-dashboard']);
      assert.equal(await page.locator('a#admin-users-link').getAttribute('href'), '/admin/users');
      assert.equal(await page.locator('a#admin-sign-ins-link').getAttribute('href'), '/admin/sign-ins');
      await clickAndWait(page, 'a#admin-users-link');
      await expectPage(page, '/admin/users', '04-users');
      assert.equal(await listedStatus(page, ADMIN.loginId), 'active');
      assert.equal(await listedStatus(page, 'taro.yamada@example.co.jp'), 'pending');
      // The search and the status filter (ADM-5).
      await page.fill('#q', 'taro');
      await page.selectOption('#status', 'pending');
      await clickAndWait(page, '#search');
      await expectPage(page, '/admin/users', '05-users-search');
      assert.equal(await listedStatus(page, 'taro.yamada@example.co.jp'), 'pending');
      assert.equal(await listedStatus(page, ADMIN.loginId), null);
      // The same list in English.
      await clickAndWait(page, '#lang-switch');
      await expectPage(page, '/admin/users', '06-users-en');
      assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
      assert.equal(await page.locator('#q').inputValue(), 'taro', 'the switch keeps the search');
      await clickAndWait(page, '#lang-switch');
      await expectPage(page, '/admin/users', '07-users-ja', { shot: false });
    });
  });

test('ADM-1: the admin creates a user; a refusal keeps what was typed; the mail goes out',
  { timeout: 60_000 }, async () => {
    await step('create', async (page) => {
      await page.goto(`${live.server.baseUrl}/admin/users`);
      await clickAndWait(page, 'a#new-user');
      await expectPage(page, '/admin/users/new', '10-new-user');
      assert.equal(await page.locator('#time_zone').inputValue(), 'Asia/Tokyo');
      await page.fill('#name', USER.name);
      await page.fill('#email', USER.email);
      await page.fill('#title', USER.title);
      await page.fill('#group', USER.group);
      await page.fill('#phone', '12'); // too short: the server refuses it
      await page.selectOption('#lang', 'en');
      await page.selectOption('#mfa_method', 'email');
      await clickAndWait(page, '#save-user');
      await expectPage(page, '/admin/users/new', '11-new-user-refused');
      assert.ok(await formErrorText(page), 'the refusal is shown in #form-error');
      assert.equal(await page.locator('#name').inputValue(), USER.name, 'the form keeps the name');
      assert.equal(await page.locator('#email').inputValue(), USER.email);
      assert.equal(await page.locator('#lang').inputValue(), 'en');
      await page.fill('#phone', USER.phone);
      await clickAndWait(page, '#save-user');
      await page.waitForURL((u) => /^\/admin\/users\/[0-9A-Z]{26}$/.test(u.pathname));
      journey.userPath = new URL(page.url()).pathname;
      await expectPage(page, journey.userPath, '12-user-created');
      assert.equal(new URL(page.url()).searchParams.get('notice'), 'user_created');
      assert.equal(await statusOf(page), 'pending');
      assert.equal((await page.locator('#user-login-id').innerText()).trim(), USER.loginId);
      assert.equal((await page.locator('#last-change-by').innerText()).trim(), ADMIN.loginId,
        'ADM-8: the last change names the admin');
      assert.equal(await page.locator('a#user-sign-ins').getAttribute('href'),
        `/admin/sign-ins?user_id=${journey.userPath.split('/').at(-1)}`);
      // The edit form with the user's values, at 360 px.
      await clickAndWait(page, 'a#edit-user');
      await expectPage(page, `${journey.userPath}/edit`, '13-edit-user');
      assert.equal(await page.locator('#title').inputValue(), USER.title);
      assert.ok(await page.locator('#identity-form').isVisible(), 'a pending user\'s e-mail may be corrected');
      await clickAndWait(page, 'a#back-to-user');
      await expectPage(page, journey.userPath, '14-user', { shot: false });
    });
  });

test('RST-4 SET-4: the user sets the first password from the mail, enrols e-mail codes, signs in',
  { timeout: 120_000 }, async () => {
    journey.userPage = await (await newContext(ENGLISH)).newPage();
    await userStep('user-setup', async (page) => {
      const link = await mailedLink(USER.email, '/password/reset?token=');
      await firstPassword(page, link, USER, ['20-first-password', '21-login']);
      await signIn(page, USER);
      await expectPage(page, '/enroll', '22-enroll-preset');
      await enrolEmail(page, USER.email, ['23-enroll-email', '24-recovery-codes', '25-login-enrolled']);
      await signInWithMailedCode(page, USER, ['26-challenge', '27-code-sent']);
      await acceptTerms(page, ['28-terms', '29-dashboard']);
      assert.equal(await page.locator('a#admin-users-link').count(), 0, 'a general user has no admin links');
    });
    await step('user-active', async (page) => {
      await page.goto(`${live.server.baseUrl}${journey.userPath}`);
      await expectPage(page, journey.userPath, '30-user-active');
      assert.equal(await statusOf(page), 'active');
    });
  });

test('ADM-3 LOG-1: the admin disables the user (signed out, sign-in refused) and enables them',
  { timeout: 120_000 }, async () => {
    await step('disable', async (page) => {
      await userAction(page, 'disable', '40-disabled', 'user_disabled', 'disabled');
      assert.ok(await page.locator('#action-enable').isVisible());
    });
    await userStep('disabled-user', async (page) => {
      // ADM-3: the session ended at once; the password no longer signs in.
      await page.goto(`${live.server.baseUrl}/`);
      await expectPage(page, '/login', '41-user-signed-out');
      await signIn(page, USER);
      await expectPage(page, '/login', '42-user-refused');
      assert.ok(await formErrorText(page), 'a disabled user\'s sign-in is refused (#form-error)');
    });
    await step('enable', async (page) => {
      await userAction(page, 'enable', '43-enabled', 'user_enabled', 'active');
    });
    await userStep('enabled-user', async (page) => {
      await userSignsIn(page, '44-user');
    });
  });

test('LOG-2 ADM-3: five wrong passwords lock the user; the admin sees "locked" and unlocks',
  { timeout: 120_000 }, async () => {
    await userStep('lock', async (page) => {
      await clickAndWait(page, '#logout');
      await expectPage(page, '/login', '50-signed-out', { shot: false });
      for (let i = 1; i <= 5; i += 1) {
        await signIn(page, USER, `Wrong-Pass-${i}0`);
        await expectPage(page, '/login', `51-wrong-${i}`, { shot: i === 5 });
      }
      await signIn(page, USER);
      await expectPage(page, '/login', '52-locked');
      assert.ok(await formErrorText(page), 'the locked user\'s right password is refused too');
    });
    await step('unlock', async (page) => {
      await page.goto(`${live.server.baseUrl}/admin/users?status=locked`);
      await expectPage(page, '/admin/users', '53-users-locked');
      assert.equal(await listedStatus(page, USER.loginId), 'locked');
      await page.goto(`${live.server.baseUrl}${journey.userPath}`);
      await expectPage(page, journey.userPath, '54-user-locked');
      assert.equal(await statusOf(page), 'locked');
      await userAction(page, 'unlock', '55-unlocked', 'user_unlocked', 'active');
    });
    await userStep('after-unlock', async (page) => {
      await userSignsIn(page, '56-user');
    });
  });

// ---------------------------------------------------------------- ADM-6: the sign-in history CSV
// ADM-6: the admin opens the user's sign-in history from the user's page, follows its CSV
// link and finds the user's attempts — the sign-ins above, the five wrong passwords and the
// refusal while locked — in a file that spreadsheet programs read (UTF-8 with a BOM).
test('ADM-6: the admin downloads the user\'s sign-in history as CSV', { timeout: 60_000 }, async () => {
  await step('history-csv', async (page) => {
    await page.goto(`${live.server.baseUrl}${journey.userPath}`);
    await clickAndWait(page, 'a#user-sign-ins');
    await expectPage(page, '/admin/sign-ins', '60-sign-ins');
    assert.ok(await page.locator('#sign-in-list li').count() >= 6, 'the page lists the attempts');
    const href = await page.locator('a#download-csv').getAttribute('href');
    const download = await page.context().request.get(new URL(href, page.url()).href);
    assert.equal(download.status(), 200, `GET ${href} answered ${download.status()}`);
    assert.match(download.headers()['content-type'], /^text\/csv/);
    assert.match(download.headers()['content-disposition'], /^attachment; filename="sign-ins-/);
    const bytes = await download.body();
    assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'a UTF-8 BOM first');
    const lines = bytes.subarray(3).toString('utf8').split('\r\n').filter((l) => l);
    assert.match(lines[0], /^"(日時|Time) \(Asia\/Tokyo\)"/);
    const rows = lines.filter((l) => l.includes(USER.loginId));
    assert.ok(rows.length >= 6, `the CSV holds the user's attempts; it has ${rows.length}:\n${lines.join('\n')}`);
    for (const outcome of [/"(成功|Succeeded)"/, /"(失敗|Failed)"/, /"(ロック中のため拒否|Refused: account locked)"/]) {
      assert.ok(rows.some((r) => outcome.test(r)), `a row ${outcome}:\n${rows.join('\n')}`);
    }
  });
});

// Accessibility and progressive enhancement (issue 16 items 11 and 12), in a real (Debian)
// Chromium through playwright-core against this file's own `tobira serve` with the demo data.
//
// - Every page a route serves with GET (web/src/routes.rs, all but the API) is seen in Japanese
//   and in English; every page seen goes through expectPage, which runs axe-core (WCAG 2.2 AA,
//   support.mjs) and fails on a serious or critical violation, keeps a screenshot
//   (tests/browser/artifacts/a11y-*.png) and checks 360 px; the last test holds the list of routes
//   to what was seen.
// - A refused form marks its fields (aria-invalid, aria-describedby) and focuses the first; the
//   QR code has a name and an otpauth:// link; new-password forms name the account.
// - With JavaScript on, the portal's own script adds a show-password button and the live
//   checklist; with it off (every other test) the pages work as they are.
//
// Run through scripts/test.sh, or by hand:
//   TOBIRA_BIN=target/debug/tobira node --test tests/browser/a11y.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ROOT, clickAndWait, freshTotp } from './support.mjs';
import { defaultsFile, TARO } from './flows.mjs';

const {
  live, expectPage, newContext, setupLinksFor, mailedLink, signIn, signInWithMailedCode,
} = defaultsFile('a11y');

// src/lib.rs DEMO_ADMIN: e-mail codes, the terms not yet accepted, files cases here.
const ADMIN = { email: 'admin@example.co.jp', loginId: 'admin@example.co.jp', password: 'Kanri-Door-5183' };
const LANGS = ['ja', 'en'];

// (route, lang) of every page seen, for the last test.
const seen = new Set();
const base = () => live.server.baseUrl;

// `route` (as routes.rs names it) at `url` in both languages, each through expectPage.
async function both(page, route, url, name) {
  for (const lang of LANGS) {
    const sep = url.includes('?') ? '&' : '?';
    await page.goto(`${base()}${url}${sep}lang=${lang}`);
    await expectPage(page, new URL(`${base()}${url}`).pathname, `${name}-${lang}`);
    assert.equal(await page.locator('html').getAttribute('lang'), lang);
    seen.add(`${route} ${lang}`);
  }
}

// The field in error: marked, described by the message, and (the first) focused.
async function assertMarked(page, selector, { focused = true } = {}) {
  const field = page.locator(selector);
  assert.equal(await field.getAttribute('aria-invalid'), 'true', `${selector} is aria-invalid`);
  assert.match(await field.getAttribute('aria-describedby') ?? '', /\bform-error\b/, `${selector} points at the message`);
  if (focused) assert.equal(await page.locator(`${selector}:focus`).count(), 1, `${selector} has the focus`);
}

test('every page before sign-in, in Japanese and English; a refused sign-in marks its fields', async () => {
  const context = await newContext({ locale: 'ja-JP' });
  try {
    const page = await context.newPage();
    await both(page, '/login', '/login', 'login');
    await both(page, '/password/forgot', '/password/forgot', 'forgot');
    await both(page, '/claim', '/claim', 'claim');
    await both(page, '/legal/terms', '/legal/terms', 'legal-terms');
    await both(page, '/legal/privacy', '/legal/privacy', 'legal-privacy');
    // RST-4: the registration link of the account an admin created (not used up by a GET).
    const link = new URL(await mailedLink('new.member@example.co.jp', '/password/reset?token='));
    await both(page, '/password/reset', `${link.pathname}${link.search}`, 'reset');
    assert.equal(await page.locator('#username').inputValue(), 'new.member@example.co.jp',
      'the new-password form names the account for password managers');
    assert.equal(await page.locator('#username').getAttribute('autocomplete'), 'username');
    await both(page, '/setup', '/setup?token=not-a-token', 'setup-invalid');
    // CLM-1: a proved legacy account's registration page (the claim is not registered).
    await page.goto(`${base()}/claim?lang=ja`);
    await page.fill('#service_id', 'ca1234567890');
    await page.fill('#password', 'Legacy-Pass1');
    await clickAndWait(page, 'form:has(#service_id) button[type="submit"]');
    await expectPage(page, '/claim/register', 'claim-register');
    await both(page, '/claim/register', '/claim/register', 'claim-register');
    // A refused sign-in: both fields marked (LOG-3 does not say which was wrong), the first focused.
    for (const lang of LANGS) {
      await page.goto(`${base()}/login?lang=${lang}`);
      await page.fill('#login_id', 'nobody@example.com');
      await page.fill('#password', 'Wrong-Pass-123');
      await clickAndWait(page, 'form:has(#login_id) button[type="submit"]');
      await expectPage(page, '/login', `login-refused-${lang}`);
      await assertMarked(page, '#login_id');
      await assertMarked(page, '#password', { focused: false });
    }
  } finally {
    await context.close();
  }
});

test('setup, enrolment and the challenge in both languages; the QR code has a name and a link', async () => {
  const context = await newContext({ locale: 'ja-JP' });
  try {
    const page = await context.newPage();
    const link = new URL((await setupLinksFor(TARO.email)).at(-1));
    await both(page, '/setup', `${link.pathname}${link.search}`, 'setup');
    // A refused identity check marks its fields and focuses the first.
    await page.fill('input[name="email"]', TARO.email);
    await page.fill('input[name="name"]', TARO.name);
    await page.fill('input[name="phone"]', '0999999999');
    await clickAndWait(page, 'form:has(input[name="email"]) button[type="submit"]');
    await expectPage(page, '/setup/verify', 'setup-refused');
    await assertMarked(page, 'input[name="email"]');
    await page.fill('input[name="phone"]', TARO.phone);
    await clickAndWait(page, 'form:has(input[name="email"]) button[type="submit"]');
    await expectPage(page, '/setup/password', 'setup-password');
    await both(page, '/setup/password', '/setup/password', 'setup-password');
    assert.equal(await page.locator('#username').inputValue(), TARO.email);
    // Two different passwords: the confirmation is the field in error.
    await page.fill('#password', TARO.password);
    await page.fill('#password_confirm', `${TARO.password}x`);
    await clickAndWait(page, 'form:has(#password_confirm) button[type="submit"]');
    await expectPage(page, '/setup/password', 'setup-password-mismatch');
    await assertMarked(page, '#password_confirm');
    assert.equal(await page.locator('#password[aria-invalid]').count(), 0, 'only the confirmation is blamed');
    await page.fill('#password', TARO.password);
    await page.fill('#password_confirm', TARO.password);
    await clickAndWait(page, 'form:has(#password_confirm) button[type="submit"]');
    await expectPage(page, '/login', 'setup-done');

    await signIn(page, { ...TARO, loginId: TARO.email });
    await expectPage(page, '/enroll', 'enroll');
    await both(page, '/enroll', '/enroll', 'enroll');
    // The code pages show while a code is on its way (an e-mail, an SMS to a typed number).
    await clickAndWait(page, '#choose-email');
    await expectPage(page, '/enroll/email', 'enroll-email');
    await both(page, '/enroll/email', '/enroll/email', 'enroll-email');
    await both(page, '/enroll/sms', '/enroll/sms', 'enroll-sms');
    await page.fill('#phone', '090-1234-5678');
    await clickAndWait(page, '#send-code');
    await expectPage(page, '/enroll/sms/verify', 'enroll-sms-verify');
    await both(page, '/enroll/sms/verify', '/enroll/sms/verify', 'enroll-sms-verify');
    // MFA-9: the same for a voice call, to a landline.
    await both(page, '/enroll/voice', '/enroll/voice', 'enroll-voice');
    await page.fill('#phone', '03-1234-5678');
    await clickAndWait(page, '#send-code');
    await expectPage(page, '/enroll/voice/verify', 'enroll-voice-verify');
    await both(page, '/enroll/voice/verify', '/enroll/voice/verify', 'enroll-voice-verify');
    // MFA-4 in English: the QR code is an image with a name, and the same key is a link.
    await page.goto(`${base()}/enroll?lang=en`);
    await clickAndWait(page, '#choose-totp');
    await expectPage(page, '/enroll/totp', 'enroll-totp-en');
    const qr = page.locator('#totp-qr');
    assert.equal(await qr.getAttribute('role'), 'img');
    assert.match(await qr.getAttribute('aria-label'), /QR code/);
    const otpauth = await page.locator('a#totp-link').getAttribute('href');
    const secret = (await page.locator('#totp-secret').innerText()).replace(/\s/g, '');
    assert.match(otpauth, new RegExp(`^otpauth://totp/.*secret=${secret}`), 'the link carries the shown key');
    // In Japanese, confirmed: the recovery codes.
    await page.goto(`${base()}/enroll?lang=ja`);
    await clickAndWait(page, '#choose-totp');
    await expectPage(page, '/enroll/totp', 'enroll-totp-ja');
    assert.match(await page.locator('#totp-qr').getAttribute('aria-label'), /QRコード/);
    const key = (await page.locator('#totp-secret').innerText()).replace(/\s/g, '');
    const totp = await freshTotp(key, 0);
    await page.fill('#code', totp.code);
    await clickAndWait(page, '#confirm');
    await expectPage(page, '/enroll/totp/confirm', 'recovery-codes-ja');
    await page.check('#recorded');
    await clickAndWait(page, '#ack');
    await expectPage(page, '/login', 'enrolled');
    await signIn(page, { ...TARO, loginId: TARO.email });
    await expectPage(page, '/login/mfa', 'challenge');
    await both(page, '/login/mfa', '/login/mfa', 'challenge');
    // A wrong code: the code field is marked and focused.
    await page.fill('#code', '000000');
    await clickAndWait(page, '#verify');
    await expectPage(page, '/login/mfa', 'challenge-refused');
    await assertMarked(page, '#code');
  } finally {
    await context.close();
  }
});

test('every signed-in and admin page in both languages; a refused case form marks the field', async () => {
  const context = await newContext({ locale: 'ja-JP' });
  try {
    const page = await context.newPage();
    await signInWithMailedCode(page, ADMIN, ['admin-challenge', 'admin-code-sent']);
    await expectPage(page, '/terms', 'terms');
    await both(page, '/terms', '/terms', 'terms');
    await page.check('#agree');
    await clickAndWait(page, '#accept');
    await expectPage(page, '/', 'dashboard');
    await both(page, '/', '/', 'dashboard');
    await both(page, '/cases/new', '/cases/new', 'case-new');
    // A blank text: only the text field is blamed, and focused.
    await page.goto(`${base()}/cases/new?lang=ja`);
    await page.check('#kind-inquiry');
    await page.selectOption('#category', 'その他');
    await page.fill('#subject', 'アクセシビリティの確認');
    await page.fill('#body', '   ');
    await clickAndWait(page, '#submit-case');
    await expectPage(page, '/cases/new', 'case-new-refused');
    await assertMarked(page, '#body');
    assert.equal(await page.locator('[aria-invalid]').count(), 1, 'only the text is blamed');
    await page.fill('#body', '画面の読み上げを確認しています。');
    await clickAndWait(page, '#submit-case');
    const id = new URL(page.url()).pathname.split('/')[2];
    await both(page, '/cases/{id}', `/cases/${id}`, 'case');
    await both(page, '/cases', '/cases', 'cases');
    await both(page, '/password/change', '/password/change', 'password-change');
    assert.equal(await page.locator('#username').inputValue(), ADMIN.loginId);
    await both(page, '/sign-ins', '/sign-ins', 'sign-ins');
    await both(page, '/admin/users', '/admin/users', 'admin-users');
    await both(page, '/admin/users/new', '/admin/users/new', 'admin-user-new');
    await both(page, '/admin/sign-ins', '/admin/sign-ins', 'admin-sign-ins');
    await page.goto(`${base()}/admin/users?lang=ja`);
    const user = await page.locator('a.user-link').first().getAttribute('href');
    await both(page, '/admin/users/{id}', user, 'admin-user');
    await both(page, '/admin/users/{id}/edit', `${user}/edit`, 'admin-user-edit');
  } finally {
    await context.close();
  }
});

// Issue 16 item 12: with JavaScript on, the portal's script enhances the new-password form.
test('with JavaScript on: show the password, and the checklist follows what is typed', async () => {
  const context = await newContext({ locale: 'en-US', javaScriptEnabled: true });
  const blocked = [];
  try {
    const page = await context.newPage();
    page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) blocked.push(m.text()); });
    const link = new URL(await mailedLink('new.member@example.co.jp', '/password/reset?token='));
    await page.goto(`${base()}${link.pathname}${link.search}&lang=en`);
    await expectPage(page, '/password/reset', 'js-reset');
    const reveal = page.locator('#password + button.reveal');
    await reveal.waitFor();
    assert.equal(await reveal.getAttribute('aria-pressed'), 'false');
    assert.equal(await reveal.getAttribute('aria-controls'), 'password');
    await page.fill('#password', 'abc');
    await reveal.click();
    assert.equal(await page.locator('#password').getAttribute('type'), 'text');
    assert.equal(await reveal.getAttribute('aria-pressed'), 'true');
    const state = (rule) => page.locator(`#password-rules li[data-rule="${rule}"]`).getAttribute('data-state');
    assert.equal(await state('length'), 'unmet');
    assert.equal(await state('lower'), 'met');
    assert.equal(await state('upper'), 'unmet');
    assert.equal(await state('digit'), 'unmet');
    assert.equal(await state('common'), null, 'PW-3 is checked by the server');
    await page.fill('#password', 'Hako-Tsuki-6241');
    for (const rule of ['length', 'lower', 'upper', 'digit', 'characters']) {
      assert.equal(await state(rule), 'met', rule);
    }
    assert.match(await page.locator('#password-rules-status').innerText(), /5 of 5 rules met/);
    await reveal.click();
    assert.equal(await page.locator('#password').getAttribute('type'), 'password');
    // WCAG 1.4.11: the fields' borders and the focus ring reach 3:1 against the page.
    const ratios = await page.evaluate(() => {
      const rgb = (c) => c.match(/\d+(\.\d+)?/g).slice(0, 3).map(Number);
      const lum = (c) => {
        const [r, g, b] = rgb(c).map((v) => { const s = v / 255; return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4; });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
      };
      const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
      const bg = getComputedStyle(document.querySelector('.card') ?? document.body).backgroundColor;
      const input = document.getElementById('password_confirm');
      const border = ratio(getComputedStyle(input).borderTopColor, bg);
      input.focus();
      const focus = ratio(getComputedStyle(input).outlineColor, bg);
      return { border, focus };
    });
    assert.ok(ratios.border >= 3, `input border contrast ${ratios.border.toFixed(2)} < 3`);
    assert.ok(ratios.focus >= 3, `focus ring contrast ${ratios.focus.toFixed(2)} < 3`);
    await expectPage(page, '/password/reset', 'js-reset-typed');
    assert.deepEqual(blocked, [], 'the CSP blocked nothing the page needs');
  } finally {
    await context.close();
  }
});

// Every page route, in both languages (routes.rs is the list; the API and the local outbox are not pages).
test('every GET page of the route table was seen in Japanese and English', async () => {
  const table = await readFile(path.join(ROOT, 'web', 'src', 'routes.rs'), 'utf8');
  const routes = [...table.matchAll(/r\([^,]+, "GET", "([^"]+)"/g)].map((m) => m[1])
    .filter((p) => !p.startsWith('/api/') && !p.startsWith('/static/'))
    // CASE-6: a download and the file store's way back answer 303, not a page.
    .filter((p) => !p.startsWith('/cases/{id}/attachments/') && !p.startsWith('/cases/{id}/uploads/'));
  assert.ok(routes.length > 20, `routes.rs lists the pages (${routes.length})`);
  const missing = routes.flatMap((r) => LANGS.map((l) => `${r} ${l}`)).filter((k) => !seen.has(k));
  assert.deepEqual(missing, [], 'pages not seen (and not checked by axe-core)');
});

// Browser tests of "forgot password" and the password change (RST-1, RST-5, PW-3, PW-5): a
// real (Debian) Chromium driven by playwright-core against `tobira serve`, pages only (no API
// calls), links and codes read from the dev outbox, TOTP codes computed from the shown key.
//
// Run through scripts/test.sh, or by hand:
//   TOBIRA_BIN=target/debug/tobira node --test tests/browser/reset.test.mjs
//
// This file starts its own server with a fresh data dir, so it may use the same demo users as
// the other files: saburo (the reset, Japanese, TOTP with a remembered device), hanako (the
// real user whose "forgot password" answer the unknown login ID's must equal, English, no
// JavaScript) and taro (the change from the dashboard, English, e-mail codes). Every page is
// seen at 360 px, must fit it and must need no script (SES-3); every page is kept as
// tests/browser/artifacts/reset-*.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  sleep, serverAndBrowserForFile, formErrorText, reachedPath, clickAndWait, totpAt, freshTotp,
  pageChecks, defaultsEnv, outboxOf, mailSummary,
} from './support.mjs';
import { flowsOf, SABURO, HANAKO, TARO } from './flows.mjs';

// RST-1: the "forgot password" answer takes at least this long, whatever matched.
const FORGOT_FLOOR_MS = 500;

// The mails of RST-1 and RST-5 / PW-5 (demo users are Japanese; either language is accepted).
const RESET_LINK_SUBJECT = /パスワード再設定のご案内|reset your password/i;
const RESET_NOTICE_SUBJECT = /パスワード再設定完了のお知らせ|your password was reset/i;
const CHANGE_NOTICE_SUBJECT = /パスワード変更のお知らせ|your password was changed/i;

// ------------------------------------------------------------------ server (see support.mjs)

// The server's defaults: a TOBIRA_* setting of the caller's shell (e.g. TOBIRA_FORGOT_MIN_MILLIS,
// TOBIRA_RESET_COOLDOWN_HOURS, TOBIRA_OTP_RESEND_SECONDS) must not change the flow.
const live = serverAndBrowserForFile({
  dataDirPrefix: 'tobira-browser-reset-',
  env: defaultsEnv(),
});
const { outbox, mailsAfter, mailedCode } = outboxOf(live);

// ------------------------------------------------------------------ outbox

// The /password/reset?token= link of a mail.
function resetLinkIn(mail) {
  const m = String(mail.text ?? '').match(/https?:\/\/[^\s<>"'）)\]]*\/password\/reset\?token=[^\s<>"'）)\]]+/);
  assert.ok(m, `the mail "${mail.subject}" has no /password/reset?token= link: ${JSON.stringify(mail.text)}`);
  return m[0];
}

// ------------------------------------------------------------------ pages

const { shoot, expectPage } = pageChecks('reset');

const {
  newContext, firstTimeSetup, signIn, enrolTotp, enrolEmail, signInWithMailedCode, acceptTerms,
} = flowsOf(live, { expectPage, outbox, mailedCode });

const JAPANESE = { locale: 'ja-JP' };
const ENGLISH = { locale: 'en-US', extraHTTPHeaders: { 'Accept-Language': 'en-US,en;q=0.9' } };

// The HTTP status of the page's document and how long the server took to answer it (from the
// request going out to the first byte back; for a redirected POST, of the last request).
async function documentTiming(page) {
  return page.evaluate(() => {
    const [nav] = performance.getEntriesByType('navigation');
    return { status: nav.responseStatus, serverMs: nav.responseStart - nav.requestStart };
  });
}

async function signOut(page, name) {
  await clickAndWait(page, '#logout');
  await expectPage(page, '/login', name);
}

// SES-1 / RST-5 / PW-5: the session of `page` is over: the dashboard sends it to the sign-in page.
async function expectSignedOut(page, name, why) {
  await page.goto(`${live.server.baseUrl}/`);
  if (!(await reachedPath(page, '/login'))) {
    await shoot(page, `${name}-unexpected`);
    assert.fail(`${why}: / must send to /login, but the page is ${page.url()}`);
  }
  await shoot(page, name);
}

// The codes of the checklist's unmet rules (li[data-unmet]), in order.
async function unmetRules(page) {
  return page.locator('#password-rules li[data-unmet]').evaluateAll((els) => els.map((e) => e.dataset.unmet));
}

// Fills the password form (new + confirm; current when given) and submits it.
async function submitPassword(page, password, current) {
  if (current !== undefined) await page.fill('#current_password', current);
  await page.fill('#password', password);
  await page.fill('#password_confirm', password);
  await clickAndWait(page, 'form:has(#password_confirm) button[type="submit"]');
}

// "Forgot password": fills the form and submits it; answers what the answer page shows.
async function askForLink(page, loginId, email, name) {
  await page.goto(`${live.server.baseUrl}/password/forgot`);
  await expectPage(page, '/password/forgot', `${name}-forgot`);
  await page.fill('#login_id', loginId);
  await page.fill('#email', email);
  await clickAndWait(page, 'form:has(#login_id) button[type="submit"]');
  await expectPage(page, '/password/forgot', `${name}-forgot-answer`);
  const { status, serverMs } = await documentTiming(page);
  assert.ok(serverMs >= FORGOT_FLOOR_MS - 1,
    `RST-1: the answer to ${loginId} must take at least ${FORGOT_FLOOR_MS} ms, it took ${serverMs.toFixed(1)} ms`);
  assert.equal(await page.locator('form:has(#login_id)').count(), 0, 'the answer page must not show the form again');
  assert.equal(await formErrorText(page), null, `the answer to ${loginId} must not be an error`);
  return {
    status,
    title: await page.title(),
    heading: (await page.locator('main h1').innerText()).trim(),
    message: (await page.locator('#message').innerText()).trim(),
  };
}

// Two browsers, "mine" and "other", with a page each, for `fn({ mine, page, page2, on })`; a
// failure is screenshotted (`failure-${label}`) on the page last named with `on(page)`.
async function inTwoBrowsers(options, label, fn) {
  const mine = await newContext(options);
  const other = await newContext(options);
  const page = await mine.newPage();
  const page2 = await other.newPage();
  let current = page;
  try {
    await fn({ mine, page, page2, on: (p) => { current = p; } });
  } catch (e) {
    await shoot(current, `failure-${label}`);
    throw e;
  } finally {
    await mine.close();
    await other.close();
  }
}

// ------------------------------------------------------------------ RST-1 / RST-5 (ja, 360 px)

test('RST-1/RST-5: forgot password → mail in the outbox → new password → sign in', { timeout: 240_000 }, async () => {
  // "mine": saburo's own browser, signed in with a remembered device the whole time;
  // "other": where the password is reset from.
  await inTwoBrowsers(JAPANESE, 'forgot', async ({ mine, page, page2, on }) => {
    // ---- saburo signed in with TOTP, the device remembered (as in mfa.test.mjs).
    await firstTimeSetup(page, SABURO, '00');
    await signIn(page, SABURO);
    await expectPage(page, '/enroll', '01-enroll-choice');
    let totp = await enrolTotp(page, ['02-enroll-totp', '03-recovery-codes', '04-login-enrolled']);
    const { secret } = totp;

    await signIn(page, SABURO);
    await expectPage(page, '/login/mfa', '05-challenge-totp');
    totp = await freshTotp(secret, totp.step);
    await page.fill('#code', totp.code);
    await page.check('#remember_device');
    await clickAndWait(page, '#verify');
    await acceptTerms(page, ['06-terms', '07-dashboard']);
    // The device is remembered: the next sign-in skips the second factor (MFA-7) ...
    await signOut(page, '08-signed-out');
    await signIn(page, SABURO);
    await expectPage(page, '/', '09-dashboard-remembered');
    const deviceCookies = (await mine.cookies()).filter((c) => /device/.test(c.name) && c.value);
    assert.ok(deviceCookies.length, 'MFA-7: a remembered-device cookie must be set');
    // ... and this session stays open while the password is reset elsewhere.

    // ---- RST-1: "forgot password" from the sign-in page, in another browser.
    on(page2);
    await page2.goto(`${live.server.baseUrl}/login`);
    await expectPage(page2, '/login', '10-login');
    await clickAndWait(page2, 'a[href="/password/forgot"]');
    await expectPage(page2, '/password/forgot', '11-forgot');
    assert.equal(await page2.locator('#login_id[required]').count(), 1, 'the login ID is asked for');
    assert.equal(await page2.locator('#email[required]').count(), 1, 'the e-mail is asked for');
    const since = (await outbox()).length;
    const answer = await askForLink(page2, SABURO.loginId, SABURO.email, '12');
    assert.equal(answer.status, 200);

    // The mail: one link, to the registered address.
    const linkMails = await mailsAfter(SABURO.email, since, RESET_LINK_SUBJECT);
    assert.equal(linkMails.length, 1, `RST-1: one reset mail, got ${mailSummary(linkMails)}`);
    const link = resetLinkIn(linkMails[0]);
    assert.ok(link.startsWith(`${live.server.baseUrl}/password/reset?token=`), `the link ${link} is not on --base-url`);

    // The link opens the password form; its URL holds the token, so no referrer leaves it.
    const res = await page2.goto(link);
    assert.equal(res.status(), 200);
    assert.equal(res.headers()['referrer-policy'], 'no-referrer',
      'the reset page (its URL holds the token) must answer Referrer-Policy: no-referrer');
    await expectPage(page2, '/password/reset', '13-reset-form');
    assert.ok(await page2.locator('#password-rules li').count() >= 6, 'the page lists the password rules');
    assert.deepEqual(await unmetRules(page2), [], 'nothing is marked unmet before a try');

    // PW-3: a common password is refused, and the checklist says why.
    await submitPassword(page2, 'Password1');
    await expectPage(page2, '/password/reset', '14-reset-weak');
    assert.ok(await formErrorText(page2), 'a weak password must be refused with #form-error');
    const unmet = await unmetRules(page2);
    assert.ok(unmet.includes('common'), `PW-3: "Password1" must mark "common" unmet, marked: ${JSON.stringify(unmet)}`);
    assert.equal(await page2.locator('#password-rules li[data-unmet="common"].unmet').count(), 1);

    // A strong one: the sign-in page says the password is reset.
    const afterReset = (await outbox()).length;
    await submitPassword(page2, SABURO.newPassword);
    await expectPage(page2, '/login', '15-login-reset');
    assert.equal(new URL(page2.url()).searchParams.get('notice'), 'reset');
    assert.ok(await page2.locator('.notice').isVisible(), 'the sign-in page must say that the password is reset');

    // The link works once.
    const again = await page2.goto(link);
    assert.ok(again.status() >= 400, `a used link must be refused, it answered ${again.status()}`);
    await expectPage(page2, '/password/reset', '16-reset-link-used');
    assert.equal(await page2.locator('#password').count(), 0, 'a used link must not show the password form');

    // RST-5: the notice mail.
    const notices = await mailsAfter(SABURO.email, afterReset, RESET_NOTICE_SUBJECT);
    assert.equal(notices.length, 1, `RST-5: one notice mail, got ${mailSummary(notices)}`);

    // ---- RST-5: saburo's own browser: the session is gone, the device no longer skips the challenge.
    on(page);
    await expectSignedOut(page, '17-session-ended', 'RST-5: the session from before the reset must be ended');
    assert.ok((await mine.cookies()).some((c) => deviceCookies.some((d) => d.name === c.name && d.value === c.value)),
      'the remembered-device cookie is still in the browser (so the challenge below is the server\'s doing)');
    await signIn(page, SABURO);
    await expectPage(page, '/login', '18-login-old-password');
    assert.ok(await formErrorText(page), 'the old password must be refused with #form-error');
    await signIn(page, SABURO, SABURO.newPassword);
    await expectPage(page, '/login/mfa', '19-challenge-after-reset');
    assert.equal(await page.locator('#code-form input[name="method"]').inputValue(), 'totp');
    totp = await freshTotp(secret, totp.step);
    await page.fill('#code', totp.code);
    await clickAndWait(page, '#verify');
    await expectPage(page, '/', '20-dashboard');
    assert.equal((await page.locator('#login-id').innerText()).trim(), SABURO.loginId);
    await signOut(page, '21-signed-out');
  });
});

// ------------------------------------------------------------------ RST-1: the same answer (en, 360 px, no JavaScript)

test('RST-1: unknown login ID gets the same page', { timeout: 120_000 }, async () => {
  const context = await newContext({ ...ENGLISH, javaScriptEnabled: false });
  const page = await context.newPage();
  try {
    // hanako has a password (an active user), so her entry mails a reset link.
    await firstTimeSetup(page, HANAKO, 'unknown-00');
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');

    let since = (await outbox()).length;
    const real = await askForLink(page, HANAKO.loginId, HANAKO.email, 'unknown-01-real');
    assert.equal(real.heading, 'Check your e-mail');
    const mailed = await mailsAfter(HANAKO.email, since, RESET_LINK_SUBJECT);
    assert.equal(mailed.length, 1, 'the real user is mailed a link');

    since = (await outbox()).length;
    const unknown = await askForLink(page, 'nobody.here@example.co.jp', HANAKO.email, 'unknown-02-unknown');
    assert.deepEqual(unknown, real, 'RST-1: an unknown login ID must get the same page as a real user');

    const wrongEmail = await askForLink(page, HANAKO.loginId, 'someone.else@example.co.jp', 'unknown-03-wrong-email');
    assert.deepEqual(wrongEmail, real, 'RST-1: a wrong e-mail must get the same page as a real user');

    await sleep(500);
    const sent = (await outbox()).slice(since);
    assert.deepEqual(sent, [], `nothing is mailed for an unknown login ID or a wrong e-mail; mailed: ${mailSummary(sent)}`);
  } catch (e) {
    await shoot(page, 'failure-unknown');
    throw e;
  } finally {
    await context.close();
  }
});

// ------------------------------------------------------------------ PW-5 (en, 360 px)

test('PW-5: change password from the dashboard', { timeout: 180_000 }, async () => {
  // "mine": where taro changes the password; "other": a second browser signed in before.

  // Password and an e-mail code (MFA-3) → the dashboard.
  const signInWithEmailCode = (p, password, name) =>
    signInWithMailedCode(p, TARO, [`${name}-challenge`, `${name}-challenge-sent`], password);

  await inTwoBrowsers(ENGLISH, 'change', async ({ page, page2, on }) => {
    // ---- taro with e-mail codes, signed in (as the English journey of mfa.test.mjs).
    await firstTimeSetup(page, TARO, 'change-00');
    await signIn(page, TARO);
    await expectPage(page, '/enroll', 'change-01-enroll-choice');
    await enrolEmail(page, TARO.email, ['change-02-enroll-email', 'change-03-recovery-codes', 'change-04-login-enrolled']);
    await signInWithEmailCode(page, TARO.password, 'change-05');
    await acceptTerms(page, ['change-06-terms', 'change-07-dashboard']);

    // A second browser signed in too.
    on(page2);
    await signInWithEmailCode(page2, TARO.password, 'change-08-other');
    await expectPage(page2, '/', 'change-09-other-dashboard');

    // ---- PW-5: the dashboard's link to the change form.
    on(page);
    await clickAndWait(page, '#change-password');
    await expectPage(page, '/password/change', 'change-10-form');
    assert.equal(await page.locator('#current_password[required]').count(), 1, 'the current password is asked for');
    assert.deepEqual(await unmetRules(page), []);

    // A wrong current password is refused.
    await submitPassword(page, TARO.newPassword, `${TARO.password}x`);
    await expectPage(page, '/password/change', 'change-11-wrong-current');
    assert.ok(await formErrorText(page), 'a wrong current password must be refused with #form-error');

    // PW-3: the new password must not contain the login ID's parts.
    await submitPassword(page, 'Yamada-Kagi-9183', TARO.password);
    await expectPage(page, '/password/change', 'change-12-weak');
    assert.ok(await formErrorText(page), 'a weak password must be refused with #form-error');
    const unmet = await unmetRules(page);
    assert.ok(unmet.includes('personal'), `PW-3: "Yamada-…" must mark "personal" unmet, marked: ${JSON.stringify(unmet)}`);

    // The change: this session carries on, with a notice.
    const since = (await outbox()).length;
    await submitPassword(page, TARO.newPassword, TARO.password);
    await expectPage(page, '/', 'change-13-dashboard-changed');
    assert.equal(new URL(page.url()).searchParams.get('notice'), 'password_changed');
    assert.ok(await page.locator('#form-notice').isVisible(), 'the dashboard says the password is changed');
    const notices = await mailsAfter(TARO.email, since, CHANGE_NOTICE_SUBJECT);
    assert.equal(notices.length, 1, `PW-5: one notice mail, got ${mailSummary(notices)}`);

    // Every other session ends.
    on(page2);
    await expectSignedOut(page2, 'change-14-other-session-ended', 'PW-5: the other browser\'s session must be ended');

    // ---- Sign out; the old password is refused, the new one signs in.
    on(page);
    await signOut(page, 'change-15-signed-out');
    await signIn(page, TARO);
    await expectPage(page, '/login', 'change-16-login-old-password');
    assert.ok(await formErrorText(page), 'the old password must be refused with #form-error');
    await signInWithEmailCode(page, TARO.newPassword, 'change-17');
    await expectPage(page, '/', 'change-18-dashboard');
    assert.equal((await page.locator('#login-id').innerText()).trim(), TARO.loginId);
    await signOut(page, 'change-19-signed-out');
  });
});

// The RFC 6238 test vector, so a broken helper fails here and not as a refused code.
assert.equal(totpAt('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', 1), '287082');

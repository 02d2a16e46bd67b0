// The people and the steps several browser test files share: the demo users, and the flows
// (setup, first password, sign-in, enrolment, terms) on one file's server, and that server itself
// on the defaults (defaultsFile). Not a test file itself.
import assert from 'node:assert/strict';
import {
  STEP_TIMEOUT_MS, sleep, mailsTo, setupLinksIn, clickAndWait, freshTotp, serverAndBrowserForFile, defaultsEnv,
  outboxOf, pageChecks,
} from './support.mjs';

// ------------------------------------------------------------------ demo users

// demo/legacy-users.jsonl's people as a test signs them up (every test file has a server of its
// own, so each may set them up), with the password (and the later one) the tests give them.
// "田中 三郎" (half-width space), phone "０９０－１２３４－５６７８" (full-width; migrated as
// 09012345678, and the identity check compares digits only).
export const SABURO = {
  email: 'saburo@example.co.jp',
  name: '田中 三郎',
  phone: '090-1234-5678',
  loginId: 'saburo@example.co.jp',
  password: 'Kagi-Sanbon73',
  newPassword: 'Niji-Hashira-5028',
};
// "佐藤 花子" (half-width space), phone "03-1234-5679", tenant econ1000000001.
export const HANAKO = {
  email: 'hanako.sato@example.co.jp',
  name: '佐藤 花子',
  phone: '03-1234-5679',
  loginId: 'hanako.sato@example.co.jp',
  password: 'Mado-Kaze-4817',
};
// "山田　太郎" (U+3000 IDEOGRAPHIC SPACE between family and given name).
export const TARO = {
  email: 'taro.yamada@example.co.jp',
  name: '山田\u3000太郎',
  phone: '03-1234-5678',
  loginId: 'taro.yamada@example.co.jp',
  password: 'Tobira-Door42',
  newPassword: 'Kumo-Ishi-3926',
};

// ------------------------------------------------------------------ shared flows

export const NARROW = { width: 360, height: 740 };

export async function htmlLang(page) {
  return page.evaluate(() => document.documentElement.lang);
}

// The flows several test files walk, on one file's server and browser (`live`) with its page
// checks (`expectPage` from pageChecks) and outbox (`outbox`, `mailedCode` from outboxOf).
export function flowsOf(live, { expectPage, outbox, mailedCode }) {
  // A browser context at 360 px (unless `options` says otherwise) with the step timeouts.
  // JavaScript is off unless a test turns it on: every journey proves the pages work without
  // the portal's script (issue 16 item 12), which only enhances them.
  async function newContext(options) {
    const context = await live.browser.newContext({ viewport: NARROW, javaScriptEnabled: false, ...options });
    context.setDefaultTimeout(STEP_TIMEOUT_MS);
    context.setDefaultNavigationTimeout(60_000);
    return context;
  }

  // The newest link to `pathAndQuery` (e.g. "/password/reset?token=") mailed to `email`: waits
  // until there is one (30 s at most).
  async function mailedLink(email, pathAndQuery) {
    const escaped = pathAndQuery.replace(/[?]/g, '\\?');
    const re = new RegExp(`https?://[^\\s<>"'）)\\]]*${escaped}[^\\s<>"'）)\\]]+`);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const links = mailsTo(await outbox(), email).map((m) => String(m.text ?? '').match(re)).filter(Boolean);
      if (links.length) return links.at(-1)[0];
      if (Date.now() > deadline) assert.fail(`no e-mail with a ${pathAndQuery} link to ${email} in the outbox`);
      await sleep(250);
    }
  }

  // The /setup links mailed to `email`, oldest first: waits until there is one (30 s at most).
  async function setupLinksFor(email) {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const links = setupLinksIn(await outbox(), email);
      if (links.length) return links;
      if (Date.now() > deadline) assert.fail(`no e-mail with a /setup?token= link to ${email} in the outbox`);
      await sleep(250);
    }
  }

  // Setup link (the newest mailed, unless `link`) → identity check → password → the sign-in
  // page (SET-1..3); screenshots `${prefix}-setup`, `-setup-password`, `-login-after-setup`.
  async function firstTimeSetup(page, user, prefix, link) {
    await page.goto(link ?? (await setupLinksFor(user.email)).at(-1));
    await expectPage(page, '/setup', `${prefix}-setup`);
    await page.fill('input[name="email"]', user.email);
    await page.fill('input[name="name"]', user.name);
    await page.fill('input[name="phone"]', user.phone);
    await clickAndWait(page, 'form:has(input[name="email"]) button[type="submit"]');
    await expectPage(page, '/setup/password', `${prefix}-setup-password`);
    await page.fill('input[name="password"]', user.password);
    await page.fill('input[name="password_confirm"]', user.password);
    await clickAndWait(page, 'form:has(input[name="password_confirm"]) button[type="submit"]');
    await expectPage(page, '/login', `${prefix}-login-after-setup`);
  }

  // RST-4: the first password set from the registration mail's `link`, twice; the sign-in page.
  async function firstPassword(page, link, user, [resetName, loginName]) {
    await page.goto(link);
    await expectPage(page, '/password/reset', resetName);
    await page.fill('#password', user.password);
    await page.fill('#password_confirm', user.password);
    await clickAndWait(page, 'form:has(#password_confirm) button[type="submit"]');
    await expectPage(page, '/login', loginName);
  }

  // The sign-in form with `user`'s login ID and `password` (theirs unless given).
  async function signIn(page, user, password = user.password) {
    if (new URL(page.url()).pathname !== '/login') {
      await page.goto(`${live.server.baseUrl}/login`);
    }
    await page.fill('#login_id', user.loginId);
    await page.fill('#password', password);
    await clickAndWait(page, 'form:has(#login_id) button[type="submit"]');
  }

  // MFA-5: the ten recovery codes acknowledged; back on the sign-in page.
  async function acknowledgeCodes(page, loginName) {
    assert.equal(await page.locator('#recovery-codes li').count(), 10);
    await page.check('#recorded');
    await clickAndWait(page, '#ack');
    await expectPage(page, '/login', loginName);
  }

  // From the choice of method: the authenticator (MFA-4) with its first code, the recovery codes
  // (MFA-5), back on the sign-in page. Answers the key and the TOTP step used.
  async function enrolTotp(page, [totpName, codesName, loginName]) {
    await clickAndWait(page, '#choose-totp');
    await expectPage(page, '/enroll/totp', totpName);
    const secret = (await page.locator('#totp-secret').innerText()).replace(/\s/g, '');
    assert.match(secret, /^[A-Z2-7]{32}$/, 'MFA-4: the key is 32 base32 characters');
    const totp = await freshTotp(secret, 0);
    await page.fill('#code', totp.code);
    await clickAndWait(page, '#confirm');
    await expectPage(page, '/enroll/totp/confirm', codesName);
    await acknowledgeCodes(page, loginName);
    return { secret, step: totp.step };
  }

  // From the choice of method: e-mail codes (MFA-3) confirmed with the mailed code, the recovery
  // codes (MFA-5), back on the sign-in page.
  async function enrolEmail(page, email, [emailName, codesName, loginName]) {
    const since = (await outbox()).length;
    await clickAndWait(page, '#choose-email');
    await expectPage(page, '/enroll/email', emailName);
    await page.fill('#code', await mailedCode(email, since));
    await clickAndWait(page, '#confirm');
    await expectPage(page, '/enroll/email', codesName);
    await acknowledgeCodes(page, loginName);
  }

  // Password and then a code mailed at the challenge (MFA-3); submitted, not yet checked where
  // it leads.
  async function signInWithMailedCode(page, user, [challengeName, sentName], password = user.password) {
    await signIn(page, user, password);
    await expectPage(page, '/login/mfa', challengeName);
    assert.equal(await page.locator('#code-form input[name="method"]').inputValue(), 'email');
    const since = (await outbox()).length;
    await clickAndWait(page, '#send-code');
    await expectPage(page, '/login/mfa', sentName, { shot: false });
    await page.fill('#code', await mailedCode(user.email, since));
    await clickAndWait(page, '#verify');
  }

  // TOS-1: the terms accepted; the dashboard.
  async function acceptTerms(page, [termsName, dashboardName]) {
    await expectPage(page, '/terms', termsName);
    await page.check('#agree');
    await clickAndWait(page, '#accept');
    await expectPage(page, '/', dashboardName);
  }

  return {
    newContext, mailedLink, setupLinksFor, firstTimeSetup, firstPassword, signIn, enrolTotp, enrolEmail,
    signInWithMailedCode, acceptTerms,
  };
}

// A test file's own server with the default configuration (a TOBIRA_* setting of the caller's
// shell must not change the flow; data dir `tobira-browser-${name}-…`) and browser, its outbox
// (outboxOf), its page checks (pageChecks: screenshots `${name}-…`) and the flows on them.
// `envFor(port)`: settings of this file's own; `host`: the portal's host name (see startServer).
export function defaultsFile(name, envFor, { host } = {}) {
  const live = serverAndBrowserForFile({
    dataDirPrefix: `tobira-browser-${name}-`, env: defaultsEnv(), envFor, host,
  });
  const mail = outboxOf(live);
  const checks = pageChecks(name);
  return { live, ...mail, ...checks, ...flowsOf(live, { ...mail, expectPage: checks.expectPage }) };
}

// Browser tests of the complete first sign-in with two-step verification (SET-4, LOG-4,
// MFA-1..8, TOS-1, SES-1..3): a real (Debian) Chromium driven by playwright-core against
// `tobira serve`, pages only (no API calls), codes computed from the shown TOTP key or read
// from the dev outbox.
//
// Run through scripts/test.sh, or by hand:
//   TOBIRA_BIN=target/debug/tobira node --test tests/browser/mfa.test.mjs
//
// This file starts its own server with a fresh data dir and uses demo users the journey test
// does not use: saburo (the TOTP journey, Japanese, 360 px) and the two "shared@example.com"
// users (English, 360 px, JavaScript off; the second one's login ID was renamed by MIG-3 to
// the 33-character "shared@example.com_ecid1000000007", which every page must still fit). The TOTP journey is split into tests that run in order and share one
// browser context (node:test runs the tests of a file one after another); a later one is
// skipped when an earlier one failed. Every page is kept as tests/browser/artifacts/mfa-*.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  serverAndBrowserForFile, formErrorText, clickAndWait, base32Decode, totpAt, freshTotp,
  currentTotpStep, pageChecks, defaultsEnv, outboxOf, journeySteps,
} from './support.mjs';
import { flowsOf, htmlLang, SABURO } from './flows.mjs';

// demo/legacy-users.jsonl: two legacy users with login ID and e-mail "shared@example.com"
// under two contracts (MIG-7); ecid1000000006 sorts first and keeps the plain login ID,
// ecid1000000007 becomes "shared@example.com_ecid1000000007" (MIG-3). Both get a setup link.
const SHARED = {
  email: 'shared@example.com',
  name: 'Shared Partner',
  phone: '045-555-1234',
  loginId: 'Shared@Example.com_ECID1000000007', // LOG-1: any case
  shownLoginId: 'shared@example.com_ecid1000000007',
  password: 'Narrow-Screen58',
};

// ------------------------------------------------------------------ server (see support.mjs)

// The server's configuration is its defaults: a TOBIRA_* setting of the caller's shell
// (e.g. TOBIRA_EMAIL_OTP_SECOND_ONLY, TOBIRA_REMEMBER_DEVICE_HOURS) must not change the flow.
const live = serverAndBrowserForFile({
  dataDirPrefix: 'tobira-browser-mfa-',
  env: defaultsEnv(),
});
const { outbox, mailedCode, mailsAfter } = outboxOf(live);

// ------------------------------------------------------------------ TOTP (RFC 6238)

// The RFC 6238 test vector, so a broken helper fails here and not as a refused code.
assert.equal(totpAt('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', 1), '287082');

// ------------------------------------------------------------------ pages

const { shoot, expectPage } = pageChecks('mfa');

const {
  newContext, setupLinksFor, firstTimeSetup, signIn,
} = flowsOf(live, { expectPage, outbox, mailedCode });

async function signOut(page, name) {
  await clickAndWait(page, '#logout');
  await expectPage(page, '/login', name);
  // SES-1: the session is over: the dashboard sends back to the sign-in page.
  await page.goto(`${live.server.baseUrl}/`);
  await expectPage(page, '/login', `${name}-dashboard-refused`, { shot: false });
}

async function recoveryLeft(page) {
  return Number((await page.locator('#recovery-left').innerText()).trim());
}

async function methodsShown(page) {
  return page.locator('#methods [data-method]').evaluateAll((els) => els.map((e) => e.dataset.method));
}

// ------------------------------------------------------------------ the TOTP journey (ja, 360 px)

// What the tests of the journey hand on: the context (cookies: session, device), the key,
// the last TOTP step used, the recovery codes.
const journey = { context: null, page: null, secret: null, lastStep: 0, recovery: null, failed: false };
const step = journeySteps(journey, 'TOTP', shoot);

test('SET-4 MFA-4 MFA-5 TOS-1: first sign-in with TOTP through recovery codes and terms to the dashboard',
  { timeout: 120_000 }, async () => {
    journey.context = await newContext({ locale: 'ja-JP' });
    journey.page = await journey.context.newPage();
    await step('first-sign-in', async (page) => {
      await firstTimeSetup(page, SABURO, '00');

      // LOG-4: no factor yet → the choice of method (SET-4).
      await signIn(page, SABURO);
      await expectPage(page, '/enroll', '01-enroll-choice');
      assert.equal(await htmlLang(page), 'ja');
      const offered = await page.locator('#enroll-methods li[data-method]').evaluateAll(
        (els) => els.map((e) => e.dataset.method));
      // MFA-10: no passkeys at 127.0.0.1 (browsers refuse WebAuthn on an IP address; the
      // passkey journeys reach the portal as localhost: passkeys.test.mjs).
      assert.deepEqual(offered.sort(), ['email', 'sms', 'totp', 'voice'],
        'MFA-1, MFA-9: TOTP, e-mail, SMS and voice calls are offered');

      // MFA-4: the QR code (inline SVG) and the key as text, in groups of four.
      await clickAndWait(page, '#choose-totp');
      await expectPage(page, '/enroll/totp', '02-enroll-totp');
      const qr = page.locator('#totp-qr svg');
      assert.equal(await qr.count(), 1, 'the TOTP page must show the QR code as an inline <svg> in #totp-qr');
      const box = await qr.boundingBox();
      assert.ok(box && box.width >= 150 && Math.abs(box.width - box.height) < 2,
        `the QR code must be square and at least 150 px at 360 px wide, it is ${JSON.stringify(box)}`);
      const shown = (await page.locator('#totp-secret').innerText()).trim();
      assert.match(shown, /^[A-Z2-7]{4}( [A-Z2-7]{1,4})*$/, `#totp-secret ${JSON.stringify(shown)} is not base32 in groups of 4`);
      // At 360 px the key wraps only between groups, never inside one.
      const splitGroups = await page.locator('#totp-secret').evaluate((el) => {
        const node = el.firstChild;
        const split = [];
        let at = 0;
        for (const group of node.textContent.split(' ')) {
          const start = node.textContent.indexOf(group, at);
          const range = document.createRange();
          range.setStart(node, start);
          range.setEnd(node, start + group.length);
          if (new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size > 1) split.push(group);
          at = start + group.length;
        }
        return split;
      });
      assert.deepEqual(splitGroups, [], 'groups of the key broken across lines');
      const secret = shown.replace(/ /g, '');
      assert.equal(secret.length, 32, 'MFA-4: a 160-bit key is 32 base32 characters');
      assert.equal(base32Decode(secret).length, 20);
      journey.secret = secret;

      // A wrong code: the same page again with the same key and an error.
      const wrong = totpAt(secret, currentTotpStep()) === '000000' ? '111111' : '000000';
      await page.fill('#code', wrong);
      await clickAndWait(page, '#confirm');
      await expectPage(page, '/enroll/totp/confirm', '02b-enroll-totp-wrong-code');
      assert.ok(await formErrorText(page), 'a wrong code must say so in #form-error');
      assert.equal((await page.locator('#totp-secret').innerText()).trim(), shown,
        'after a wrong code the page must show the same key again');
      assert.equal(await page.locator('#totp-qr svg').count(), 1);

      // The right code, with the space a person may type from the app ("123 456").
      const first = await freshTotp(secret, 0);
      await page.fill('#code', `${first.code.slice(0, 3)} ${first.code.slice(3)}`);
      await clickAndWait(page, '#confirm');
      journey.lastStep = first.step;

      // MFA-5: ten recovery codes, shown once; "I have recorded these" is required.
      await expectPage(page, '/enroll/totp/confirm', '03-recovery-codes');
      const codes = (await page.locator('#recovery-codes li').allInnerTexts()).map((c) => c.trim());
      assert.equal(codes.length, 10, `MFA-5: 10 recovery codes, got ${JSON.stringify(codes)}`);
      assert.equal(new Set(codes).size, 10, 'the recovery codes are all different');
      journey.recovery = codes;
      assert.equal(await page.locator('header a').count(), 0,
        'MFA-5: the codes are shown once: no language switch leads away before "I have recorded these"');
      assert.equal(await page.locator('#recorded[required]').count(), 1, '#recorded must be required');
      await page.locator('#ack').click(); // unchecked: the browser does not submit
      assert.equal(new URL(page.url()).pathname, '/enroll/totp/confirm', 'the codes page must stay until #recorded is ticked');
      assert.equal(await page.locator('#recovery-codes li').count(), 10);
      await page.check('#recorded');
      await clickAndWait(page, '#ack');

      // SET-4: sign in again with the new factor.
      await expectPage(page, '/login', '04-login-enrolled');
      assert.equal(new URL(page.url()).searchParams.get('notice'), 'enrolled');
      assert.ok(await page.locator('.notice').isVisible(), 'the sign-in page must say that the method is set up');
      await signIn(page, SABURO);
      await expectPage(page, '/login/mfa', '05-challenge-totp');
      assert.equal(await page.locator('#code-form input[name="method"]').inputValue(), 'totp');
      assert.equal(await page.locator('#send-code').count(), 0, 'the TOTP challenge sends nothing');
      assert.equal(await page.locator('#other-methods a[data-method="recovery"]').count(), 1,
        'MFA-5: the challenge offers a recovery code as another method');
      assert.equal(await page.locator('#remember_device').isChecked(), false, 'MFA-7: not remembered unless asked');

      // MFA-4: the enrolment's time step is used; the next one signs in.
      const next = await freshTotp(secret, journey.lastStep);
      await page.fill('#code', next.code);
      await clickAndWait(page, '#verify');
      journey.lastStep = next.step;

      // TOS-1: the terms on the first sign-in; "I accept" is required.
      await expectPage(page, '/terms', '06-terms');
      assert.ok((await page.locator('#terms-version').innerText()).trim(), 'the terms version is shown');
      await page.locator('#accept').click(); // unchecked: the browser does not submit
      assert.equal(new URL(page.url()).pathname, '/terms');
      await page.check('#agree');
      await clickAndWait(page, '#accept');

      await expectPage(page, '/', '07-dashboard');
      assert.ok(await page.locator('#dashboard-title').isVisible());
      assert.deepEqual(await methodsShown(page), ['totp']);
      assert.equal(await recoveryLeft(page), 10);
      assert.equal((await page.locator('#login-id').innerText()).trim(), SABURO.loginId);

      // SES-1: sign-out ends the session.
      await signOut(page, '08-signed-out');
    });
  });

test('MFA-7: TOTP with "remember this device": the next sign-in skips the challenge, never the password',
  { timeout: 90_000 }, async () => {
    await step('remember-device', async (page) => {
      await signIn(page, SABURO);
      await expectPage(page, '/login/mfa', '09-challenge-remember');
      const next = await freshTotp(journey.secret, journey.lastStep);
      // The same step twice is refused (MFA-4), so first show that the used step is spent.
      await page.fill('#code', totpAt(journey.secret, journey.lastStep));
      await clickAndWait(page, '#verify');
      await expectPage(page, '/login/mfa', '09b-challenge-used-step');
      assert.ok(await formErrorText(page), 'MFA-4: a time step already used must be refused with #form-error');
      // The answer to the POST: its language switch stays on the challenge, with the method.
      const sw = new URL(await page.locator('header a[hreflang]').getAttribute('href'), live.server.baseUrl);
      assert.deepEqual([sw.pathname, sw.searchParams.get('method'), sw.searchParams.get('lang')],
        ['/login/mfa', 'totp', 'en']);

      await page.fill('#code', next.code);
      await page.check('#remember_device');
      await clickAndWait(page, '#verify');
      journey.lastStep = next.step;
      // TOS-1 is done: straight to the dashboard.
      await expectPage(page, '/', '10-dashboard-remembered');
      const cookies = await journey.context.cookies();
      assert.ok(cookies.some((c) => /device/.test(c.name) && c.value),
        `a remembered-device cookie must be set; cookies: ${cookies.map((c) => c.name).join(', ')}`);
      await signOut(page, '11-signed-out');

      // The password is still asked; the second factor is not.
      await signIn(page, SABURO);
      await expectPage(page, '/', '12-dashboard-challenge-skipped');
      assert.ok(await page.locator('#dashboard-title').isVisible());

      // A wrong password is refused on a remembered device too.
      await signOut(page, '13-signed-out');
      await page.fill('#login_id', SABURO.loginId);
      await page.fill('#password', `${SABURO.password}x`);
      await clickAndWait(page, 'form:has(#login_id) button[type="submit"]');
      await expectPage(page, '/login', '14-login-wrong-password');
      assert.ok(await formErrorText(page), 'a wrong password must be refused with #form-error');
      await signIn(page, SABURO);
      await expectPage(page, '/', '15-dashboard');
    });
  });

test('MFA-8 MFA-3: e-mail codes added from the dashboard, then a sign-in with a code from the outbox',
  { timeout: 90_000 }, async () => {
    await step('email-second-method', async (page) => {
      // Signed in (remembered device) from the test before.
      await clickAndWait(page, '#add-method');
      await expectPage(page, '/enroll', '16-enroll-add-method');
      await page.locator('#enroll-methods li[data-method="email"]').waitFor();
      assert.equal(await page.locator('#enroll-methods li[data-method="totp"][data-enrolled="true"]').count(), 1,
        'MFA-8: the add-a-method page marks TOTP as in use');
      assert.equal(await page.locator('#enroll-methods li[data-enrolled]').count(), 1);
      assert.equal(await page.locator('#reauth-hint, input[type="password"]').count(), 0,
        'MFA-8: the password was given moments ago, so the page does not ask it again');
      let since = (await outbox()).length;
      await clickAndWait(page, '#choose-email');
      await expectPage(page, '/enroll/email', '17-enroll-email-code');
      assert.ok((await page.locator('#code-sent-to').innerText()).includes(SABURO.email),
        'the code page says where the code went');
      await page.fill('#code', await mailedCode(SABURO.email, since));
      await clickAndWait(page, '#confirm');
      await expectPage(page, '/', '18-dashboard-method-added');
      assert.deepEqual(await methodsShown(page), ['totp', 'email']);
      assert.ok(await page.locator('#form-notice').isVisible(), 'the dashboard says the method is added');
      assert.equal(await recoveryLeft(page), 10, 'MFA-5: a further method brings no new recovery codes');
      // MFA-8: the user is mailed a notice naming the new method, with no code in it.
      const [notice] = await mailsAfter(SABURO.email, since, /2段階認証|two-step verification/i);
      assert.match(String(notice.text), /メール|e-mail/i, 'the notice names the method');
      assert.doesNotMatch(String(notice.text), /\b\d{6}\b/, 'the notice holds no code');
      await signOut(page, '19-signed-out');

      // MFA-7: a factor change revokes remembered devices: the challenge is back.
      await signIn(page, SABURO);
      await expectPage(page, '/login/mfa', '20-challenge-after-factor-change');
      assert.equal(await page.locator('#code-form input[name="method"]').inputValue(), 'totp');
      assert.equal(await page.locator('#other-methods a[data-method="email"]').count(), 1,
        'MFA-8: the challenge offers the e-mail method');
      await clickAndWait(page, '#other-methods a[data-method="email"]');
      await expectPage(page, '/login/mfa', '21-challenge-email');
      assert.equal(await page.locator('#code-form input[name="method"]').inputValue(), 'email');
      assert.ok((await page.locator('#mfa-instruction').innerText()).includes(SABURO.email));
      since = (await outbox()).length;
      await clickAndWait(page, '#send-code');
      await expectPage(page, '/login/mfa', '22-challenge-email-sent');
      assert.ok(await page.locator('#form-notice').isVisible(), 'the page says the code was sent');
      assert.equal(await page.locator('#code-form input[name="method"]').inputValue(), 'email');
      await page.fill('#code', await mailedCode(SABURO.email, since));
      await clickAndWait(page, '#verify');
      await expectPage(page, '/', '23-dashboard-email');
      await signOut(page, '24-signed-out');
    });
  });

test('MFA-5: sign-in with a recovery code; a used code is refused', { timeout: 60_000 }, async () => {
  await step('recovery-code', async (page) => {
    const [firstCode, secondCode] = journey.recovery;
    await signIn(page, SABURO);
    await expectPage(page, '/login/mfa', '25-challenge');
    await clickAndWait(page, '#other-methods a[data-method="recovery"]');
    await expectPage(page, '/login/mfa', '26-challenge-recovery');
    assert.equal(await page.locator('#code-form input[name="method"]').inputValue(), 'recovery');
    await page.fill('#code', firstCode);
    await clickAndWait(page, '#verify');
    await expectPage(page, '/', '27-dashboard-recovery');
    assert.equal(await recoveryLeft(page), 9, 'MFA-5: a used recovery code is gone');
    await signOut(page, '28-signed-out');

    await signIn(page, SABURO);
    await expectPage(page, '/login/mfa', '29-challenge');
    await clickAndWait(page, '#other-methods a[data-method="recovery"]');
    await page.fill('#code', firstCode);
    await clickAndWait(page, '#verify');
    await expectPage(page, '/login/mfa', '30-challenge-recovery-used');
    assert.ok(await formErrorText(page), 'MFA-5: a used recovery code must be refused with #form-error');
    assert.equal(await page.locator('#code-form input[name="method"]').inputValue(), 'recovery',
      'after a refused recovery code the page still asks for a recovery code');
    await page.fill('#code', secondCode.toLowerCase());
    await clickAndWait(page, '#verify');
    await expectPage(page, '/', '31-dashboard-recovery');
    assert.equal(await recoveryLeft(page), 8);
    await signOut(page, '32-signed-out');
  });
  await journey.context.close();
});

// ------------------------------------------------------------------ English, 360 px, no JavaScript

test('SES-3: English pages at 360 px without JavaScript, a long login ID, e-mail codes from setup to the dashboard, language switch',
  { timeout: 120_000 }, async () => {
    const context = await newContext({
      locale: 'en-US',
      extraHTTPHeaders: { 'Accept-Language': 'en-US,en;q=0.9' },
      javaScriptEnabled: false,
    });
    const page = await context.newPage();
    const english = async (name) => {
      assert.equal(await htmlLang(page), 'en', `${name} (${page.url()}) must be in English (html lang)`);
    };
    // The header's language switch: to the other language, on the same step.
    const switchLanguage = async (wantPath, wantLang, name) => {
      const sw = page.locator('header a[hreflang]');
      assert.equal(await sw.count(), 1, `${page.url()} must have a language switch in the header`);
      assert.equal(await sw.getAttribute('hreflang'), wantLang);
      await clickAndWait(page, 'header a[hreflang]');
      await expectPage(page, wantPath, name);
      assert.equal(await htmlLang(page), wantLang, `the switch on ${wantPath} must show it in ${wantLang}`);
    };
    try {
      // Both "shared@example.com" users set a password; the renamed one signs in.
      const links = await setupLinksFor(SHARED.email);
      assert.equal(links.length, 2, 'MIG-7: both shared@example.com users get a setup link');
      await firstTimeSetup(page, SHARED, 'en-00a', links[0]);
      await english('the sign-in page');
      await firstTimeSetup(page, SHARED, 'en-00b', links[1]);
      await signIn(page, SHARED);
      await expectPage(page, '/enroll', 'en-01-enroll-choice');
      await english('the choice of method');
      assert.equal((await page.locator('#signed-in-as').innerText()).trim(), SHARED.shownLoginId);
      assert.equal(await page.locator('#enroll-methods [data-enrolled]').count(), 0, 'nothing is in use yet');

      // The SMS number page (country list and hint at 360 px), then back to the choice.
      await clickAndWait(page, '#choose-sms');
      await expectPage(page, '/enroll/sms', 'en-02-enroll-sms');
      await english('the SMS page');
      assert.equal(await page.locator('#country').inputValue(), '81');
      await clickAndWait(page, 'a[href="/enroll"]');
      await expectPage(page, '/enroll', 'en-03-enroll-choice');

      // The TOTP page at 360 px (QR and key fit). It answers a POST, so its language switch
      // leads to the choice of method in the other language, not away from the set-up.
      await clickAndWait(page, '#choose-totp');
      await expectPage(page, '/enroll/totp', 'en-04-enroll-totp');
      await english('the TOTP page');
      await switchLanguage('/enroll', 'ja', 'en-05-enroll-choice-ja');
      await switchLanguage('/enroll', 'en', 'en-06-enroll-choice-en');

      // E-mail as the only method (MFA-2 default).
      let since = (await outbox()).length;
      await clickAndWait(page, '#choose-email');
      await expectPage(page, '/enroll/email', 'en-07-enroll-email');
      await english('the e-mail code page');
      // Without JavaScript the resend countdown is plain text.
      const wait = page.locator('#resend-wait');
      if (await wait.count()) assert.match(await wait.innerText(), /\d+/, 'the resend wait shows its seconds');
      await page.fill('#code', await mailedCode(SHARED.email, since));
      await clickAndWait(page, '#confirm');
      await expectPage(page, '/enroll/email', 'en-08-recovery-codes');
      await english('the recovery codes page');
      assert.equal(await page.locator('#recovery-codes li').count(), 10);
      // MFA-5: shown once: no link leaves the page before "I have recorded these".
      assert.equal(await page.locator('header a').count(), 0,
        'the recovery codes page must not offer a language switch (leaving it loses the codes)');
      await page.locator('#ack').click(); // required checkbox: HTML validation, no script needed
      assert.equal(new URL(page.url()).pathname, '/enroll/email');
      await page.check('#recorded');
      await clickAndWait(page, '#ack');
      await expectPage(page, '/login', 'en-09-login-enrolled');
      await english('the sign-in page');

      await signIn(page, SHARED);
      await expectPage(page, '/login/mfa', 'en-10-challenge-email');
      await english('the challenge');
      assert.equal(await page.locator('#code-form input[name="method"]').inputValue(), 'email');
      // Nothing is sent before the button: the page says so.
      const sendLabel = (await page.locator('#send-code').innerText()).trim();
      assert.ok((await page.locator('#mfa-instruction').innerText()).includes(sendLabel),
        `before a code is sent the instruction must point at the "${sendLabel}" button`);
      since = (await outbox()).length;
      await clickAndWait(page, '#send-code');
      await expectPage(page, '/login/mfa', 'en-11-challenge-email-sent');
      await english('the challenge');
      assert.match(await page.locator('#mfa-instruction').innerText(), /sent/i);
      // A wrong code first: the answer to the POST keeps the method and its language switch too.
      const code = await mailedCode(SHARED.email, since);
      await page.fill('#code', code === '000000' ? '111111' : '000000');
      await clickAndWait(page, '#verify');
      await expectPage(page, '/login/mfa', 'en-12-challenge-wrong-code');
      assert.ok(await formErrorText(page), 'a wrong code must be refused with #form-error');
      assert.equal(await page.locator('#code-form input[name="method"]').inputValue(), 'email');
      const sw = new URL(await page.locator('header a[hreflang]').getAttribute('href'), live.server.baseUrl);
      assert.equal(sw.pathname, '/login/mfa');
      assert.equal(sw.searchParams.get('method'), 'email');
      assert.equal(sw.searchParams.get('lang'), 'ja');
      await page.fill('#code', code);
      await clickAndWait(page, '#verify');

      await expectPage(page, '/terms', 'en-13-terms');
      await english('the terms');
      await page.check('#agree');
      await clickAndWait(page, '#accept');
      await expectPage(page, '/', 'en-14-dashboard');
      await english('the dashboard');
      assert.deepEqual(await methodsShown(page), ['email']);
      assert.equal((await page.locator('#login-id').innerText()).trim(), SHARED.shownLoginId);

      // The language switch in the header: Japanese, and back; the choice sticks.
      await switchLanguage('/', 'ja', 'en-15-dashboard-ja');
      assert.equal((await page.locator('#dashboard-title').innerText()).trim(), 'ダッシュボード');
      await page.goto(`${live.server.baseUrl}/`);
      assert.equal(await htmlLang(page), 'ja', 'the language chosen with the switch is remembered');
      await switchLanguage('/', 'en', 'en-16-dashboard-en');

      // MFA-8: the add-a-method page marks e-mail as in use.
      await clickAndWait(page, '#add-method');
      await expectPage(page, '/enroll', 'en-17-enroll-add-method');
      assert.equal(await page.locator('#enroll-methods li[data-method="email"][data-enrolled="true"]').count(), 1,
        'the e-mail method is marked as in use');
      assert.equal(await page.locator('#enroll-methods li[data-method="totp"][data-enrolled]').count(), 0);
      await clickAndWait(page, '#back-to-dashboard');
      await expectPage(page, '/', 'en-18-dashboard');

      await signOut(page, 'en-19-signed-out');
      await english('the sign-in page');
    } catch (e) {
      await shoot(page, 'en-failure');
      throw e;
    } finally {
      await context.close();
    }
  });

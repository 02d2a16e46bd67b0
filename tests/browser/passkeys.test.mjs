// Browser tests of passkeys and security keys (MFA-10): a real (Debian) Chromium driven by
// playwright-core against `tobira serve`, with Chromium's virtual authenticators (the DevTools
// protocol's WebAuthn domain) in place of a phone, a laptop's fingerprint reader or a USB key.
//
// Run through scripts/test.sh, or by hand:
//   TOBIRA_BIN=target/debug/tobira node --test tests/browser/passkeys.test.mjs
//
// The portal is reached as http://localhost:PORT with that base URL: the relying party is the
// base URL's host, and Chromium refuses WebAuthn on an IP address (a portal at 127.0.0.1 offers
// no passkeys). The ceremonies need the portal's script, so the journeys run with JavaScript on
// (one test turns it off: the buttons stay hidden, the pages say passkeys cannot be used, and
// the other methods still work). Every page goes through expectPage: 360 px, axe-core (WCAG 2.2
// AA, no serious or critical violation), screenshots tests/browser/artifacts/passkeys-*.png.
//
// - saburo (Japanese): TOTP first, then a passkey added from the dashboard with the fresh proof
//   of that sign-in; password + passkey at the challenge (with "remember this device");
//   passwordless from the sign-in page (also in English, the login ID typed); the passkey
//   renamed and removed (TOTP remains; a removed passkey no longer signs in); a security key
//   (a second virtual authenticator: USB, no resident keys) added once the proof is stale (the
//   password asked again, a wrong one refused in the page's words) and used as the second
//   factor after the password. TOBIRA_REAUTH_MINUTES is 1 here so that the proof goes stale.
// - hanako (English): a passkey as the first factor at the choice of method (the recovery
//   codes); passwordless still asks for the terms; the last factor is not removed; without
//   JavaScript the passkey challenge and the choice of method show the note, no button and no
//   form, and a recovery code signs in; the tenant admin disables her and her passkey is
//   refused on the sign-in page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { axeCheck, clickAndWait, formErrorText, freshTotp, journeySteps, sleep } from './support.mjs';
import { defaultsFile, htmlLang, SABURO, HANAKO } from './flows.mjs';

// src/lib.rs DEMO_ADMIN / DEMO_ADMIN_PASSWORD: tenant econ1000000001 (hanako's), e-mail codes.
const ADMIN = { email: 'admin@example.co.jp', loginId: 'admin@example.co.jp', password: 'Kanri-Door-5183' };

const {
  live, shoot, expectPage, newContext, firstTimeSetup, signIn, enrolTotp, signInWithMailedCode, acceptTerms,
} = defaultsFile('passkeys', () => ({ TOBIRA_REAUTH_MINUTES: '1' }), { host: 'localhost' });
// MFA-8: the proof of a sign-in is fresh for a minute here (five by default), so that one test
// sees a stale one.
const REAUTH_MS = 60_000;

const JAPANESE = { locale: 'ja-JP', javaScriptEnabled: true };
const ENGLISH = {
  locale: 'en-US', extraHTTPHeaders: { 'Accept-Language': 'en-US,en;q=0.9' }, javaScriptEnabled: true,
};

// ------------------------------------------------------------------ virtual authenticators

// A platform authenticator (a phone's or laptop's biometrics): resident keys, user verification.
const PLATFORM = {
  protocol: 'ctap2', ctap2Version: 'ctap2_1', transport: 'internal', hasResidentKey: true,
  hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true,
};
// A USB security key with a PIN (user verification) and no room for resident keys.
const SECURITY_KEY = {
  protocol: 'ctap2', ctap2Version: 'ctap2_1', transport: 'usb', hasResidentKey: false,
  hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true,
};

// A virtual authenticator on `page` (the DevTools protocol's WebAuthn domain). Answers
// { cdp, id, credentials() }: the credentials it holds.
async function addAuthenticator(page, options) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', { options });
  return {
    cdp,
    id: authenticatorId,
    credentials: async () => (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials,
    remove: () => cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId }),
  };
}

// ------------------------------------------------------------------ page helpers

async function methodsShown(page) {
  return page.locator('#methods [data-method]').evaluateAll((els) => els.map((e) => e.dataset.method));
}

async function passkeyNames(page) {
  return (await page.locator('#passkeys .passkey-name').allInnerTexts()).map((n) => n.trim());
}

// The portal's script shows the passkey button (WebAuthn is there) and hides the note.
async function assertPasskeyButton(page, where) {
  await page.locator('#passkey-start').waitFor({ state: 'visible' });
  assert.ok(await page.locator('#passkey-unsupported').isHidden(), `${where}: no "cannot be used" note`);
  assert.ok(await page.locator('#passkey-error').isHidden(), `${where}: no error before a try`);
}

// Clicks the passkey button: the script asks the begin API, the virtual authenticator answers,
// the form goes with the credential; waits for the page that answers it.
async function usePasskey(page, beginPath) {
  const begun = page.waitForResponse((r) => new URL(r.url()).pathname === beginPath && r.request().method() === 'POST');
  await clickAndWait(page, '#passkey-start');
  assert.equal((await begun).status(), 200, `POST ${beginPath} answered the options`);
}

// MFA-5: the recovery codes after a first factor: ticked, back on the sign-in page.
async function acknowledgeCodes(page, loginName) {
  const codes = (await page.locator('#recovery-codes li').allInnerTexts()).map((c) => c.trim());
  assert.equal(codes.length, 10);
  await page.check('#recorded');
  await clickAndWait(page, '#ack');
  await expectPage(page, '/login', loginName);
  return codes;
}

async function signOut(page, name) {
  await clickAndWait(page, '#logout');
  await expectPage(page, '/login', name);
}

// ------------------------------------------------------------------ saburo: TOTP, then a passkey (ja)

const journey = { context: null, page: null, authenticator: null, secret: null, lastStep: 0, failed: false };
const step = journeySteps(journey, 'saburo passkey', shoot);

test('MFA-10 MFA-8: a passkey added from the dashboard with the fresh proof of the sign-in (TOTP first)',
  { timeout: 180_000 }, async () => {
    journey.context = await newContext(JAPANESE);
    journey.page = await journey.context.newPage();
    await step('totp-first', async (page) => {
      journey.authenticator = await addAuthenticator(page, PLATFORM);
      await firstTimeSetup(page, SABURO, '00');
      await signIn(page, SABURO);
      await expectPage(page, '/enroll', '01-enroll-choice');
      assert.equal(await htmlLang(page), 'ja');
      const offered = await page.locator('#enroll-methods li[data-method]').evaluateAll(
        (els) => els.map((e) => e.dataset.method));
      assert.deepEqual([...offered].sort(), ['email', 'passkey', 'sms', 'totp', 'voice'],
        'MFA-1, MFA-9, MFA-10: at localhost every method is offered, passkeys too');
      await assertPasskeyButton(page, 'the choice of method');
      assert.equal((await page.locator('#passkey-start').innerText()).trim(),
        (await page.locator('#choose-totp').innerText()).trim(), 'the passkey is chosen as the other methods are');

      const totp = await enrolTotp(page, ['02-enroll-totp', '03-recovery-codes', '04-login-enrolled']);
      journey.secret = totp.secret;
      journey.lastStep = totp.step;
      // The next code first (MFA-4: the enrolment's step is spent; one step of skew keeps it
      // good), so that the proof of the password below is fresh (a minute here) for the passkey.
      const next = await freshTotp(journey.secret, journey.lastStep);
      await signIn(page, SABURO);
      await expectPage(page, '/login/mfa', '05-challenge-totp');
      await page.fill('#code', next.code);
      await clickAndWait(page, '#verify');
      journey.lastStep = next.step;
      await acceptTerms(page, ['06-terms', '07-dashboard']);
      assert.equal(await page.locator('#passkeys').count(), 0, 'no passkey listed yet');
    });
    await step('add-passkey', async (page) => {
      await clickAndWait(page, '#add-method');
      await expectPage(page, '/enroll', '08-enroll-add-method');
      assert.equal(await page.locator('#password-passkey').count(), 0,
        'MFA-8: the proof is fresh (the sign-in moments ago): no password asked');
      await assertPasskeyButton(page, 'the add-a-method page');
      await page.fill('#passkey-name', '仕事用ノートPC');
      await usePasskey(page, '/api/passkeys/register/begin');
      await expectPage(page, '/', '09-dashboard-passkey-added');
      assert.equal(new URL(page.url()).searchParams.get('notice'), 'added');
      assert.deepEqual(await methodsShown(page), ['totp', 'passkey']);
      assert.deepEqual(await passkeyNames(page), ['仕事用ノートPC'], 'the dashboard lists the passkey by its name');
      assert.match(await page.locator('#passkeys li').first().innerText(), /パスワードなしでサインインできます/,
        'a discoverable credential with user verification signs in without a password');
      const held = await journey.authenticator.credentials();
      assert.equal(held.length, 1, 'the authenticator holds the new credential');
      assert.equal(held[0].isResidentCredential, true, 'a discoverable credential (passwordless)');
      await signOut(page, '10-signed-out');
    });
  });

test('MFA-10 LOG-4: password, then the passkey at the challenge', { timeout: 90_000 }, async () => {
  await step('challenge', async (page) => {
    const before = (await journey.authenticator.credentials())[0].signCount;
    await signIn(page, SABURO);
    await expectPage(page, '/login/mfa', '11-challenge-totp');
    assert.equal(await page.locator('#code-form input[name="method"]').inputValue(), 'totp',
      'the challenge asks for the first method enrolled');
    assert.equal(await page.locator('#other-methods a[data-method="passkey"]').count(), 1,
      'the challenge offers the passkey as another method');
    await clickAndWait(page, '#other-methods a[data-method="passkey"]');
    await expectPage(page, '/login/mfa', '12-challenge-passkey');
    assert.equal(new URL(page.url()).searchParams.get('method'), 'passkey');
    await assertPasskeyButton(page, 'the passkey challenge');
    assert.equal((await page.locator('#passkey-start').innerText()).trim(), 'パスキーで確認');
    assert.equal(await page.locator('#code-form').count(), 0, 'no code to type');
    assert.equal(await page.locator('#remember_device').isChecked(), false);
    // MFA-7: "remember this device" goes with the passkey's form too.
    await page.check('#remember_device');
    await usePasskey(page, '/api/login/passkey/begin');
    await expectPage(page, '/', '13-dashboard-passkey');
    const after = (await journey.authenticator.credentials())[0].signCount;
    assert.ok(after > before, `the authenticator signed (count ${before} → ${after})`);
    await signOut(page, '14-signed-out');
    // The password is still asked; the second step is not (until a factor changes: the removal
    // below ends it, and the security key's test meets the challenge again).
    await signIn(page, SABURO);
    await expectPage(page, '/', '14b-dashboard-remembered');
    await signOut(page, '14c-signed-out');
  });
});

test('MFA-10: passwordless from the sign-in page, to the dashboard', { timeout: 60_000 }, async () => {
  await step('passwordless', async (page) => {
    await page.goto(`${live.server.baseUrl}/login`);
    await expectPage(page, '/login', '15-login-passkey-box');
    await page.locator('#passkey-box').waitFor({ state: 'visible' });
    assert.equal((await page.locator('#passkey-start').innerText()).trim(), 'パスキーでサインイン');
    // Nothing typed: any discoverable credential of this portal.
    await usePasskey(page, '/api/login/passkey/begin');
    await expectPage(page, '/', '16-dashboard-passwordless');
    assert.equal((await page.locator('#login-id').innerText()).trim(), SABURO.loginId);
    await signOut(page, '17-signed-out');

    // In English, with the login ID typed first: only that ID's passkeys.
    await page.goto(`${live.server.baseUrl}/login?lang=en`);
    await expectPage(page, '/login', 'en-18-login-passkey-box');
    assert.equal(await htmlLang(page), 'en');
    await page.locator('#passkey-box').waitFor({ state: 'visible' });
    assert.equal((await page.locator('#passkey-start').innerText()).trim(), 'Sign in with a passkey');
    await page.fill('#login_id', SABURO.loginId.toUpperCase());
    await usePasskey(page, '/api/login/passkey/begin');
    await expectPage(page, '/', 'en-19-dashboard-passwordless');
    assert.equal(await htmlLang(page), 'en');
    assert.equal((await page.locator('#passkeys-heading').innerText()).trim(), 'Passkeys and security keys');
  });
});

test('MFA-10 MFA-8: the passkey removed from the dashboard; TOTP remains', { timeout: 60_000 }, async () => {
  await step('remove', async (page) => {
    await page.goto(`${live.server.baseUrl}/?lang=ja`);
    await expectPage(page, '/', '20-dashboard-passkeys');
    assert.deepEqual(await passkeyNames(page), ['仕事用ノートPC']);
    // Renamed first (the list's other form).
    await page.fill('#passkey-rename-1', '自宅のPC');
    await clickAndWait(page, '#passkeys li form[action$="/rename"] button[type="submit"]');
    await expectPage(page, '/', '21-dashboard-renamed');
    assert.equal(new URL(page.url()).searchParams.get('notice'), 'passkey_renamed');
    assert.deepEqual(await passkeyNames(page), ['自宅のPC']);
    // MFA-8: this session signed in without a password (the test before), so the removal asks
    // for it: a passwordless sign-in is no fresh proof for a factor change.
    assert.ok(await page.locator('#passkey-remove-password-1').isVisible(), 'the removal asks for the password');
    await page.fill('#passkey-remove-password-1', SABURO.password);
    await clickAndWait(page, '#passkey-remove-1');
    await expectPage(page, '/', '22-dashboard-removed');
    assert.equal(new URL(page.url()).searchParams.get('notice'), 'passkey_removed');
    assert.ok(await page.locator('#form-notice').isVisible(), 'the dashboard says the passkey is removed');
    assert.equal(await page.locator('#passkeys').count(), 0, 'the passkey is gone from the list');
    assert.deepEqual(await methodsShown(page), ['totp'], 'the second factor that remains');
    await signOut(page, '23-signed-out');

    // The removed passkey no longer signs in (the authenticator still holds it).
    await page.locator('#passkey-box').waitFor({ state: 'visible' });
    const begun = page.waitForResponse((r) => r.url().endsWith('/api/login/passkey/begin'));
    await clickAndWait(page, '#passkey-start');
    await begun;
    // The answer to the sign-in page's passkey form: the sign-in page with the refusal (LOG-3's
    // words: nothing says which part was wrong).
    await expectPage(page, '/login/passkey', '24-login-removed-passkey-refused');
    assert.equal(await page.locator('#login_id').count(), 1, 'the sign-in form again');
    assert.ok(await formErrorText(page), 'a removed passkey is refused with #form-error');
  });
});

test('MFA-10 MFA-8: a security key (USB, no resident key) added with the password again, then the second factor',
  { timeout: 180_000 }, async () => {
    await step('security-key', async (page) => {
      // The platform authenticator is gone; a USB key takes its place.
      await journey.authenticator.remove();
      const key = await addAuthenticator(page, SECURITY_KEY);
      journey.authenticator = key;
      // MFA-7: the removal of the passkey (a factor change) forgot the remembered device.
      await signIn(page, SABURO);
      await expectPage(page, '/login/mfa', '30-challenge-totp');
      const next = await freshTotp(journey.secret, journey.lastStep);
      await page.fill('#code', next.code);
      await clickAndWait(page, '#verify');
      journey.lastStep = next.step;
      await expectPage(page, '/', '31-dashboard');

      // MFA-8: once the password is older than TOBIRA_REAUTH_MINUTES (1 in this file), adding a
      // key asks for it again; the begin checks it before the authenticator is asked.
      await sleep(REAUTH_MS + 1_000);
      await clickAndWait(page, '#add-method');
      await expectPage(page, '/enroll', '32-enroll-add-key-reauth');
      assert.ok(await page.locator('#reauth-hint').isVisible(), 'the page says the password is asked again');
      await assertPasskeyButton(page, 'the add-a-method page with a stale proof');
      assert.ok(await page.locator('#password-passkey').isVisible(), 'the passkey form asks for the password');
      await page.fill('#passkey-name', 'USBキー');
      await page.fill('#password-passkey', `${SABURO.password}x`);
      const refused = page.waitForResponse((r) => r.url().endsWith('/api/passkeys/register/begin'));
      await page.click('#passkey-start');
      assert.equal((await refused).status(), 401, 'a wrong password: the begin is refused');
      const alert = page.locator('#passkey-error');
      await alert.waitFor({ state: 'visible' });
      const said = (await alert.innerText()).trim();
      // As the other methods' forms say it (with LOG-2's warning), not as a sign-in's refusal.
      assert.match(said, /^パスワードが正しくありません。.*ロック/, `the refusal: ${JSON.stringify(said)}`);
      assert.equal(await page.locator('#passkey-error:focus').count(), 1, 'the refusal takes the focus');
      assert.equal(new URL(page.url()).pathname, '/enroll', 'the page stays');
      assert.ok(await page.locator('#passkey-start').isEnabled(), 'the button can be tried again');
      assert.equal((await key.credentials()).length, 0, 'the key was not asked');
      await shoot(page, '33-enroll-reauth-refused');
      await axeCheck(page, 'passkeys-33-enroll-reauth-refused');

      await page.fill('#password-passkey', SABURO.password);
      await usePasskey(page, '/api/passkeys/register/begin');
      await expectPage(page, '/', '34-dashboard-key-added');
      assert.deepEqual(await passkeyNames(page), ['USBキー']);
      const held = await key.credentials();
      assert.equal(held.length, 1, 'the security key made the credential');
      assert.equal(held[0].isResidentCredential, false, 'a security key without room keeps no resident key');
      assert.doesNotMatch(await page.locator('#passkeys li').first().innerText(), /パスワードなしでサインインできます/,
        'a credential that is not discoverable does not sign in without a password');
      await signOut(page, '35-signed-out');

      await signIn(page, SABURO);
      await expectPage(page, '/login/mfa', '36-challenge');
      await clickAndWait(page, '#other-methods a[data-method="passkey"]');
      await expectPage(page, '/login/mfa', '37-challenge-security-key');
      await usePasskey(page, '/api/login/passkey/begin');
      await expectPage(page, '/', '38-dashboard-security-key');
      assert.ok((await key.credentials())[0].signCount > 0, 'the key signed');
      await signOut(page, '39-signed-out');
    });
    await journey.context.close();
  });

// ------------------------------------------------------------------ hanako: a passkey first (en)

const first = { context: null, page: null, authenticator: null, recovery: null, failed: false };
const firstStep = journeySteps(first, 'hanako passkey', shoot);

test('MFA-10 SET-4 TOS-1: a passkey as the first factor; passwordless still asks for the terms',
  { timeout: 120_000 }, async () => {
    first.context = await newContext(ENGLISH);
    first.page = await first.context.newPage();
    await firstStep('first-factor', async (page) => {
      first.authenticator = await addAuthenticator(page, PLATFORM);
      await firstTimeSetup(page, HANAKO, 'en-40');
      await signIn(page, HANAKO);
      await expectPage(page, '/enroll', 'en-41-enroll-choice');
      assert.equal(await htmlLang(page), 'en');
      await assertPasskeyButton(page, 'the choice of method');
      assert.equal(await page.locator('#password-passkey').count(), 0, 'the first factor asks no password again');
      await usePasskey(page, '/api/passkeys/register/begin');
      // MFA-5: the first factor's recovery codes, on the answer to the passkey form.
      await expectPage(page, '/enroll/passkey', 'en-42-recovery-codes');
      first.recovery = await acknowledgeCodes(page, 'en-43-login-enrolled');
      assert.equal(new URL(page.url()).searchParams.get('notice'), 'enrolled');
      assert.equal((await first.authenticator.credentials()).length, 1);

      // TOS-1: passwordless never skips the terms.
      await page.locator('#passkey-box').waitFor({ state: 'visible' });
      await usePasskey(page, '/api/login/passkey/begin');
      await acceptTerms(page, ['en-44-terms', 'en-45-dashboard']);
      assert.deepEqual(await methodsShown(page), ['passkey']);
      assert.equal((await passkeyNames(page)).length, 1, 'the passkey is listed (named by the portal)');
      assert.ok((await passkeyNames(page))[0], 'an unnamed passkey gets a name');
      // MFA-8: the last factor is never removed (the password is asked: a passwordless sign-in
      // is no fresh proof).
      await page.fill('#passkey-remove-password-1', HANAKO.password);
      const removal = await page.locator('#passkeys li form[action$="/remove"]').getAttribute('action');
      await clickAndWait(page, '#passkey-remove-1');
      // The answer to the refused form: the dashboard with the reason.
      await expectPage(page, removal, 'en-46-dashboard-last-factor-kept');
      assert.ok(await page.locator('#dashboard-title').isVisible());
      assert.ok(await formErrorText(page), 'removing the last factor is refused with #form-error');
      assert.equal((await passkeyNames(page)).length, 1, 'the passkey stays');
      await signOut(page, 'en-47-signed-out');
    });
  });

test('MFA-10 SES-3: without JavaScript the passkey buttons stay hidden and the other methods work',
  { timeout: 90_000 }, async () => {
    await firstStep('no-javascript', async () => {
      const context = await newContext({ ...ENGLISH, javaScriptEnabled: false });
      try {
        const page = await context.newPage();
        await page.goto(`${live.server.baseUrl}/login`);
        await expectPage(page, '/login', 'nojs-50-login');
        assert.ok(await page.locator('#passkey-box').isHidden(), 'no passwordless box without the script');
        await signIn(page, HANAKO);
        await expectPage(page, '/login/mfa', 'nojs-51-challenge-passkey');
        assert.ok(await page.locator('#passkey-start').isHidden(), 'no passkey button without the script');
        assert.ok(await page.locator('#passkey-form').isHidden(), 'nor its form ("remember this device" of no use)');
        assert.ok(await page.locator('#code-form').count() === 0, 'no code to type for a passkey');
        assert.ok(await page.locator('#passkey-unsupported').isVisible(), 'the page says passkeys cannot be used here');
        assert.match(await page.locator('#passkey-unsupported').innerText(), /JavaScript/);
        // The other method (a recovery code) signs in.
        await clickAndWait(page, '#other-methods a[data-method="recovery"]');
        await expectPage(page, '/login/mfa', 'nojs-52-challenge-recovery');
        await page.fill('#code', first.recovery[0]);
        await clickAndWait(page, '#verify');
        await expectPage(page, '/', 'nojs-53-dashboard');
        assert.equal((await passkeyNames(page)).length, 1, 'the dashboard lists the passkey without the script too');
        // The choice of method: the note, no button; the other methods' forms are there.
        await clickAndWait(page, '#add-method');
        await expectPage(page, '/enroll', 'nojs-54-enroll-add-method');
        assert.ok(await page.locator('#passkey-start').isHidden());
        assert.ok(await page.locator('#passkey-name').isHidden(), 'no name field without a button to use it');
        assert.ok(await page.locator('#passkey-unsupported').isVisible());
        await clickAndWait(page, '#choose-sms');
        await expectPage(page, '/enroll/sms', 'nojs-55-enroll-sms', { shot: false });
        await page.goto(`${live.server.baseUrl}/`);
        await signOut(page, 'nojs-56-signed-out');
      } finally {
        await context.close();
      }
    });
  });

test('MFA-10 ADM-3: a disabled user\'s passkey is refused on the sign-in page', { timeout: 120_000 }, async () => {
  await firstStep('disabled', async (page) => {
    const context = await newContext({ locale: 'ja-JP' });
    try {
      const admin = await context.newPage();
      await signInWithMailedCode(admin, ADMIN, ['adm-60-challenge', 'adm-61-code-sent']);
      await acceptTerms(admin, ['adm-62-terms', 'adm-63-dashboard']);
      await admin.goto(`${live.server.baseUrl}/admin/users?q=${encodeURIComponent(HANAKO.loginId)}`);
      await expectPage(admin, '/admin/users', 'adm-64-users');
      await clickAndWait(admin, `#user-list li[data-login-id="${HANAKO.loginId}"] a.user-link`);
      await clickAndWait(admin, '#action-disable');
      await expectPage(admin, new URL(admin.url()).pathname, 'adm-65-disabled');
      assert.equal(await admin.locator('#user-status').getAttribute('data-status'), 'disabled');
    } finally {
      await context.close();
    }
    // Hanako's passkey, passwordless: refused, on the sign-in page, in her language.
    await page.goto(`${live.server.baseUrl}/login`);
    await page.locator('#passkey-box').waitFor({ state: 'visible' });
    const before = (await first.authenticator.credentials())[0].signCount;
    await usePasskey(page, '/api/login/passkey/begin');
    await expectPage(page, '/login/passkey', 'en-66-login-disabled-refused');
    assert.equal(await page.locator('#login_id').count(), 1, 'the sign-in form again');
    assert.ok((await first.authenticator.credentials())[0].signCount > before, 'the authenticator did sign');
    assert.ok(await formErrorText(page), 'the sign-in page shows the refusal in #form-error');
    assert.equal(await page.locator('#dashboard-title').count(), 0);
    await page.goto(`${live.server.baseUrl}/`);
    await expectPage(page, '/login', 'en-67-dashboard-refused', { shot: false });
  });
  await first.context.close();
});

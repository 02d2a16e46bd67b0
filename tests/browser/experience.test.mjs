// Browser tests of the journeys around the happy path as a first-time user meets them (issue 16):
// the identity check with the phone the user knows (SET-2 / MIG-5) and the other refusals and
// hints of the experience issue. Real (Debian) Chromium through playwright-core against
// `tobira serve` with the demo data, pages only, mails read from the dev outbox; Japanese and
// English, 360 px, no JavaScript needed; every page kept as tests/browser/artifacts/experience-*.png.
// Also consent with the documents (TOS-1, CLM-2) on the claim's registration and the terms step.
//
// Run through scripts/test.sh, or by hand:
//   TOBIRA_BIN=target/debug/tobira node --test tests/browser/experience.test.mjs
import { test } from 'node:test';
import { readFile } from 'node:fs/promises';
import assert from 'node:assert/strict';
import { mailsTo, sleep, clickAndWait, totpAt } from './support.mjs';
import { defaultsFile, TARO, HANAKO, SABURO } from './flows.mjs';

const {
  outbox, expectPage, newContext, setupLinksFor, firstTimeSetup, signIn, mailsAfter, enrolTotp,
} = defaultsFile('experience');

const JAPANESE = { locale: 'ja-JP' };
const ENGLISH = { locale: 'en-US', extraHTTPHeaders: { 'Accept-Language': 'en-US,en;q=0.9' } };

// Demo users whose legacy phone MIG-5 could not use (the record holds the default instead):
// jiro's was "12", ichiro's was empty.
const JIRO = { email: 'jiro@example.co.jp', name: '鈴木 次郎', phone: '12', password: 'Suzu-Kaze-6142' };
const ICHIRO = { email: 'ichiro@example.co.jp', name: 'Ichiro Suzuki', phone: '', password: 'Ichi-Mado-7305' };

// The newest setup mail to `email`.
async function setupMail(email) {
  await setupLinksFor(email);
  return mailsTo(await outbox(), email).filter((m) => /\/setup\?token=/.test(String(m.text))).at(-1);
}

// Demo users are migrated in Japanese: the mail is in Japanese whatever the browser's language.
const PHONE_CHANGED = /登録上の電話番号は変更されています/;

for (const [user, lang, options] of [
  [JIRO, 'ja', JAPANESE],
  [ICHIRO, 'en', ENGLISH],
]) {
  test(`SET-2 MIG-5 (${lang}): ${user.email} passes the identity check with the legacy phone "${user.phone}"`, async () => {
    const mail = await setupMail(user.email);
    assert.match(String(mail.text), PHONE_CHANGED, 'the setup mail says the phone on record was changed');
    const context = await newContext({ ...options, javaScriptEnabled: false });
    try {
      const page = await context.newPage();
      // A wrong phone is refused first (the legacy one is not a wildcard).
      await page.goto((await setupLinksFor(user.email)).at(-1));
      await expectPage(page, '/setup', `set-2-${lang}-identity`);
      assert.equal(await page.locator('input[name="phone"][required]').count(), 0, 'the phone may be left empty');
      await page.fill('input[name="email"]', user.email);
      await page.fill('input[name="name"]', user.name);
      await page.fill('input[name="phone"]', '0999999999');
      await page.click('form:has(input[name="email"]) button[type="submit"]');
      await page.waitForLoadState('load');
      assert.equal(new URL(page.url()).pathname.startsWith('/setup/password'), false, 'a wrong phone is refused');
      // The phone the user knows passes: set up, then the sign-in page with the login ID filled in.
      await firstTimeSetup(page, user, `set-2-${lang}`);
      assert.equal(await page.inputValue('#login_id'), user.email, 'the login ID is prefilled');
    } finally {
      await context.close();
    }
  });
}


// The SMS code sent to `e164` after outbox entry `since` (waits 15 s at most).
async function smsCode(e164, since) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const sms = (await outbox()).slice(since).filter((m) => m.channel === 'sms' && String(m.to) === e164);
    const m = sms.length && String(sms.at(-1).text).match(/code: (\d{6})/);
    if (m) return m[1];
    if (Date.now() > deadline) assert.fail(`no SMS code to ${e164} after outbox entry ${since}`);
    await sleep(200);
  }
}

// MFA-6 as a hint, not a wall: the number as Japanese users type it is taken and kept as E.164.
for (const [user, lang, options, typed] of [
  [TARO, 'ja', JAPANESE, '090-1234-5678'],
  [HANAKO, 'en', ENGLISH, '０９０１２３４５６７８'],
]) {
  test(`MFA-6 (${lang}): the SMS number typed as "${typed}" becomes +819012345678`, async () => {
    const context = await newContext({ ...options, javaScriptEnabled: false });
    try {
      const page = await context.newPage();
      await firstTimeSetup(page, user, `mfa-6-${lang}`);
      await signIn(page, user);
      await expectPage(page, '/enroll', `mfa-6-${lang}-enroll`);
      await clickAndWait(page, '#choose-sms');
      await expectPage(page, '/enroll/sms', `mfa-6-${lang}-enroll-sms`);
      const hint = await page.locator('#phone-hint').innerText();
      assert.match(hint, /090-1234-5678/, 'the page shows the usual form as an example');
      assert.equal(await page.locator('#phone').getAttribute('aria-describedby'), 'phone-hint');
      const since = (await outbox()).length;
      await page.fill('#phone', typed);
      await clickAndWait(page, '#send-code');
      await expectPage(page, '/enroll/sms/verify', `mfa-6-${lang}-code-sent`);
      await page.fill('#code', await smsCode('+819012345678', since));
      await clickAndWait(page, '#confirm');
      await expectPage(page, '/otp/sms/verify', `mfa-6-${lang}-recovery-codes`);
      assert.equal(await page.locator('#recovery-codes li').count(), 10);
    } finally {
      await context.close();
    }
  });
}

// LOG-5: the sign-in page states the lock rule in general words; the fifth wrong password answers
// as every failure does (LOG-3), and the owner finds a notice in the mailbox with when it lifts.
test('LOG-5 (ja, en): the lock rule is on the sign-in page, and the owner is mailed once when the account locks', async () => {
  const context = await newContext({ ...JAPANESE, javaScriptEnabled: false });
  try {
    const page = await context.newPage();
    await firstTimeSetup(page, SABURO, 'log-5');
    assert.match(await page.locator('#lock-rule').innerText(), /5回.*20分間/);
    const since = (await outbox()).length;
    const answers = [];
    for (let i = 0; i < 6; i += 1) {
      await signIn(page, SABURO, 'Wrong-Pass-1234');
      await expectPage(page, '/login', `log-5-ja-wrong-${i + 1}`, { shot: i === 4 });
      answers.push(await page.locator('#form-error').innerText());
    }
    assert.equal(new Set(answers).size, 1, `LOG-3: one answer before and after the lock: ${answers}`);
    const notices = await mailsAfter(SABURO.email, since, /サインインの一時停止/);
    assert.equal(notices.length, 1, 'once per lock');
    assert.match(String(notices[0].text), /\d{4}-\d{2}-\d{2} \d{2}:\d{2} JST/, 'when it lifts');
    assert.match(String(notices[0].text), /\/password\/forgot/, 'how to reset the password');
    // The rule in English.
    await page.goto(`${page.url().split('/login')[0]}/login?lang=en`);
    await expectPage(page, '/login', 'log-5-en-login');
    assert.match(await page.locator('#lock-rule').innerText(), /After 5 wrong passwords or codes in a row, sign-in pauses for 20 minutes/);
  } finally {
    await context.close();
  }
});

// MFA-4 after SET-4: signing in again at once, the authenticator still shows the code that confirmed
// the enrolment. It stays refused (each time step once), and the page says why and how long to wait.
test('MFA-4 (ja, en): the code that confirmed enrolment is refused with the reason and the wait', async () => {
  const MIXED = { email: 'Mixed.Case@Example.com', name: 'Mixed Case', phone: '0123',
    loginId: 'Mixed.Case@Example.com', password: 'Kawa-Yama-3817' };
  const context = await newContext({ ...JAPANESE, javaScriptEnabled: false });
  try {
    const page = await context.newPage();
    await firstTimeSetup(page, MIXED, 'mfa-4');
    await signIn(page, MIXED);
    await expectPage(page, '/enroll', 'mfa-4-enroll');
    const { secret, step } = await enrolTotp(page, ['mfa-4-totp', 'mfa-4-codes', 'mfa-4-login']);
    await signIn(page, MIXED);
    await expectPage(page, '/login/mfa', 'mfa-4-challenge');
    await page.fill('#code', totpAt(secret, step));
    await clickAndWait(page, '#verify');
    await expectPage(page, '/login/mfa', 'mfa-4-ja-code-used');
    assert.match(await page.locator('#form-error').innerText(), /すでに使われています.*約\d+秒/);
    await clickAndWait(page, 'header a[hreflang]');
    await expectPage(page, '/login/mfa', 'mfa-4-en-challenge');
    await page.fill('#code', totpAt(secret, step));
    await clickAndWait(page, '#verify');
    await expectPage(page, '/login/mfa', 'mfa-4-en-code-used');
    assert.match(await page.locator('#form-error').innerText(), /already been used.*about \d+ s/);
  } finally {
    await context.close();
  }
});

// No dead ends: a used or expired setup link leads to the page that mails a new one (SET-1 in the
// migration window; RST-4's identity entry after it), not to a sign-in button.
// (One user per language: a link is mailed at most once a minute.) In the demo's migration window
// the login ID and e-mail bring a new setup link; after the window the same page is RST-4's identity
// entry, which also asks for name and phone (filled in here too).
for (const [lang, options, newLink, user] of [
  ['ja', JAPANESE, '新しいリンクを受け取る', { email: 'long.phone@example.jp', name: 'Long Phone', phone: '1'.repeat(33) }],
  ['en', ENGLISH, 'Get a new link', { email: 'legacy.sha512@example.jp', name: 'Legacy Sha', phone: '090-0000-0011' }],
]) {
  test(`SET-1 RST-4 (${lang}): a used or expired setup link leads to a new one`, async () => {
    const context = await newContext({ ...options, javaScriptEnabled: false });
    const linksTo = async () => mailsTo(await outbox(), user.email)
      .filter((m) => /\/(setup|password\/reset)\?token=/.test(String(m.text))).length;
    try {
      const page = await context.newPage();
      const base = new URL((await setupLinksFor(user.email)).at(-1)).origin;
      await page.goto(`${base}/setup?token=no-longer-valid`);
      await expectPage(page, '/setup', `set-1-${lang}-link-invalid`);
      assert.equal((await page.locator('#way-forward').innerText()).trim(), newLink);
      await clickAndWait(page, '#way-forward');
      await expectPage(page, '/password/forgot', `set-1-${lang}-get-new-link`);
      // SET-1: one link a minute; the demo mailed the first when the server started.
      const last = mailsTo(await outbox(), user.email).at(-1);
      const wait = Date.parse(last.sent_at) + 61_000 - Date.now();
      if (wait > 0) await sleep(wait);
      const before = await linksTo();
      await page.fill('#login_id', user.email);
      await page.fill('#email', user.email);
      await page.fill('#name', user.name);
      await page.fill('#phone', user.phone);
      await clickAndWait(page, 'form:has(#login_id) button[type="submit"]');
      await expectPage(page, '/password/forgot', `set-1-${lang}-new-link-sent`);
      for (let i = 0; i < 60 && (await linksTo()) === before; i += 1) await sleep(250);
      assert.equal(await linksTo(), before + 1, 'a new link is mailed');
    } finally {
      await context.close();
    }
  });
}

// MFA-5: recovery codes a person can keep: one code a line at every width, a text file to save,
// and a print view with the codes only (no script: a data: link and a print style sheet).
test('MFA-5 (ja): recovery codes one a line, saved as a text file, printed alone', async () => {
  const CHILD = { email: 'child.user@example.net', name: 'Child User', phone: '+81 90 1111 2222',
    loginId: 'child.user@example.net', password: 'Ko-Tobira-6624' };
  const context = await newContext({ ...JAPANESE, javaScriptEnabled: false, acceptDownloads: true });
  try {
    const page = await context.newPage();
    await firstTimeSetup(page, CHILD, 'mfa-5');
    await signIn(page, CHILD);
    await expectPage(page, '/enroll', 'mfa-5-enroll');
    await clickAndWait(page, '#choose-totp');
    const secret = (await page.locator('#totp-secret').innerText()).replace(/\s/g, '');
    await page.fill('#code', totpAt(secret, Math.floor(Date.now() / 30_000)));
    await clickAndWait(page, '#confirm');
    await expectPage(page, '/enroll/totp/confirm', 'mfa-5-codes-360');
    const codes = (await page.locator('#recovery-codes li').allInnerTexts()).map((c) => c.trim());
    assert.equal(codes.length, 10);
    for (const width of [360, 1280]) {
      await page.setViewportSize({ width, height: 900 });
      const boxes = await page.locator('#recovery-codes li').evaluateAll((els) => els.map((e) => {
        const r = e.getBoundingClientRect();
        return { x: Math.round(r.left), y: Math.round(r.top), h: Math.round(r.height) };
      }));
      assert.equal(new Set(boxes.map((b) => b.x)).size, 1, `one column at ${width} px`);
      for (let i = 1; i < boxes.length; i += 1) {
        assert.ok(boxes[i].y > boxes[i - 1].y, `code ${i + 1} on a line of its own at ${width} px`);
      }
      assert.ok(boxes.every((b) => b.h < 40), `no code wraps at ${width} px`);
    }
    await page.setViewportSize({ width: 360, height: 740 });
    // The text file holds the same codes, one a line.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-codes')]);
    assert.equal(download.suggestedFilename(), 'recovery-codes.txt');
    const saved = await readFile(await download.path(), 'utf8');
    assert.deepEqual(saved.split(/\r?\n/).filter((l) => /^[A-Z0-9]{4}-/.test(l)), codes);
    // Printed: the codes, without the form or the header.
    await page.emulateMedia({ media: 'print' });
    assert.equal(await page.locator('#recovery-codes').isVisible(), true);
    assert.equal(await page.locator('#ack').isVisible(), false, 'the form is not printed');
    assert.equal(await page.locator('header').isVisible(), false, 'the header is not printed');
    await page.emulateMedia({ media: 'screen' });
    assert.match(await page.locator('#print-hint').innerText(), /印刷/);
    assert.equal(await page.locator('#download-codes').innerText(), 'テキストファイルとして保存する');
    // Reloaded (the form sent again): the codes are not shown again; the page says why and how to
    // get new ones, and the way on is still there.
    await page.reload();
    await expectPage(page, '/enroll/totp/confirm', 'mfa-5-codes-reloaded');
    assert.equal(await page.locator('#recovery-codes').count(), 0, 'no codes the second time');
    assert.match(await page.locator('main').innerText(), /一度だけ表示される.*リカバリーコードの再発行/s);
    await page.check('#recorded');
    await clickAndWait(page, '#ack');
    await expectPage(page, '/login', 'mfa-5-login-after-codes');
  } finally {
    await context.close();
  }
});

// Consent with the documents (TOS-1, CLM-2): the claim's registration and the terms step link the
// terms of use and the privacy policy in the page's language (new tab), with their versions; the
// documents open in that language.
async function expectDocumentLinks(page, lang, name) {
  for (const doc of ['terms', 'privacy']) {
    const link = page.locator(`a#${doc}-link`);
    assert.equal(await link.getAttribute('href'), `/legal/${doc}?lang=${lang}`);
    assert.equal(await link.getAttribute('target'), '_blank');
    assert.equal(await link.getAttribute('rel'), 'noopener');
    assert.match(await page.locator(`#${doc}-version`).innerText(), /^\d{4}-\d{2}$/);
  }
  const [doc] = await Promise.all([page.context().waitForEvent('page'), page.click('a#privacy-link')]);
  await doc.waitForLoadState('load');
  await expectPage(doc, '/legal/privacy', `${name}-privacy`);
  assert.equal(await doc.locator('html').getAttribute('lang'), lang);
  assert.match(await doc.locator('h1').innerText(), lang === 'ja' ? /プライバシーポリシー/ : /Privacy policy/);
  await doc.close();
}

test('CLM-2 (en): the claim registration links the documents in English', async () => {
  const context = await newContext({ ...ENGLISH, javaScriptEnabled: false });
  try {
    const page = await context.newPage();
    const base = new URL((await setupLinksFor(HANAKO.email)).at(-1)).origin;
    await page.goto(`${base}/claim`);
    await expectPage(page, '/claim', 'clm-2-en-claim');
    await page.fill('#service_id', 'ca1234567890');
    await page.fill('#password', 'Legacy-Pass1');
    await clickAndWait(page, 'form:has(#service_id) button[type="submit"]');
    await expectPage(page, '/claim/register', 'clm-2-en-register');
    await expectDocumentLinks(page, 'en', 'clm-2-en');
    await page.fill('#email', 'claimed.en@example.jp');
    await page.check('#accept_terms');
    await page.check('#accept_privacy');
    await clickAndWait(page, 'form:has(#email) button[type="submit"]');
    await mailsAfter('claimed.en@example.jp', 0, /.*/);
  } finally {
    await context.close();
  }
});

test('TOS-1 (ja, en): the terms step links both documents and records their acceptance', async () => {
  const ARGON = { email: 'legacy.argon@example.jp', name: 'Legacy Argon', phone: '09000000012',
    loginId: 'legacy.argon@example.jp', password: 'Kaze-Hana-2718' };
  const context = await newContext({ ...JAPANESE, javaScriptEnabled: false });
  try {
    const page = await context.newPage();
    await firstTimeSetup(page, ARGON, 'tos-1');
    await signIn(page, ARGON);
    await expectPage(page, '/enroll', 'tos-1-enroll');
    const { secret, step } = await enrolTotp(page, ['tos-1-totp', 'tos-1-codes', 'tos-1-login']);
    await signIn(page, ARGON);
    await expectPage(page, '/login/mfa', 'tos-1-challenge');
    // MFA-4: the step that confirmed the enrolment is used; the next one.
    while (Math.floor(Date.now() / 30_000) <= step) await sleep(500);
    await page.fill('#code', totpAt(secret, Math.floor(Date.now() / 30_000)));
    await clickAndWait(page, '#verify');
    await expectPage(page, '/terms', 'tos-1-ja-terms');
    await expectDocumentLinks(page, 'ja', 'tos-1-ja');
    await clickAndWait(page, 'header a[hreflang]');
    await expectPage(page, '/terms', 'tos-1-en-terms');
    await expectDocumentLinks(page, 'en', 'tos-1-en');
    await page.check('#agree');
    await clickAndWait(page, '#accept');
    await expectPage(page, '/', 'tos-1-en-dashboard');
    const me = await (await context.request.get(`${new URL(page.url()).origin}/api/me`)).json();
    assert.equal(me.terms.accepted_version, me.terms.current_version);
    assert.equal(me.privacy.accepted_version, me.privacy.current_version);
  } finally {
    await context.close();
  }
});

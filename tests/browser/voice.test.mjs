// Browser tests of one-time codes read out in a phone call (MFA-9): a real (Debian) Chromium
// driven by playwright-core against `tobira serve` (voice codes are on locally; the dev outbox
// takes the call, `channel: "voice"`, with the words it reads out), pages only, JavaScript off,
// 360 px; every page through expectPage (axe-core, width) and kept as
// tests/browser/artifacts/voice-*.png.
//
// Run through scripts/test.sh, or by hand:
//   TOBIRA_BIN=target/debug/tobira node --test tests/browser/voice.test.mjs
//
// taro (a landline, 03-1234-5678) sets up voice codes from the choice of method in Japanese:
// the number, the call, the code heard, the recovery codes. He then signs in with a call at the
// challenge ("電話をかける", then "もう一度電話する"), and once more in English.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clickAndWait, formErrorText, journeySteps, sleep } from './support.mjs';
import { defaultsFile, htmlLang, TARO } from './flows.mjs';

const {
  live, outbox, shoot, expectPage, newContext, firstTimeSetup, signIn, acceptTerms,
} = defaultsFile('voice');

// 03-1234-5678 with the country code: a Tokyo landline (SMS could not reach it).
const LANDLINE = '+81312345678';

// The code read out in the newest call to `e164` after outbox entry `since` (15 s at most): the
// six digits spoken one by one, which the call says twice. Answers { code, call }.
async function calledCode(e164, since) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const calls = (await outbox()).slice(since).filter((m) => m.channel === 'voice' && String(m.to) === e164);
    const call = calls.at(-1);
    if (call) {
      const spoken = [...String(call.text).matchAll(/\d(?:(?:、|, )\d){5}/g)].map((m) => m[0]);
      assert.equal(spoken.length, 2, `the call reads the code out twice: ${JSON.stringify(call.text)}`);
      assert.equal(spoken[0], spoken[1], 'the same code both times');
      return { code: spoken[0].replace(/\D/g, ''), call };
    }
    if (Date.now() > deadline) assert.fail(`no voice call to ${e164} after outbox entry ${since}`);
    await sleep(200);
  }
}

const journey = { context: null, page: null, failed: false };
const step = journeySteps(journey, 'voice', shoot);

test('MFA-9 SET-4: voice codes to a landline from the choice of method, the code heard, the recovery codes',
  { timeout: 120_000 }, async () => {
    journey.context = await newContext({ locale: 'ja-JP' });
    journey.page = await journey.context.newPage();
    await step('enrol', async (page) => {
      await firstTimeSetup(page, TARO, '00');
      await signIn(page, TARO);
      await expectPage(page, '/enroll', '01-enroll-choice');
      const voice = page.locator('#enroll-methods li[data-method="voice"]');
      assert.match(await voice.innerText(), /音声通話ワンタイムパスワード/);
      await clickAndWait(page, '#choose-voice');
      await expectPage(page, '/enroll/voice', '02-enroll-voice');
      assert.equal((await page.locator('h1').innerText()).trim(), '音声通話ワンタイムパスワードの設定');
      assert.equal(await page.locator('#country').inputValue(), '81');
      assert.match(await page.locator('#phone-hint').innerText(), /03-1234-5678/, 'a landline is the example');
      assert.equal((await page.locator('#send-code').innerText()).trim(), '電話をかける');

      const since = (await outbox()).length;
      await page.fill('#phone', '03-1234-5678');
      await clickAndWait(page, '#send-code');
      await expectPage(page, '/enroll/voice/verify', '03-enroll-voice-called');
      assert.equal((await page.locator('h1').innerText()).trim(), '電話番号の確認');
      assert.equal((await page.locator('#send-code').innerText()).trim(), 'もう一度電話する',
        'the code page offers another call');
      const { code, call } = await calledCode(LANDLINE, since);
      assert.match(String(call.text), /^tobiraです。ワンタイムパスワードをお伝えします。/, 'the call is in Japanese');
      assert.equal((await outbox()).slice(since).filter((m) => m.channel === 'sms').length, 0, 'no SMS');

      // A wrong code first: refused, the page stays.
      await page.fill('#code', code === '000000' ? '111111' : '000000');
      await clickAndWait(page, '#confirm');
      await expectPage(page, '/otp/voice/verify', '04-enroll-voice-wrong-code');
      assert.ok(await formErrorText(page), 'a wrong code is refused with #form-error');
      await page.fill('#code', `${code.slice(0, 3)} ${code.slice(3)}`);
      await clickAndWait(page, '#confirm');
      await expectPage(page, '/otp/voice/verify', '05-recovery-codes');
      assert.equal(await page.locator('#recovery-codes li').count(), 10, 'MFA-5: the first factor\'s ten codes');
      await page.check('#recorded');
      await clickAndWait(page, '#ack');
      await expectPage(page, '/login', '06-login-enrolled');
    });
  });

test('MFA-9 LOG-4: a sign-in with a call at the challenge ("電話をかける", then "もう一度電話する")',
  { timeout: 120_000 }, async () => {
    await step('sign-in', async (page) => {
      await signIn(page, TARO);
      await expectPage(page, '/login/mfa', '10-challenge-voice');
      assert.equal(await page.locator('#code-form input[name="method"]').inputValue(), 'voice');
      assert.equal((await page.locator('#send-code').innerText()).trim(), '電話をかける');
      const instruction = await page.locator('#mfa-instruction').innerText();
      assert.match(instruction, /「電話をかける」を押すと/, 'nothing is called before the button');
      assert.doesNotMatch(instruction, /1234-?5678|12345678/, 'the number is masked');
      const since = (await outbox()).length;
      await clickAndWait(page, '#send-code');
      await expectPage(page, '/login/mfa', '11-challenge-voice-called');
      assert.ok(await page.locator('#form-notice').isVisible(), 'the page says the phone will ring');
      assert.equal((await page.locator('#send-code').innerText()).trim(), 'もう一度電話する',
        'after the call the button calls again');
      assert.equal(await page.locator('#code-form input[name="method"]').inputValue(), 'voice');
      const { code } = await calledCode(LANDLINE, since);
      await page.fill('#code', code);
      await clickAndWait(page, '#verify');
      await acceptTerms(page, ['12-terms', '13-dashboard']);
      assert.deepEqual(
        await page.locator('#methods [data-method]').evaluateAll((els) => els.map((e) => e.dataset.method)),
        ['voice']);
      await clickAndWait(page, '#logout');
      await expectPage(page, '/login', '14-signed-out');
    });
  });

test('MFA-9: the call and the challenge in English', { timeout: 90_000 }, async () => {
  await step('english', async (page) => {
    await page.goto(`${live.server.baseUrl}/login?lang=en`);
    await signIn(page, TARO);
    await expectPage(page, '/login/mfa', 'en-20-challenge-voice');
    assert.equal(await htmlLang(page), 'en');
    assert.equal((await page.locator('#send-code').innerText()).trim(), 'Call me');
    const since = (await outbox()).length;
    await clickAndWait(page, '#send-code');
    await expectPage(page, '/login/mfa', 'en-21-challenge-voice-called');
    assert.equal((await page.locator('#send-code').innerText()).trim(), 'Call again');
    const { code, call } = await calledCode(LANDLINE, since);
    // The call speaks the user's language, as the mails do (demo users are migrated in
    // Japanese), whatever the browser's.
    assert.match(String(call.text), /ワンタイムパスワードをお伝えします/);
    await page.fill('#code', code);
    await clickAndWait(page, '#verify');
    await expectPage(page, '/', 'en-22-dashboard');
    assert.equal(await htmlLang(page), 'en');
  });
  await journey.context.close();
});

// Browser journey tests: a real (Debian) Chromium driven by playwright-core against `tobira serve`.
//
// Run through scripts/test.sh, or by hand:
//   TOBIRA_BIN=target/debug/tobira node --test tests/browser/*.test.mjs
//
// One server with a fresh data dir serves the whole file; each test uses its own demo user
// (taro.yamada for the journey, hanako.sato for the refusal) and its own browser context,
// so the tests do not share cookies or identity-check state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  ROOT, STEP_TIMEOUT_MS, tail, sleep, serverAndBrowserForFile, readOutbox, setupLinksIn, screenshot,
  formErrorText, reachedPath,
} from './support.mjs';

const TARO = {
  email: 'taro.yamada@example.co.jp',
  name: '山田\u3000太郎', // U+3000 IDEOGRAPHIC SPACE between family and given name
  phone: '03-1234-5678',
  loginId: 'Taro.Yamada@example.co.jp', // mixed case on purpose (LOG-1)
  password: 'Tobira-Door42',
};
const HANAKO = {
  email: 'hanako.sato@example.co.jp',
  nameOnFile: '佐藤 花子', // half-width space, as in the legacy data
  nameFullWidth: '佐藤\u3000花子', // what a person typing in Japanese usually enters
};

// ------------------------------------------------------------------ lifecycle

const env = { ...process.env };
// Production cookies (__Host-, Secure): Chromium treats loopback as a secure context.
delete env.TOBIRA_COOKIE_SECURE;
const live = serverAndBrowserForFile({ dataDirPrefix: 'tobira-browser-', env });

// ------------------------------------------------------------------ helpers

// Newest setup link mailed to `email`, polling the dev outbox for up to 30 s.
async function setupLinkFor(email) {
  const { baseUrl } = live.server;
  const deadline = Date.now() + 30_000;
  let last = '';
  for (;;) {
    const outbox = await readOutbox(baseUrl);
    const link = setupLinksIn(outbox, email).at(-1);
    if (link) {
      assert.ok(link.startsWith(`${baseUrl}/`),
        `the setup link ${link} does not start with the --base-url ${baseUrl}`);
      return link;
    }
    last = JSON.stringify(outbox.map((m) => ({ channel: m.channel, to: m.to, subject: m.subject })));
    if (Date.now() > deadline) {
      assert.fail(`no e-mail with a /setup?token= link to ${email} in the outbox; outbox: ${tail(last, 2000)}`);
    }
    await sleep(500);
  }
}

// The phone on file for a demo user, read from demo/legacy-users.jsonl when possible.
function phoneOnFile(email, fallback) {
  const file = path.join(ROOT, 'demo', 'legacy-users.jsonl');
  try {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const rec = JSON.parse(line);
      const values = Object.values(rec).filter((v) => typeof v === 'string');
      if (!values.some((v) => v.toLowerCase() === email.toLowerCase())) continue;
      const key = Object.keys(rec).find((k) => /phone|tel/i.test(k) && typeof rec[k] === 'string' && rec[k]);
      if (key) return { phone: rec[key], source: `demo/legacy-users.jsonl field "${key}"` };
    }
  } catch {
    // fall through to the fallback
  }
  return { phone: fallback, source: 'fallback (TOBIRA_DEFAULT_PHONE)' };
}

function shoot(page, testSlug, step) {
  return screenshot(page, `${testSlug}-${step}`);
}

// Waits until the page's path is `want`; on failure says where it is and what #form-error shows.
async function expectPath(page, want, testSlug, step) {
  if (!(await reachedPath(page, want))) {
    await shoot(page, testSlug, `${step}-unexpected`);
    const err = await formErrorText(page);
    assert.fail(
      `expected to land on ${want}, but the page is ${page.url()}` +
        (err !== null ? ` and #form-error says: ${JSON.stringify(err)}` : ''),
    );
  }
  await shoot(page, testSlug, step);
}

// Submits the form that contains `field` (a named input) with its submit button and waits for
// the answer page to load (tolerates a form that answers without navigating; callers then assert).
async function submitFormWith(page, field) {
  const form = page.locator(`form:has(input[name="${field}"])`).first();
  const navigated = page
    .waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame(), timeout: STEP_TIMEOUT_MS })
    .then(() => true, () => false);
  await form.locator('button[type="submit"]').first().click();
  if (await navigated) await page.waitForLoadState('load');
}

// The identity check (SET-2) filled in and submitted.
async function submitIdentity(page, email, name, phone) {
  await page.fill('input[name="email"]', email);
  await page.fill('input[name="name"]', name);
  await page.fill('input[name="phone"]', phone);
  await submitFormWith(page, 'email');
}

async function newPage() {
  const context = await live.browser.newContext({ locale: 'ja-JP', viewport: { width: 1024, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  page.setDefaultNavigationTimeout(60_000);
  return { context, page };
}

// ------------------------------------------------------------------ tests

test('SET-1 SET-2 SET-3 LOG-1 LOG-4: first-login journey from the setup mail to the methods page',
  { timeout: 180_000 }, async () => {
    const t = 'journey';
    const link = await setupLinkFor(TARO.email);
    const { context, page } = await newPage();
    try {
      // SET-1: the mailed link opens the identity check.
      await page.goto(link);
      await expectPath(page, '/setup', t, '01-setup');
      await submitIdentity(page, TARO.email, TARO.name, TARO.phone);

      // SET-2/SET-3: identity accepted -> choose a password.
      await expectPath(page, '/setup/password', t, '02-setup-password');
      await page.fill('input[name="password"]', TARO.password);
      await page.fill('input[name="password_confirm"]', TARO.password);
      await submitFormWith(page, 'password_confirm');

      // Password set -> the login page.
      await expectPath(page, '/login', t, '03-login');
      await page.fill('input[name="login_id"]', TARO.loginId); // LOG-1: case-insensitive login id
      await page.fill('input[name="password"]', TARO.password);
      await submitFormWith(page, 'login_id');

      // LOG-4: first login without a second factor -> the methods page.
      await expectPath(page, '/enroll', t, '04-enroll');
      await page.locator('#enroll-methods').waitFor({ state: 'visible' });
      assert.ok(await page.locator('#enroll-methods').isVisible(), '#enroll-methods is not visible on /enroll');
    } catch (e) {
      await shoot(page, t, 'failure');
      throw e;
    } finally {
      await context.close();
    }
  });

test('SET-2: a name with a half-width space instead of the full-width one is refused',
  { timeout: 180_000 }, async () => {
    const t = 'set2-name-space';
    const link = await setupLinkFor(HANAKO.email);
    const { phone, source } = phoneOnFile(HANAKO.email, '0312345678');
    const { context, page } = await newPage();
    try {
      await page.goto(link);
      await expectPath(page, '/setup', t, '01-setup');

      // The data has "佐藤 花子" (half-width space); "佐藤　花子" (full-width) must not match.
      await submitIdentity(page, HANAKO.email, HANAKO.nameFullWidth, phone);
      await shoot(page, t, '02-refused');
      const url = new URL(page.url());
      assert.ok(url.pathname.startsWith('/setup') && url.pathname !== '/setup/password',
        `SET-2: ${JSON.stringify(HANAKO.nameFullWidth)} (full-width space) must be refused for ${HANAKO.email}, ` +
          `whose name on file is ${JSON.stringify(HANAKO.nameOnFile)}, but the page moved on to ${page.url()}`);
      await page.locator('#form-error').first().waitFor({ state: 'visible', timeout: 10_000 }).catch(() => {
        assert.fail(`the refusal must show a visible #form-error, but none is visible on ${page.url()}`);
      });
      assert.ok(await page.locator('input[name="name"]').count() > 0,
        'the setup form (input name="name") must still be shown after the refusal');
      const err = await formErrorText(page);
      assert.ok(err, '#form-error must say why the identity check was refused');

      // Control: the same form with the name exactly as on file goes through, so the
      // refusal above came from the name and not from the e-mail or the phone.
      await submitIdentity(page, HANAKO.email, HANAKO.nameOnFile, phone);
      try {
        await expectPath(page, '/setup/password', t, '03-control-accepted');
      } catch (e) {
        e.message += ` (control submission with the exact name on file; phone ${JSON.stringify(phone)} from ${source})`;
        throw e;
      }
    } catch (e) {
      await shoot(page, t, 'failure');
      throw e;
    } finally {
      await context.close();
    }
  });

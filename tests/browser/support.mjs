// What the browser tests (tests/browser/*.test.mjs) share: the local `tobira serve` with a fresh
// data dir, Debian's Chromium through playwright-core, the dev outbox and screenshots.
// Not a test file itself (the runner picks up *.test.mjs only).
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { appendFile, mkdtemp, mkdir, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, '..', '..');
export const ARTIFACTS = path.join(HERE, 'artifacts');
export const TOBIRA_BIN = path.resolve(ROOT, process.env.TOBIRA_BIN || 'target/debug/tobira');
export const CHROMIUM = process.env.TOBIRA_CHROMIUM || '/usr/bin/chromium';

export const SERVER_START_TIMEOUT_MS = 120_000;
export const STEP_TIMEOUT_MS = 30_000;

// ------------------------------------------------------------------ small things

export function tail(text, n = 4000) {
  return text.length > n ? `…${text.slice(-n)}` : text;
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// ------------------------------------------------------------------ server

// Starts `tobira serve` on a free port with a fresh data dir (named `dataDirPrefix`…) and the
// environment `env`, and waits until it says it is listening. Answers
// { proc, port, baseUrl, dataDir, stdout, stderr, exited }.
// `envFor(port)`: more of the server's environment, once its port is known.
// `host`: the name the browser reaches the portal by, and its base URL's host ('127.0.0.1'
// unless given; MFA-10's passkeys need 'localhost': browsers refuse WebAuthn on an IP address,
// and a portal at one offers no passkeys). The server listens on 127.0.0.1 either way.
export async function startServer({ dataDirPrefix, env, envFor, host = '127.0.0.1' }) {
  if (!existsSync(TOBIRA_BIN)) {
    throw new Error(`TOBIRA_BIN ${TOBIRA_BIN} does not exist (build it with: cargo build --workspace --bins)`);
  }
  const dataDir = await mkdtemp(path.join(os.tmpdir(), dataDirPrefix));
  const port = await freePort();
  const baseUrl = `http://${host}:${port}`;
  const proc = spawn(
    TOBIRA_BIN,
    ['serve', '--port', String(port), '--data-dir', dataDir, '--base-url', baseUrl],
    { cwd: ROOT, env: { ...env, ...(envFor ? envFor(port) : {}) }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  // Never leave a server behind, even if the runner dies without running `after`.
  process.on('exit', () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  });
  const srv = { proc, port, baseUrl, dataDir, stdout: '', stderr: '', exited: null };
  proc.stdout.setEncoding('utf8');
  proc.stderr.setEncoding('utf8');
  proc.stdout.on('data', (d) => { srv.stdout += d; });
  proc.stderr.on('data', (d) => { srv.stderr += d; });

  await new Promise((resolve, reject) => {
    let settled = false;
    const finish = (err) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearInterval(poll);
      if (err) reject(err); else resolve();
    };
    const describe = (why) => new Error(
      `tobira serve ${why}\n--- stdout ---\n${tail(srv.stdout)}\n--- stderr ---\n${tail(srv.stderr)}`,
    );
    const timer = setTimeout(
      () => finish(describe(`did not print "tobira listening on" within ${SERVER_START_TIMEOUT_MS / 1000} s`)),
      SERVER_START_TIMEOUT_MS,
    );
    const poll = setInterval(() => { if (srv.stdout.includes('tobira listening on')) finish(); }, 50);
    proc.on('error', (e) => finish(describe(`could not be started: ${e.message}`)));
    proc.on('exit', (code, signal) => {
      srv.exited = { code, signal };
      finish(describe(`exited early (code ${code}, signal ${signal})`));
    });
  }).catch(async (err) => {
    console.error(err.message);
    await stopServer(srv);
    throw err;
  });
  return srv;
}

export async function stopServer(srv) {
  if (!srv) return;
  const { proc } = srv;
  if (proc.exitCode === null && proc.signalCode === null) {
    const gone = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
    await gone;
    clearTimeout(timer);
  }
  if (!process.env.TOBIRA_KEEP_DATA) {
    await rm(srv.dataDir, { recursive: true, force: true });
  } else {
    console.error(`tobira data dir kept: ${srv.dataDir}`);
  }
}

// ------------------------------------------------------------------ browser

export function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}

// One server (startServer's options) and one browser for the whole test file: started in
// `before`, stopped in `after`. Answers { server, browser }, filled in once `before` has run.
export function serverAndBrowserForFile(serverOptions) {
  const live = { server: undefined, browser: undefined };
  before(async () => {
    live.server = await startServer(serverOptions);
    live.browser = await launchBrowser();
  }, { timeout: SERVER_START_TIMEOUT_MS + 60_000 });

  after(async () => {
    await live.browser?.close().catch(() => {});
    await stopServer(live.server);
    live.server = undefined;
  }, { timeout: 30_000 });
  return live;
}

// The environment of a server on its defaults: no TOBIRA_* setting of the caller's shell may
// change the flow a test file walks.
export function defaultsEnv() {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TOBIRA_')));
}

// ------------------------------------------------------------------ outbox

// The dev outbox of the server at `baseUrl`, oldest first.
export async function readOutbox(baseUrl) {
  const res = await fetch(`${baseUrl}/_dev/outbox.json`);
  assert.equal(res.status, 200, `GET /_dev/outbox.json answered ${res.status}`);
  const list = await res.json();
  assert.ok(Array.isArray(list), 'GET /_dev/outbox.json must answer a JSON array');
  return list;
}

function recipients(mail) {
  const to = mail.to;
  return (Array.isArray(to) ? to : [to]).map((t) => String(t ?? '').toLowerCase());
}

// The e-mails in `list` to `email`, in the list's order.
export function mailsTo(list, email) {
  return list.filter((m) => m.channel === 'email' && recipients(m).some((r) => r.includes(email.toLowerCase())));
}

// Every setup link in the e-mails of `list` to `email`, oldest first.
export function setupLinksIn(list, email) {
  return mailsTo(list, email)
    .map((mail) => String(mail.text ?? '').match(/https?:\/\/[^\s<>"'）)\]]*\/setup\?token=[^\s<>"'）)\]]+/))
    .filter(Boolean)
    .map((m) => m[0]);
}

// ------------------------------------------------------------------ pages

// Keeps a full-page screenshot as tests/browser/artifacts/<name>.png (a failure is only logged).
export async function screenshot(page, name) {
  await mkdir(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  try {
    await page.screenshot({ path: file, fullPage: true });
  } catch (e) {
    console.error(`screenshot ${file} failed: ${e.message}`);
  }
}

// The text of #form-error, or null when the page has none.
export async function formErrorText(page) {
  const el = page.locator('#form-error');
  if ((await el.count()) === 0) return null;
  return (await el.first().innerText().catch(() => '')).trim();
}

// Waits until the page's path is `want` and the page has loaded; answers false when it does
// not get there within STEP_TIMEOUT_MS.
export async function reachedPath(page, want) {
  try {
    await page.waitForURL((u) => u.pathname === want, { timeout: STEP_TIMEOUT_MS });
    await page.waitForLoadState('load');
    return true;
  } catch {
    return false;
  }
}

// Clicks `selector` (a submit button or a link) and waits for the next page to load.
export async function clickAndWait(page, selector) {
  await Promise.all([
    page.waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame(), timeout: STEP_TIMEOUT_MS }),
    page.locator(selector).first().click(),
  ]);
  await page.waitForLoadState('load');
}

// SES-3: usable on a narrow screen: nothing wider than the viewport (no sideways scrolling),
// and nothing sticking out of the page's card (e.g. a table or a long login ID).
export async function assertNoOverflow(page, name) {
  const { scrollWidth, clientWidth, wide } = await page.evaluate(() => {
    const vw = document.documentElement.clientWidth;
    const card = document.querySelector('main .card');
    const cardRight = card ? card.getBoundingClientRect().right : vw;
    const describe = (el) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}` +
      `${typeof el.className === 'string' && el.className ? `.${el.className.split(' ').join('.')}` : ''}`;
    const wide = [...document.querySelectorAll('body *')]
      .filter((el) => {
        const r = el.getBoundingClientRect();
        if (r.width === 0) return false;
        const limit = card && card.contains(el) && el !== card ? cardRight : vw;
        return r.right > limit + 0.5 || r.left < -0.5;
      })
      .slice(0, 5)
      .map((el) => `${describe(el)} (right edge ${Math.round(el.getBoundingClientRect().right)}px)`);
    return { scrollWidth: document.documentElement.scrollWidth, clientWidth: vw, wide };
  });
  const viewport = page.viewportSize();
  assert.ok(scrollWidth <= viewport.width && wide.length === 0,
    `page ${name} (${page.url()}) does not fit ${viewport.width}px: document ${scrollWidth}px wide ` +
      `(client width ${clientWidth}); sticking out: ${wide.join(', ') || '-'}`);
}

// ------------------------------------------------------------------ TOTP (RFC 6238)

export function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const clean = text.replace(/[\s=]/g, '').toUpperCase();
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of clean) {
    const i = alphabet.indexOf(ch);
    assert.ok(i >= 0, `${JSON.stringify(ch)} is not a base32 character (key ${JSON.stringify(text)})`);
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

// The 30-second TOTP time step of now.
export const currentTotpStep = () => Math.floor(Date.now() / 30_000);

// RFC 6238: HMAC-SHA1 over the 8-byte big-endian step, dynamic truncation, 6 digits.
export function totpAt(secretBase32, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', base32Decode(secretBase32)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const bin = ((mac[offset] & 0x7f) << 24) | (mac[offset + 1] << 16) | (mac[offset + 2] << 8) | mac[offset + 3];
  return String(bin % 1_000_000).padStart(6, '0');
}

// MFA-4: a time step is accepted once. { step, code } of the current step, after waiting for
// the next step when the current one is not later than `lastUsed` (at most one 30-s wait),
// and never in the last 1.5 s of a step (the test would record the wrong step).
export async function freshTotp(secret, lastUsed) {
  for (;;) {
    const step = currentTotpStep();
    if (step > lastUsed) {
      const left = (step + 1) * 30_000 - Date.now();
      if (left > 1_500) return { step, code: totpAt(secret, step) };
      await sleep(left + 50);
      continue;
    }
    await sleep((lastUsed + 1) * 30_000 - Date.now() + 50);
  }
}

// ------------------------------------------------------------------ page checks

// The screenshot and page checks of one test file, its screenshots named `${prefix}-${name}`.
// `expectPage` waits until the page's path is `want`, keeps a screenshot (unless `shot` is
// false), and checks the width and that the page has no script (SES-3: no JavaScript needed).
// ------------------------------------------------------------------ accessibility (axe-core)

// WCAG 2.2 AA as axe-core checks it (npm `axe-core`, never a download). The page under test has
// JavaScript off and a CSP that allows no other script; so its DOM, as the browser rendered it,
// is copied into a page of a second context (JavaScript on, CSP bypassed) at the same viewport,
// where axe-core runs. Every result goes to tests/browser/artifacts/axe.jsonl; a serious or
// critical violation fails the page.
const AXE_SOURCE = readFileSync(path.join(ROOT, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];
const axeContexts = new WeakMap();

export async function axeCheck(page, name) {
  const browser = page.context().browser();
  if (!axeContexts.has(browser)) {
    axeContexts.set(browser, browser.newContext({ javaScriptEnabled: true, bypassCSP: true }));
  }
  const context = await axeContexts.get(browser);
  const copy = await context.newPage();
  try {
    const viewport = page.viewportSize();
    if (viewport) await copy.setViewportSize(viewport);
    await copy.setContent(await page.content(), { waitUntil: 'load' });
    await copy.addScriptTag({ content: AXE_SOURCE });
    const violations = await copy.evaluate(async (tags) => {
      const r = await window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
      return r.violations.map((v) => ({
        id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
      }));
    }, AXE_TAGS);
    const lang = await copy.locator('html').getAttribute('lang');
    const url = new URL(page.url());
    await mkdir(ARTIFACTS, { recursive: true });
    await appendFile(path.join(ARTIFACTS, 'axe.jsonl'),
      `${JSON.stringify({ name, path: url.pathname, lang, violations })}\n`);
    const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    assert.deepEqual(bad, [], `axe-core: serious or critical WCAG 2.2 AA violations on ${name} (${url.pathname}, ${lang})`);
  } finally {
    await copy.close();
  }
}

export function pageChecks(prefix) {
  const shoot = (page, name) => screenshot(page, `${prefix}-${name}`);
  async function expectPage(page, want, name, { shot = true } = {}) {
    if (!(await reachedPath(page, want))) {
      await shoot(page, `${name}-unexpected`);
      const err = await formErrorText(page);
      const text = (await page.locator('main').innerText().catch(() => '')).slice(0, 400);
      assert.fail(
        `expected to land on ${want}, but the page is ${page.url()}` +
          (err !== null ? ` and #form-error says: ${JSON.stringify(err)}` : ` showing: ${JSON.stringify(text)}`),
      );
    }
    if (shot) await shoot(page, name);
    await assertNoOverflow(page, name);
    await axeCheck(page, `${prefix}-${name}`);
    // Issue 16 item 2: a refusal speaks the page's language (never a code, never the other one).
    const error = page.locator('#form-error');
    if (await error.count()) {
      const lang = await page.locator('html').getAttribute('lang');
      const text = await error.innerText();
      const japanese = /[\u3040-\u30ff\u4e00-\u9fff]/.test(text);
      assert.ok(lang === 'ja' ? japanese : !japanese, `page ${name}: #form-error is not in ${lang}: ${JSON.stringify(text)}`);
      assert.doesNotMatch(text, /\b[a-z]+_[a-z_]+\b/, `page ${name}: #form-error shows a code: ${JSON.stringify(text)}`);
    }
    // The portal's one script (progressive enhancement), nothing inline, nothing from elsewhere;
    // the journeys run with JavaScript off, so no page needs it.
    assert.equal(await page.locator('script:not([src="/static/tobira.js"])').count(), 0,
      `page ${name} (${page.url()}) must load no script but the portal's own`);
  }
  return { shoot, expectPage };
}

// ------------------------------------------------------------------ outbox waits

// Mails for an assertion message: recipient and subject.
export function mailSummary(mails) {
  return JSON.stringify(mails.map((m) => ({ to: m.to, subject: m.subject })));
}

// Waits on the outbox of one test file's server (`live` from serverAndBrowserForFile).
export function outboxOf(live) {
  const outbox = () => readOutbox(live.server.baseUrl);

  // The e-mails to `email` after outbox entry number `since` whose subject matches `subject`:
  // waits until there is at least one (15 s at most).
  async function mailsAfter(email, since, subject) {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const fresh = mailsTo((await outbox()).slice(since), email);
      const found = fresh.filter((m) => subject.test(String(m.subject ?? '')));
      if (found.length) return found;
      if (Date.now() > deadline) {
        assert.fail(`no e-mail to ${email} with a subject like ${subject} after outbox entry ${since}; ` +
          `new mails to ${email}: ${mailSummary(fresh)}`);
      }
      await sleep(200);
    }
  }

  // The one-time password of the first e-mail to `email` after outbox entry number `since`.
  async function mailedCode(email, since) {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const fresh = mailsTo((await outbox()).slice(since), email);
      for (const mail of fresh) {
        const m = String(mail.text ?? '').match(/(?:password|パスワード)\s*[:：]\s*(\d{6})\b/i);
        if (m) return m[1];
      }
      if (Date.now() > deadline) {
        assert.fail(`no one-time password mailed to ${email} after outbox entry ${since}; new mails: ${mailSummary(fresh)}`);
      }
      await sleep(200);
    }
  }

  return { outbox, mailsAfter, mailedCode };
}

// ------------------------------------------------------------------ journeys

// The steps of a journey that several tests walk in order on one page (`journey.page`): once a
// step has failed the later ones fail at once as skipped, and a failing step is screenshotted.
export function journeySteps(journey, label, shoot) {
  return async function step(name, fn) {
    if (journey.failed) {
      assert.fail(`skipped: an earlier step of the ${label} journey failed (${journey.failed})`);
    }
    try {
      await fn(journey.page);
    } catch (e) {
      journey.failed = name;
      if (journey.page) await shoot(journey.page, `failure-${name}`);
      throw e;
    }
  };
}

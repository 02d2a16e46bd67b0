// Browser tests of the support cases (CASE-1..5, MIG-13): a real (Debian) Chromium driven by
// playwright-core against `tobira serve`, pages only (no JavaScript needed), links read from the
// dev outbox, TOTP codes computed from the shown key. The support desk's side of a case (no
// public route moves a case to "resolved") is the operator event `case-update`, posted to the
// local server's `/_dev/invoke/migrate-batch` as the README shows.
//
// Run through scripts/test.sh, or by hand:
//   TOBIRA_BIN=target/debug/tobira node --test tests/browser/cases.test.mjs
//
// This file starts its own server with a fresh data dir (so the case list starts empty and the
// first case is CS0000001) and the default configuration. With it the local migration window
// is open, and MIG-13 sends users who came from the legacy system to the legacy system to file
// cases; so the journey uses new.member@example.co.jp, the demo account "created by an admin"
// in the portal (RST-4: its registration mail sets the first password), which files here. A
// migrated demo user of the same tenant (hanako) then sees that case in the list but is sent
// elsewhere to file (MIG-13). The journey is split into tests that run in order and share one
// browser context (node:test runs the tests of a file one after another); a later one is
// skipped when an earlier one failed. Every page is seen at 360 px, must fit it and must need
// no script (SES-3); every page is kept as tests/browser/artifacts/cases-*.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  STEP_TIMEOUT_MS, sleep, mailsTo, setupLinksIn, formErrorText, clickAndWait, totpAt, freshTotp, journeySteps,
  mailSummary,
} from './support.mjs';
import { defaultsFile, htmlLang, HANAKO } from './flows.mjs';

// src/lib.rs DEMO_ADMIN_CREATED: created in the portal (no ecid), tenant econ1000000001,
// English mails; its registration mail (RST-4) waits in the outbox from the first start.
const MEMBER = {
  email: 'new.member@example.co.jp',
  loginId: 'new.member@example.co.jp',
  password: 'Hako-Tsuki-6241',
};
// HANAKO (support.mjs): tenant econ1000000001 (the same as new.member), migrated from the
// legacy system.

// The case the journey files (Japanese, as customers write; "VPN" is folded by the search).
const CASE = {
  kind: 'inquiry',
  category: '故障について',
  categoryEn: 'Faults',
  subject: '本社のVPNルーターが再起動を繰り返す',
  body: '本社のVPNルーターの電源ランプが点滅し、数分おきに再起動を繰り返しています。\n拠点間の通信が切れるため、至急確認をお願いします。',
  keyword: '電源ランプ',
  foldedKeyword: 'ｖｐｎ', // full-width lower case: CASE-4 search folds width and case
  missingKeyword: '存在しないキーワード',
  comment: '再起動の間隔は約5分です。ログが必要であればお送りします。',
  deskComment: 'ファームウェアを更新し、再起動が止まったことを確認しました。',
  rejectReason: '更新後も夜間に一度再起動しました。ログを添付します。',
};

// CASE-5: the mails about a case carry its number in brackets (either language).
const caseMailSubject = (number) => new RegExp(`\\[${number}\\]`);

// ------------------------------------------------------------------ server (see flows.mjs defaultsFile)

// The server's defaults: a TOBIRA_* setting of the caller's shell (e.g. TOBIRA_CASE_FILING_SPLIT,
// TOBIRA_CASE_NUMBER_START, TOBIRA_CASE_CATEGORIES) must not change the flow.
const {
  live, outbox, mailsAfter, shoot, expectPage, newContext, mailedLink, setupLinksFor, firstTimeSetup, firstPassword,
  signIn, enrolTotp, enrolEmail, signInWithMailedCode, acceptTerms,
} = defaultsFile('cases');

// ------------------------------------------------------------------ outbox and the desk

// CASE-3: the support desk's side of a case, as an operator event (API.md "Local mode only").
async function deskUpdate(event) {
  const res = await fetch(`${live.server.baseUrl}/_dev/invoke/migrate-batch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ action: 'case-update', ...event }),
  });
  const text = await res.text();
  assert.equal(res.status, 200, `the case-update event ${JSON.stringify(event)} answered ${res.status}: ${text}`);
  return JSON.parse(text);
}

// ------------------------------------------------------------------ pages

const JAPANESE = { locale: 'ja-JP' };

// The HTTP status of the page's document (for a redirected POST, of the last request).
async function documentStatus(page) {
  return page.evaluate(() => performance.getEntriesByType('navigation')[0].responseStatus);
}

async function text(page, selector) {
  return (await page.locator(selector).first().innerText()).trim();
}

async function caseStatus(page) {
  return page.locator('#case-status').getAttribute('data-status');
}

// A button of the case page: the case page again, saying it is done (`?notice=case_${done}`,
// p#form-notice), with the case in `status`.
async function caseButton(page, button, name, done, status) {
  await clickAndWait(page, button);
  await expectPage(page, `/cases/${journey.id}`, name);
  assert.equal(new URL(page.url()).searchParams.get('notice'), `case_${done}`);
  assert.ok(await page.locator('p#form-notice').isVisible(), `the case page says the case is ${done}`);
  assert.equal(await caseStatus(page), status);
}

// The numbers of the cases the list shows, in order.
async function listed(page) {
  return page.locator('#case-list li[data-number]').evaluateAll((els) => els.map((e) => e.dataset.number));
}

// The list's keyword search: fills #q, submits, and answers the numbers listed.
async function search(page, keyword, name) {
  await page.fill('#q', keyword);
  await clickAndWait(page, '#search');
  await expectPage(page, '/cases', name);
  assert.equal(new URL(page.url()).searchParams.get('q'), keyword);
  assert.equal(await page.locator('#q').inputValue(), keyword, 'the search field keeps the keyword');
  return listed(page);
}

// ------------------------------------------------------------------ the journey (ja, 360 px)

// What the tests of the journey hand on: the context (the session cookie), the case.
const journey = { context: null, page: null, id: null, number: null, more: [], failed: false };
const step = journeySteps(journey, 'cases', shoot);

test('RST-4 MFA-4 TOS-1: new.member sets the first password, enrols TOTP and reaches the dashboard',
  { timeout: 120_000 }, async () => {
    journey.context = await newContext(JAPANESE);
    journey.page = await journey.context.newPage();
    await step('sign-in', async (page) => {
      // RST-4: the registration mail of the account created in the portal.
      const link = await mailedLink(MEMBER.email, '/password/reset?token=');
      assert.ok(link.startsWith(`${live.server.baseUrl}/`), `the link ${link} is not on --base-url`);
      assert.deepEqual(setupLinksIn(await outbox(), MEMBER.email), [],
        'an account created in the portal gets no /setup link (no identity check)');
      await firstPassword(page, link, MEMBER, ['00-first-password', '01-login']);

      // LOG-4: no factor yet → the choice of method; TOTP (MFA-4).
      await signIn(page, MEMBER);
      await expectPage(page, '/enroll', '02-enroll-choice');
      // MFA-4 and MFA-5: the key, the first code, the recovery codes acknowledged.
      const enrolled = await enrolTotp(page, ['03-enroll-totp', '04-recovery-codes', '05-login-enrolled']);

      // Sign in with the new factor (the next time step: MFA-4 takes a step once).
      await signIn(page, MEMBER);
      await expectPage(page, '/login/mfa', '06-challenge-totp');
      const totp = await freshTotp(enrolled.secret, enrolled.step);
      await page.fill('#code', totp.code);
      await clickAndWait(page, '#verify');

      // TOS-1, then the dashboard and its link to the cases.
      await acceptTerms(page, ['07-terms', '08-dashboard']);
      assert.equal(await text(page, '#login-id'), MEMBER.loginId);
      assert.equal(await page.locator('a#cases-link').getAttribute('href'), '/cases',
        'the dashboard links to the cases (a#cases-link → /cases)');
    });
  });

test('CASE-1 CASE-2 CASE-5: the empty list, a refused and a filed case, the notice mail',
  { timeout: 60_000 }, async () => {
    await step('file', async (page) => {
      // CASE-4: a fresh portal: no cases yet.
      await clickAndWait(page, 'a#cases-link');
      await expectPage(page, '/cases', '10-list-empty');
      assert.ok(await page.locator('h1#cases-title').isVisible(), 'the list has its title h1#cases-title');
      assert.ok(await page.locator('p#no-cases').isVisible(), 'an empty list says so in p#no-cases');
      assert.equal(await page.locator('#case-list li').count(), 0);
      assert.equal(await page.locator('a#new-case').getAttribute('href'), '/cases/new');

      // CASE-1: the form: the two kinds, the categories, subject and body.
      await clickAndWait(page, 'a#new-case');
      await expectPage(page, '/cases/new', '11-new-case');
      if (await page.locator('#filing-refused').count()) {
        assert.fail(`MIG-13: an account created in the portal files here, but the page says: ` +
          `${await text(page, '#filing-refused')}`);
      }
      const kinds = await page.locator('input[type="radio"][name="kind"]').evaluateAll(
        (els) => els.map((e) => `${e.id}=${e.value}`));
      assert.deepEqual(kinds, ['kind-inquiry=inquiry', 'kind-work_request=work_request']);
      const categories = (await page.locator('select#category option').allInnerTexts()).map((c) => c.trim());
      for (const c of ['故障について', '作業依頼']) {
        assert.ok(categories.includes(c), `select#category must offer ${c}; it offers ${JSON.stringify(categories)}`);
      }
      assert.equal(await page.locator('select#category').inputValue(), '', 'no category is chosen beforehand');
      for (const field of ['#subject', '#body', '#category']) {
        assert.equal(await page.locator(`${field}[required]`).count(), 1, `${field} is required`);
      }

      // A body of spaces passes the browser's `required` but not the server: 400, the form
      // again with #form-error and what was entered.
      await page.check('#kind-inquiry');
      await page.selectOption('#category', { label: CASE.category });
      await page.fill('#subject', CASE.subject);
      await page.fill('#body', '   ');
      await clickAndWait(page, '#submit-case');
      await expectPage(page, '/cases/new', '12-new-case-blank-body');
      assert.equal(await documentStatus(page), 400, 'a blank body is refused with 400');
      assert.ok(await formErrorText(page), 'a blank body must be refused with p#form-error');
      assert.ok(await page.locator('p#form-error').isVisible());
      assert.equal(await page.locator('#subject').inputValue(), CASE.subject, 'the refused form keeps the subject');
      assert.equal(await page.locator('#category').inputValue(), CASE.category, 'the refused form keeps the category');
      assert.ok(await page.locator('#kind-inquiry').isChecked(), 'the refused form keeps the kind');
      assert.equal((await outbox()).filter((m) => /\[CS\d{7}\]/.test(String(m.subject ?? ''))).length, 0,
        'nothing is filed (no case mail) for a refused form');

      // Filed: the case's page with a notice, its number and status.
      const since = (await outbox()).length;
      await page.fill('#body', CASE.body);
      await clickAndWait(page, '#submit-case');
      await page.waitForURL((u) => /^\/cases\/[0-9A-HJKMNP-TV-Z]{26}$/.test(u.pathname), { timeout: STEP_TIMEOUT_MS })
        .catch(async () => {
          await shoot(page, '13-case-created-unexpected');
          assert.fail(`after filing, expected /cases/{id}, but the page is ${page.url()}; ` +
            `#form-error: ${JSON.stringify(await formErrorText(page))}`);
        });
      const url = new URL(page.url());
      journey.id = url.pathname.split('/')[2];
      assert.equal(url.searchParams.get('notice'), 'case_created');
      await expectPage(page, `/cases/${journey.id}`, '13-case-created');
      assert.ok(await page.locator('p#form-notice').isVisible(), 'the case page says the case is filed (p#form-notice)');
      journey.number = await text(page, 'span#case-number');
      assert.match(journey.number, /^CS\d{7}$/, 'CASE-2: the number is CS and 7 digits');
      assert.equal(journey.number, 'CS0000001', 'CASE-2: the first case of a fresh portal');
      assert.equal(await caseStatus(page), 'new');
      assert.equal(await page.locator('span#case-status[data-status="new"]').count(), 1);
      assert.equal(await text(page, 'p#case-body'), CASE.body, 'the case shows its text, line break included');
      assert.equal(await text(page, '#case-category'), CASE.category);
      // CASE-1 (issue 16): categories have English labels too; the value stays the same.
      await page.goto(`${live.server.baseUrl}/cases/${journey.id}?lang=en`);
      await expectPage(page, `/cases/${journey.id}`, '13-case-created-en');
      assert.equal(await text(page, '#case-category'), CASE.categoryEn);
      await page.goto(`${live.server.baseUrl}/cases/new?lang=en`);
      await expectPage(page, '/cases/new', '13-new-case-en');
      assert.equal(await page.locator(`select#category option[value="${CASE.category}"]`).innerText(), CASE.categoryEn);
      const english = await page.locator('select#category option').allInnerTexts();
      assert.ok(english.every((o) => !/[\u3040-\u30ff\u4e00-\u9fff]/.test(o)), `English labels only: ${JSON.stringify(english)}`);
      await page.goto(`${live.server.baseUrl}/cases/${journey.id}?lang=ja`);
      await expectPage(page, `/cases/${journey.id}`, '13-case-created-ja', { shot: false });
      assert.ok((await text(page, '#case-title')).includes(CASE.subject), 'the title shows the subject');
      assert.equal(await page.locator('#comments li').count(), 0, 'no comments yet');
      assert.ok(await page.locator('textarea#comment').isVisible());
      // CASE-3: an open case may be closed; accept and reject are for a resolved one.
      assert.equal(await page.locator('button#close-case').count(), 1);
      assert.equal(await page.locator('button#accept-case, button#reject-case').count(), 0);

      // CASE-5: the notice mail names the case and links to it.
      const mails = await mailsAfter(MEMBER.email, since, caseMailSubject(journey.number));
      assert.equal(mails.length, 1, `CASE-5: one notice mail on creation, got ${mailSummary(mails)}`);
      assert.ok(String(mails[0].text).includes(`${live.server.baseUrl}/cases/${journey.id}`),
        `the notice mail links to the case: ${JSON.stringify(mails[0].text)}`);
      assert.ok(!String(mails[0].text).includes(CASE.keyword), 'the notice mail does not carry the case\'s text');
    });
  });

test('CASE-4: the case in the list, keyword search and the "action needed" filter', { timeout: 60_000 }, async () => {
  await step('list', async (page) => {
    await clickAndWait(page, '#back-to-cases');
    await expectPage(page, '/cases', '20-list');
    assert.deepEqual(await listed(page), [journey.number]);
    assert.equal(await page.locator('p#no-cases').count(), 0, 'p#no-cases only for an empty list');
    const item = page.locator(`#case-list li[data-number="${journey.number}"]`);
    assert.equal(await item.getAttribute('data-status'), 'new');
    const link = item.locator('a.case-link');
    assert.equal(await link.getAttribute('href'), `/cases/${journey.id}`);
    assert.ok((await link.innerText()).includes(CASE.subject), 'the list shows the subject');

    // A Japanese keyword from the body finds it; full-width letters find "VPN"; nothing else does.
    assert.deepEqual(await search(page, CASE.keyword, '21-search-keyword'), [journey.number],
      `the keyword ${CASE.keyword} from the body must find the case`);
    assert.deepEqual(await search(page, CASE.foldedKeyword, '22-search-folded'), [journey.number],
      `CASE-4: ${CASE.foldedKeyword} (full-width) must find "VPN"`);
    // Issue 16: the case number finds it too, as printed and as typed (lower case).
    assert.deepEqual(await search(page, journey.number, '22a-search-number'), [journey.number]);
    assert.deepEqual(await search(page, journey.number.toLowerCase(), '22b-search-number-typed'), [journey.number]);
    assert.deepEqual(await search(page, CASE.missingKeyword, '23-search-nothing'), []);
    assert.ok(await page.locator('p#no-cases').isVisible(), 'a search that finds nothing says so in p#no-cases');

    // "Action needed": a new case waits for the desk, not for the customer.
    await page.fill('#q', '');
    await clickAndWait(page, '#search');
    await expectPage(page, '/cases', '24-list-all', { shot: false });
    await clickAndWait(page, 'a#filter-action-needed');
    await expectPage(page, '/cases', '25-list-action-needed-none');
    assert.equal(new URL(page.url()).searchParams.get('filter'), 'action_needed');
    assert.deepEqual(await listed(page), []);
    assert.ok(await page.locator('p#no-cases').isVisible());
    assert.equal(await page.locator('a#filter-all').getAttribute('href'), '/cases');
  });
});

test('CASE-5: a comment on the case', { timeout: 60_000 }, async () => {
  await step('comment', async (page) => {
    await page.goto(`${live.server.baseUrl}/cases`);
    await expectPage(page, '/cases', '30-list', { shot: false });
    await clickAndWait(page, `#case-list li[data-number="${journey.number}"] a.case-link`);
    await expectPage(page, `/cases/${journey.id}`, '30-case');
    const since = (await outbox()).length;
    await page.fill('textarea#comment', CASE.comment);
    await clickAndWait(page, 'button#send-comment');
    await expectPage(page, `/cases/${journey.id}`, '31-case-commented');
    assert.equal(new URL(page.url()).searchParams.get('notice'), 'case_commented');
    assert.ok(await page.locator('p#form-notice').isVisible(), 'the case page says the comment is sent');
    const comments = page.locator('ol#comments li');
    assert.equal(await comments.count(), 1);
    assert.ok((await comments.first().innerText()).includes(CASE.comment), 'the comment is shown in ol#comments');
    assert.equal(await caseStatus(page), 'new', 'a comment on a new case leaves it new');
    assert.equal(await page.locator('textarea#comment').inputValue(), '', 'the comment field is empty again');
    await sleep(300);
    assert.deepEqual(mailsTo((await outbox()).slice(since), MEMBER.email).map((m) => m.subject), [],
      'CASE-5: a comment without a status change mails nothing');
  });
});

test('CASE-3: the desk resolves the case; the customer rejects, then closes it', { timeout: 60_000 }, async () => {
  await step('resolve-reject-close', async (page) => {
    // The support desk: "resolved", with its comment.
    let since = (await outbox()).length;
    const report = await deskUpdate({ number: journey.number, status: 'resolved', comment: CASE.deskComment });
    assert.equal(report.number, journey.number);
    assert.equal(report.status, 'resolved');
    await mailsAfter(MEMBER.email, since, caseMailSubject(journey.number));

    await page.goto(`${live.server.baseUrl}/cases/${journey.id}`);
    await expectPage(page, `/cases/${journey.id}`, '40-case-resolved');
    assert.equal(await page.locator('#case-status[data-status="resolved"]').count(), 1,
      `after the desk's update the case is resolved, it shows ${await caseStatus(page)}`);
    const comments = await page.locator('ol#comments li').allInnerTexts();
    assert.equal(comments.length, 2, `the customer's and the desk's comment, got ${JSON.stringify(comments)}`);
    assert.ok(comments[0].includes(CASE.comment), 'oldest first: the customer\'s comment');
    assert.ok(comments[1].includes(CASE.deskComment), 'the desk\'s comment is shown');
    // CASE-3 (issue 16): the desk's comment carries its change of status in the thread.
    assert.equal(await page.locator('ol#comments li.support .change[data-from="new"][data-to="resolved"]').count(), 1,
      `the thread shows new → resolved with the desk's comment: ${JSON.stringify(comments)}`);
    assert.equal(await page.locator('ol#comments li.support').count(), 1, 'the desk\'s comment is marked as the desk\'s');
    assert.ok(await page.locator('button#accept-case').isVisible());
    assert.ok(await page.locator('button#reject-case').isVisible());
    assert.equal(await page.locator('button#close-case').count(), 0, 'CASE-3: a resolved case is accepted or rejected, not closed');

    // CASE-4: now the customer has something to do.
    await clickAndWait(page, '#back-to-cases');
    await expectPage(page, '/cases', '41-list', { shot: false });
    await clickAndWait(page, 'a#filter-action-needed');
    await expectPage(page, '/cases', '41-list-action-needed');
    assert.deepEqual(await listed(page), [journey.number], 'a resolved case needs action');
    assert.equal(await page.locator('p#no-cases').count(), 0);

    // Reject: the desk works on.
    await clickAndWait(page, `#case-list li[data-number="${journey.number}"] a.case-link`);
    await expectPage(page, `/cases/${journey.id}`, '42-case-resolved');
    since = (await outbox()).length;
    // CASE-3 (issue 16): a rejection asks why; the reason is in the thread with the change.
    assert.equal(await page.locator('textarea#reject-reason[required]').count(), 1, 'the reason is required');
    assert.equal(await page.locator('label[for="reject-reason"]').count(), 1);
    await page.fill('#reject-reason', CASE.rejectReason);
    await caseButton(page, 'button#reject-case', '43-case-rejected', 'rejected', 'in_progress');
    const rejected = page.locator('ol#comments li.customer').last();
    assert.ok((await rejected.innerText()).includes(CASE.rejectReason), 'the reason is in the thread');
    assert.equal(await rejected.locator('.change[data-from="resolved"][data-to="in_progress"]').count(), 1,
      'with the change it made');
    assert.equal(await page.locator('button#accept-case, button#reject-case').count(), 0);
    assert.ok(await page.locator('button#close-case').isVisible(), 'a case in progress may be closed');
    await mailsAfter(MEMBER.email, since, caseMailSubject(journey.number));

    // Close: for good.
    since = (await outbox()).length;
    await caseButton(page, 'button#close-case', '44-case-closed', 'closed', 'closed');
    assert.ok(await page.locator('p#closed-note').isVisible(), 'a closed case says so (p#closed-note)');
    assert.equal(await page.locator('textarea#comment').count(), 0, 'a closed case takes no comments');
    const closing = page.locator('ol#comments li').last();
    assert.equal(await closing.locator('.change[data-from="in_progress"][data-to="closed"]').count(), 1,
      'the close is in the thread');
    assert.equal(await closing.locator('.body').count(), 0, 'a change without words has no text');
    assert.equal(await page.locator('button#close-case, button#accept-case, button#reject-case').count(), 0);
    await mailsAfter(MEMBER.email, since, caseMailSubject(journey.number));

    // CASE-5: a mail on creation and on each change of status (resolved, in progress, closed).
    const all = mailsTo(await outbox(), MEMBER.email).filter((m) => caseMailSubject(journey.number).test(m.subject));
    assert.equal(all.length, 4, `CASE-5: four mails about ${journey.number}, got ${mailSummary(all)}`);

    // The list: closed, and nothing needs action any more.
    await clickAndWait(page, '#back-to-cases');
    await expectPage(page, '/cases', '45-list-closed');
    assert.equal(await page.locator(`#case-list li[data-number="${journey.number}"]`).getAttribute('data-status'), 'closed');
    await clickAndWait(page, 'a#filter-action-needed');
    await expectPage(page, '/cases', '46-list-action-needed-none');
    assert.deepEqual(await listed(page), []);
  });
});

// CASE-7 and CASE-8 (issue 18): a work request waits for the desk, which declines it with a
// reason; the desk marks another case as a monthly report delivery, and the list's filter finds it.
test('CASE-7 CASE-8: a work request the desk declines, and the "monthly report" filter',
  { timeout: 60_000 }, async () => {
    await step('work-request', async (page) => {
      await page.goto(`${live.server.baseUrl}/cases/new`);
      await expectPage(page, '/cases/new', '47-new-work-request', { shot: false });
      await page.check('#kind-work_request');
      await page.selectOption('#category', { label: '作業依頼' });
      await page.fill('#subject', '検知ポリシーの変更');
      await page.fill('#body', '検知ポリシーを「高」に変更してください。');
      await clickAndWait(page, '#submit-case');
      await page.waitForURL((u) => /^\/cases\/[0-9A-HJKMNP-TV-Z]{26}$/.test(u.pathname), { timeout: STEP_TIMEOUT_MS });
      const id = new URL(page.url()).pathname.split('/')[2];
      const number = await text(page, 'span#case-number');
      journey.more.push(number);
      await expectPage(page, `/cases/${id}`, '47-work-request-waiting');
      assert.ok(await page.locator('p#awaits-decision').isVisible(), 'CASE-7: the request says it waits for the desk');
      assert.equal(await page.locator('#case-decision').count(), 0);

      // The desk declines it with a reason: closed, the reason in the thread, a mail.
      const since = (await outbox()).length;
      const reason = 'ご契約の範囲外のため、お受けできません。';
      const report = await deskUpdate({ number, decision: 'decline', reason });
      assert.deepEqual([report.status, report.decision], ['closed', 'declined']);
      const mails = await mailsAfter(MEMBER.email, since, caseMailSubject(number));
      assert.equal(mails.length, 1, `CASE-7: one mail about the decision, got ${mailSummary(mails)}`);
      assert.ok(!String(mails[0].text).includes(reason), 'the reason stays behind sign-in');
      await page.goto(`${live.server.baseUrl}/cases/${id}`);
      await expectPage(page, `/cases/${id}`, '48-work-request-declined');
      assert.equal(await page.locator('td#case-decision[data-decision="declined"]').count(), 1);
      assert.equal(await page.locator('p#awaits-decision').count(), 0);
      assert.equal(await caseStatus(page), 'closed');
      const entry = page.locator('ol#comments li.support');
      assert.ok((await entry.innerText()).includes(reason), 'the reason is the desk\'s entry in the thread');
      assert.equal(await entry.locator('.change[data-from="new"][data-to="closed"]').count(), 1);

      // CASE-8: a case marked as a report delivery is what "monthly report" lists.
      await deskUpdate({ number: journey.number, monthly_report: true });
      await page.goto(`${live.server.baseUrl}/cases`);
      await expectPage(page, '/cases', '49-list-all', { shot: false });
      await clickAndWait(page, 'a#filter-monthly-report');
      await expectPage(page, '/cases', '49-list-monthly-report');
      assert.equal(new URL(page.url()).searchParams.get('filter'), 'monthly_report');
      assert.deepEqual(await listed(page), [journey.number]);
      assert.equal(await page.locator('strong#filter-monthly-report[aria-current="page"]').count(), 1);
      assert.equal(await page.locator('input[type="hidden"][name="filter"]').inputValue(), 'monthly_report',
        'a search keeps the filter');
      assert.equal(await page.locator('a#filter-all').getAttribute('href'), '/cases');
    });
  });

test('the language switch on a case page stays on the case', { timeout: 60_000 }, async () => {
  await step('language', async (page) => {
    await page.goto(`${live.server.baseUrl}/cases/${journey.id}`);
    await expectPage(page, `/cases/${journey.id}`, '50-case-ja', { shot: false });
    assert.equal(await htmlLang(page), 'ja');
    const sw = page.locator('a#lang-switch');
    assert.equal(await sw.getAttribute('hreflang'), 'en');
    await clickAndWait(page, 'a#lang-switch');
    await expectPage(page, `/cases/${journey.id}`, '51-case-en');
    assert.equal(await htmlLang(page), 'en');
    assert.equal(await text(page, '#case-number'), journey.number);
    assert.equal(await caseStatus(page), 'closed');
    await clickAndWait(page, 'a#lang-switch');
    await expectPage(page, `/cases/${journey.id}`, '52-case-ja');
    assert.equal(await htmlLang(page), 'ja');
    assert.equal(await text(page, '#case-number'), journey.number);
  });
  await journey.context?.close();
});

// ------------------------------------------------------------------ MIG-13 (ja, 360 px)

test('MIG-13: a migrated user sees the tenant\'s cases but is sent to the legacy system to file',
  { timeout: 90_000 }, async () => {
    const context = await newContext(JAPANESE);
    const page = await context.newPage();
    try {
      // Setup link → identity check → password → e-mail codes (MFA-2 default) → terms.
      const links = await setupLinksFor(HANAKO.email);
      await firstTimeSetup(page, HANAKO, '60', links.at(-1));
      await signIn(page, HANAKO);
      await expectPage(page, '/enroll', '63-enroll-choice');
      await enrolEmail(page, HANAKO.email, ['64-enroll-email', '65-recovery-codes', '66-login-enrolled']);
      await signInWithMailedCode(page, HANAKO, ['67-challenge-email', '68-challenge-email-sent']);
      await acceptTerms(page, ['69-terms', '70-dashboard']);

      // CASE-4: the tenant's cases, whoever filed them.
      await clickAndWait(page, 'a#cases-link');
      await expectPage(page, '/cases', '71-list-same-tenant');
      if (journey.number) {
        assert.deepEqual((await listed(page)).sort(), [journey.number, ...journey.more].sort(),
          'CASE-4: the list shows the cases of the user\'s tenant, filed by anyone in it');
      }

      // MIG-13: the list says where to file instead of offering a new case ...
      assert.ok((await text(page, '#filing-refused')).length > 0, 'MIG-13: the list says where to file');
      assert.equal(await page.locator('a#new-case').count(), 0, 'MIG-13: no "new case" link');
      // ... and the form's address shows no form, only where to file.
      await page.goto(`${live.server.baseUrl}/cases/new`);
      await expectPage(page, '/cases/new', '72-new-case-refused');
      assert.ok(await page.locator('#filing-refused').isVisible(), 'MIG-13: the refusal says where to file (#filing-refused)');
      assert.ok((await text(page, '#filing-refused')).length > 0);
      assert.equal(await page.locator('#submit-case, #subject, #body').count(), 0, 'MIG-13: no form to file here');
    } catch (e) {
      await shoot(page, 'failure-mig13');
      throw e;
    } finally {
      await context.close();
    }
  });

// The RFC 6238 test vector, so a broken helper fails here and not as a refused code.
assert.equal(totpAt('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', 1), '287082');

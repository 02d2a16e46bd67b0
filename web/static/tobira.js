// tobira's one script (issue 16 item 12): progressive enhancement only. Every page works
// without it; served by the portal itself (GET /static/tobira.js) under a CSP that allows no
// inline script and no other origin. No data leaves the page, nothing is stored.
//  1. A show/hide button after every password field.
//  2. The new-password checklist (#password-rules) follows what is typed: the rules the browser
//     can check (length, letters, digits, symbols, allowed characters) turn met or unmet as the
//     user types; the rest (PW-3: common, personal, ...) are checked when the form is sent.
(function () {
  'use strict';
  var ja = document.documentElement.lang === 'ja';
  var T = ja
    ? { show: '表示', hide: '隠す', field: 'パスワードを表示する', met: '（満たしています）', unmet: '（まだ満たしていません）', count: '{n} / {all} 件の条件を満たしています' }
    : { show: 'Show', hide: 'Hide', field: 'Show password', met: ' (met)', unmet: ' (not met yet)', count: '{n} of {all} rules met' };

  function revealButtons() {
    var fields = document.querySelectorAll('input[type="password"]');
    Array.prototype.forEach.call(fields, function (input) {
      if (!input.id) return;
      var label = document.querySelector('label[for="' + input.id + '"]');
      var b = document.createElement('button');
      b.type = 'button';
      b.className = 'reveal';
      b.textContent = T.show;
      b.setAttribute('aria-controls', input.id);
      b.setAttribute('aria-pressed', 'false');
      b.setAttribute('aria-label', T.field + (label ? '：' + label.textContent.trim() : ''));
      b.addEventListener('click', function () {
        var shown = input.type === 'text';
        input.type = shown ? 'password' : 'text';
        b.setAttribute('aria-pressed', shown ? 'false' : 'true');
        b.textContent = shown ? T.show : T.hide;
      });
      input.insertAdjacentElement('afterend', b);
      // Sent as a password field: a browser never keeps the typed text as a form value.
      if (input.form) input.form.addEventListener('submit', function () { input.type = 'password'; });
    });
  }

  // The rules a browser can check, as the server's PW-1 / PW-2 (shared/src/password.rs).
  function unmet(rule, pw, list) {
    var chars = Array.from(pw);
    var symbols = list.getAttribute('data-symbols') || '';
    switch (rule) {
      case 'length':
        return chars.length < Number(list.getAttribute('data-min')) || chars.length > Number(list.getAttribute('data-max'));
      case 'lower': return !/[a-z]/.test(pw);
      case 'upper': return !/[A-Z]/.test(pw);
      case 'digit': return !/[0-9]/.test(pw);
      case 'symbol': return !chars.some(function (c) { return symbols.indexOf(c) >= 0; });
      case 'characters':
        return !chars.every(function (c) { return /[A-Za-z0-9]/.test(c) || symbols.indexOf(c) >= 0; });
      default: return null; // checked by the server when the form is sent
    }
  }

  function liveChecklist() {
    var list = document.getElementById('password-rules');
    var input = document.getElementById('password');
    if (!list || !input) return;
    var items = Array.prototype.slice.call(list.querySelectorAll('li[data-rule]'));
    var status = document.createElement('p');
    status.id = 'password-rules-status';
    status.className = 'hint';
    status.setAttribute('role', 'status');
    list.insertAdjacentElement('afterend', status);
    var checkable = items.filter(function (li) { return unmet(li.getAttribute('data-rule'), '', list) !== null; });
    function update() {
      var pw = input.value;
      var met = 0;
      checkable.forEach(function (li) {
        var bad = unmet(li.getAttribute('data-rule'), pw, list);
        var state = pw === '' ? '' : (bad ? 'unmet' : 'met');
        li.setAttribute('data-state', state);
        var note = li.querySelector('.state');
        if (!note) {
          note = document.createElement('span');
          note.className = 'state visually-hidden';
          li.appendChild(note);
        }
        note.textContent = state === 'met' ? T.met : (state === 'unmet' ? T.unmet : '');
        if (!bad) met += 1;
      });
      status.textContent = pw === '' ? '' : T.count.replace('{n}', met).replace('{all}', checkable.length);
    }
    input.addEventListener('input', update);
    update();
  }

  revealButtons();
  liveChecklist();
}());

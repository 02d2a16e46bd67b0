// tobira's one script (issue 16 item 12): progressive enhancement only. Every page works
// without it; served by the portal itself (GET /static/tobira.js) under a CSP that allows no
// inline script and no other origin. No data leaves the page, nothing is stored.
//  1. A show/hide button after every password field.
//  2. The new-password checklist (#password-rules) follows what is typed: the rules the browser
//     can check (length, letters, digits, symbols, allowed characters) turn met or unmet as the
//     user types; the rest (PW-3: common, personal, ...) are checked when the form is sent.
//  3. CASE-6: a progress bar for an attachment's upload. Without the script the case page's form
//     posts the file straight to the file store, which sends the browser back to the
//     confirmation. With it, the script asks the API for a form the store answers with 201
//     (POST /api/cases/{id}/uploads), posts the file with XMLHttpRequest (which reports its
//     progress; S3's CORS rule allows the portal's origin only) and then goes to the same
//     confirmation (the ticket's `confirm`, with its state) with the key and ETag the store
//     answered. Any failure before the upload falls back to the plain form.
//  4. MFA-10: passkeys and security keys. A form with `data-passkey` (`get`: sign in, `create`:
//     enrol) and `data-begin` (the API route that answers the WebAuthn options) has a button that
//     only the script shows (with the form, whose fields serve only the button), and only where
//     the browser has WebAuthn. It asks the portal for the options (the fields marked
//     `data-begin-field`, and the login ID typed on the sign-in page), has the browser make the
//     credential or the assertion, and posts the page's form with it (`credential`, as JSON): the
//     portal answers with the next page. Elsewhere the page says passkeys cannot be used here
//     (`#passkey-unsupported`), and every other method still works.
(function () {
  'use strict';
  var ja = document.documentElement.lang === 'ja';
  var T = ja
    ? { show: '表示', hide: '隠す', field: 'パスワードを表示する', met: '（満たしています）', unmet: '（まだ満たしていません）', count: '{n} / {all} 件の条件を満たしています', uploadFailed: 'アップロードできませんでした（ファイルが大きすぎるか、添付できない種類の可能性があります）。もう一度お試しください。' }
    : { show: 'Show', hide: 'Hide', field: 'Show password', met: ' (met)', unmet: ' (not met yet)', count: '{n} of {all} rules met', uploadFailed: 'The upload failed (the file may be too large or of a type that cannot be attached). Please try again.' };

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

  function attachProgress() {
    var form = document.getElementById('attach-form');
    var bar = document.getElementById('attach-progress');
    var input = document.getElementById('attach-file');
    var button = document.getElementById('attach-submit');
    if (!form || !bar || !input || !button || !window.fetch || !window.FormData || !window.DOMParser) return;
    var id = form.getAttribute('data-case');
    var alert = document.createElement('p');
    alert.className = 'error';
    alert.id = 'attach-error';
    alert.setAttribute('role', 'alert');
    alert.hidden = true;
    form.insertAdjacentElement('beforeend', alert);
    function failed() {
      bar.hidden = true;
      button.disabled = false;
      alert.textContent = T.uploadFailed;
      alert.hidden = false;
    }
    form.addEventListener('submit', function (ev) {
      var file = input.files && input.files[0];
      if (!file) return;
      ev.preventDefault();
      button.disabled = true;
      alert.hidden = true;
      fetch('/api/cases/' + encodeURIComponent(id) + '/uploads', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: '{}'
      }).then(function (res) {
        if (res.status !== 201) throw new Error('no form');
        return res.json();
      }).then(function (ticket) {
        var data = new FormData();
        ticket.fields.forEach(function (f) { data.append(f[0], f[1]); });
        data.append('file', file);
        var xhr = new XMLHttpRequest();
        xhr.open('POST', ticket.action);
        bar.value = 0;
        bar.hidden = false;
        xhr.upload.addEventListener('progress', function (e) {
          if (e.lengthComputable) bar.value = Math.round(e.loaded * 100 / e.total);
        });
        xhr.addEventListener('error', failed);
        xhr.addEventListener('load', function () {
          var doc = xhr.status === 201 && new DOMParser().parseFromString(xhr.responseText, 'application/xml');
          var key = doc && doc.querySelector('Key');
          var etag = doc && doc.querySelector('ETag');
          if (!key) return failed();
          bar.value = 100;
          location.assign(ticket.confirm + '&key=' + encodeURIComponent(key.textContent) +
            (etag ? '&etag=' + encodeURIComponent(etag.textContent) : ''));
        });
        xhr.send(data);
      }).catch(function () { form.submit(); });
    });
  }

  function fromB64url(s) {
    s = String(s).replace(/-/g, '+').replace(/_/g, '/');
    while (s.length % 4) s += '=';
    var bin = atob(s);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i += 1) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }

  function toB64url(buf) {
    if (!buf) return null;
    var bytes = new Uint8Array(buf);
    var s = '';
    for (var i = 0; i < bytes.length; i += 1) s += String.fromCharCode(bytes[i]);
    return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  // The options as JSON carry no nulls the browser would refuse, and binary as base64url.
  function withoutNulls(v) {
    if (Array.isArray(v)) return v.map(withoutNulls);
    if (v && typeof v === 'object') {
      var o = {};
      Object.keys(v).forEach(function (k) { if (v[k] !== null) o[k] = withoutNulls(v[k]); });
      return o;
    }
    return v;
  }

  function decodeOptions(o) {
    o = withoutNulls(o);
    o.challenge = fromB64url(o.challenge);
    if (o.user) o.user.id = fromB64url(o.user.id);
    (o.excludeCredentials || []).concat(o.allowCredentials || []).forEach(function (c) {
      c.id = fromB64url(c.id);
    });
    return o;
  }

  function credentialJSON(c) {
    if (typeof c.toJSON === 'function') return c.toJSON();
    var r = c.response;
    var response = { clientDataJSON: toB64url(r.clientDataJSON) };
    if (r.attestationObject) response.attestationObject = toB64url(r.attestationObject);
    if (r.authenticatorData) response.authenticatorData = toB64url(r.authenticatorData);
    if (r.signature) response.signature = toB64url(r.signature);
    if (r.userHandle) response.userHandle = toB64url(r.userHandle);
    if (typeof r.getTransports === 'function') response.transports = r.getTransports();
    return {
      id: c.id,
      rawId: toB64url(c.rawId),
      type: c.type,
      authenticatorAttachment: c.authenticatorAttachment || null,
      clientExtensionResults: c.getClientExtensionResults ? c.getClientExtensionResults() : {},
      response: response
    };
  }

  function passkeys() {
    var form = document.getElementById('passkey-form');
    var start = document.getElementById('passkey-start');
    if (!form || !start) return;
    var supported = !!(window.PublicKeyCredential && navigator.credentials && window.fetch);
    if (!supported) return;
    var box = document.getElementById('passkey-box');
    if (box) box.hidden = false;
    // The form's fields (a name, "remember this device") are of no use without the button.
    form.hidden = false;
    start.hidden = false;
    var unsupported = document.getElementById('passkey-unsupported');
    if (unsupported) unsupported.hidden = true;
    var alert = document.getElementById('passkey-error');
    function failed(text) {
      start.disabled = false;
      if (!alert) return;
      alert.textContent = text || alert.getAttribute('data-text');
      alert.hidden = false;
      alert.setAttribute('tabindex', '-1');
      alert.focus();
    }
    var create = form.getAttribute('data-passkey') === 'create';
    start.addEventListener('click', function () {
      start.disabled = true;
      if (alert) alert.hidden = true;
      var body = {};
      Array.prototype.forEach.call(form.querySelectorAll('[data-begin-field]'), function (f) {
        if (f.value) body[f.getAttribute('data-begin-field')] = f.value;
      });
      var login = document.getElementById('login_id');
      // The sign-in page's button is a passwordless sign-in, whatever session the browser holds.
      if (!create && login) body.passwordless = true;
      if (!create && login && login.value.trim()) body.login_id = login.value.trim();
      fetch(form.getAttribute('data-begin'), {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(body)
      }).then(function (res) {
        return res.json().then(function (answer) {
          // MFA-8: a wrong password given again is said as the other methods' forms say it
          // (with LOG-2's warning), not as a sign-in's "login ID or password".
          var wrong = alert && body.password && res.status === 401 && alert.getAttribute('data-password-text');
          if (res.status !== 200) throw new Error(wrong || (answer && answer.message));
          return answer;
        });
      }).then(function (options) {
        var publicKey = decodeOptions(options.publicKey);
        return create
          ? navigator.credentials.create({ publicKey: publicKey })
          : navigator.credentials.get({ publicKey: publicKey });
      }).then(function (credential) {
        form.querySelector('input[name="credential"]').value = JSON.stringify(credentialJSON(credential));
        // What the begin took is not sent again with the form.
        Array.prototype.forEach.call(form.querySelectorAll('[data-begin-field]'), function (f) {
          f.disabled = true;
        });
        form.submit();
      }).catch(function (e) {
        // A refusal of the portal says why; the browser's own (cancelled, timed out) does not.
        failed(e && e.name === 'Error' && e.message ? e.message : null);
      });
    });
  }

  revealButtons();
  liveChecklist();
  attachProgress();
  passkeys();
}());

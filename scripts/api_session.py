#!/usr/bin/env python3
"""Sign a demo user all the way in through the JSON API of a fresh local portal.

    scripts/api_session.py http://127.0.0.1:PORT
    scripts/api_session.py --admin http://127.0.0.1:PORT

Prints one line, the `Cookie` header value of a session at stage `full`
(`__Host-tobira-session=...`), for scripts/schemathesis.sh. Standard library only.

The user is `new.member@example.co.jp` (src/lib.rs DEMO_ADMIN_CREATED), the demo account
"created by an admin": it files support cases here (MIG-13 sends migrated users elsewhere
while the window is open), so the session reaches every `/api/cases` answer. The journey:
its registration mail's link sets the first password (RST-4, `POST /api/password/reset`);
the password gives a session at `enroll`; an authenticator app is enrolled (MFA-4, the code
computed from the secret, RFC 6238) and its recovery codes acknowledged (SET-4 ends that
session); the second sign-in proves a recovery code (MFA-5: no wait for the next TOTP
step); the terms are accepted (TOS-1); `GET /api/me` must then say `full`.

With `--admin`: the demo's tenant admin `admin@example.co.jp` (src/lib.rs DEMO_ADMIN, set up
at first start with e-mail codes): the password, an e-mail code from the outbox (MFA-3), the
terms; its session reaches every `/api/admin/*` answer.
"""

import base64
import hashlib
import hmac
import json
import re
import struct
import sys
import time
import urllib.error
import urllib.request

LOGIN_ID = "new.member@example.co.jp"
PASSWORD = "Hako-Tsuki-6241"
ADMIN_ID = "admin@example.co.jp"
ADMIN_PASSWORD = "Kanri-Door-5183"
SESSION_COOKIE = "__Host-tobira-session"


class Portal:
    def __init__(self, base):
        self.base = base.rstrip("/")
        self.cookies = {}

    def call(self, method, path, body=None, expect=(200,)):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if self.cookies:
            req.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                status, headers, raw = r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            status, headers, raw = e.code, e.headers, e.read()
        # Secure cookies on loopback: kept by hand (http.cookiejar would not send them back).
        for line in headers.get_all("Set-Cookie") or []:
            name, _, rest = line.partition("=")
            value = rest.split(";", 1)[0]
            if value and "Max-Age=0" not in line:
                self.cookies[name.strip()] = value
            else:
                self.cookies.pop(name.strip(), None)
        text = raw.decode("utf-8", "replace")
        if status not in expect:
            sys.exit(f"api_session.py: {method} {path} answered {status}, not {expect}: {text}")
        return json.loads(text) if text.strip() else None


def totp(secret_b32, at):
    """RFC 6238: SHA-1, 6 digits, 30-second steps."""
    key = base64.b32decode(secret_b32.upper() + "=" * (-len(secret_b32) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(at) // 30), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"


def registration_token(portal):
    deadline = time.monotonic() + 30
    while True:
        for mail in reversed(portal.call("GET", "/_dev/outbox.json")):
            if mail.get("to") == LOGIN_ID:
                m = re.search(r"/password/reset\?token=([A-Za-z0-9_-]+)", mail.get("text", ""))
                if m:
                    return m.group(1)
        if time.monotonic() > deadline:
            sys.exit(f"api_session.py: no registration mail to {LOGIN_ID} in the outbox")
        time.sleep(0.5)


def mailed_code(portal, to, seen):
    """The newest six-digit code mailed to `to` that is not in `seen`."""
    deadline = time.monotonic() + 30
    while True:
        for mail in reversed(portal.call("GET", "/_dev/outbox.json")):
            m = re.search(r"\b(\d{6})\b", mail.get("text", ""))
            if mail.get("to") == to and m and m.group(1) not in seen:
                return m.group(1)
        if time.monotonic() > deadline:
            sys.exit(f"api_session.py: no code mailed to {to}")
        time.sleep(0.2)


def finish(portal, proved):
    if proved["next"] == "terms":
        portal.call("POST", "/api/terms/accept", {"version": proved["terms_version"]})
    me = portal.call("GET", "/api/me")
    if me.get("stage") != "full":
        sys.exit(f"api_session.py: the session is not full: {me}")
    print(f"{SESSION_COOKIE}={portal.cookies[SESSION_COOKIE]}")


def admin(portal):
    mails = portal.call("GET", "/_dev/outbox.json")
    seen = {m.group(1) for mail in mails for m in [re.search(r"\b(\d{6})\b", mail.get("text", ""))] if m}
    first = portal.call("POST", "/api/login", {"login_id": ADMIN_ID, "password": ADMIN_PASSWORD})
    if first["next"] != "mfa":
        sys.exit(f"api_session.py: the admin's sign-in should ask a factor, got {first}")
    portal.call("POST", "/api/otp/email", {"purpose": "login"}, expect=(200, 202))
    code = mailed_code(portal, ADMIN_ID, seen)
    finish(portal, portal.call("POST", "/api/login/mfa", {"method": "email", "code": code}))


def main():
    args = sys.argv[1:]
    if len(args) == 2 and args[0] == "--admin":
        return admin(Portal(args[1]))
    if len(args) != 1:
        sys.exit(__doc__)
    portal = Portal(args[0])
    token = registration_token(portal)
    portal.call("POST", "/api/password/reset", {"token": token, "password": PASSWORD})

    first = portal.call("POST", "/api/login", {"login_id": LOGIN_ID, "password": PASSWORD})
    if first["next"] != "enroll":
        sys.exit(f"api_session.py: the first sign-in should enrol, got {first}")
    setup = portal.call("POST", "/api/mfa/totp", {})
    enrolled = portal.call(
        "POST", "/api/mfa/totp/confirm", {"code": totp(setup["secret"], time.time())}
    )
    recovery = enrolled["recovery_codes"]
    portal.call("POST", "/api/mfa/recovery/ack", {"recorded": True})

    portal.cookies.pop(SESSION_COOKIE, None)
    second = portal.call("POST", "/api/login", {"login_id": LOGIN_ID, "password": PASSWORD})
    if second["next"] != "mfa":
        sys.exit(f"api_session.py: the second sign-in should ask a factor, got {second}")
    finish(portal, portal.call("POST", "/api/login/mfa", {"method": "recovery", "code": recovery[0]}))


if __name__ == "__main__":
    main()

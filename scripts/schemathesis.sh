#!/usr/bin/env bash
# scripts/schemathesis.sh — schemathesis (PyPI, in .venv) checks the running local portal against
# docs/openapi.json: requests generated from the document (positive and negative), undeclared
# methods, and every answer's status, headers and body against what the document declares.
#
#   1. starts `tobira serve` ($TOBIRA_BIN, default target/debug/tobira) on a free loopback port
#      with a fresh data dir (the demo data) and the default settings (no TOBIRA_* of the caller);
#   2. signs the demo user new.member@example.co.jp all the way in through the JSON API
#      (scripts/api_session.py: registration link, TOTP enrolment, recovery code, terms);
#   3. runs `schemathesis run` with scripts/schemathesis.toml (fixed seed, bounded cases, the
#      session cookie as the `session` scheme); then the admin routes again with the demo
#      tenant admin's session (api_session.py --admin); its exit status is this script's.
#
# Run by scripts/test.sh; by hand: cargo build --bin tobira && scripts/schemathesis.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BIN="${TOBIRA_BIN:-$ROOT/target/debug/tobira}"
PY="$ROOT/.venv/bin/python"
ST="$ROOT/.venv/bin/schemathesis"
[[ -x $BIN ]] || { echo "schemathesis.sh: $BIN is not built" >&2; exit 1; }
[[ -x $ST ]] || { echo "schemathesis.sh: $ST is missing (pip install -r scripts/requirements-test.txt)" >&2; exit 1; }

SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/tobira-schemathesis.XXXXXX")"
SERVER_PID=""
cleanup() {
  local rc=$?
  if [[ -n "$SERVER_PID" ]]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$SCRATCH"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

port="$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
url="http://127.0.0.1:${port}"
# The portal's defaults: no TOBIRA_* setting of the caller's shell.
mapfile -t unset_tobira < <(env | sed -n 's/^\(TOBIRA_[A-Za-z0-9_]*\)=.*/-u\n\1/p')
# MFA-10: passkeys need a domain as relying party; the portal is at an IP address, so its
# WebAuthn origin is named (the ceremonies then answer options; no browser checks them here).
env "${unset_tobira[@]}" RUST_LOG=warn \
  TOBIRA_WEBAUTHN_RP_ID=localhost TOBIRA_WEBAUTHN_ORIGIN="http://localhost:${port}" \
  "$BIN" serve --port "$port" --data-dir "$SCRATCH/data" --base-url "$url" >"$SCRATCH/serve.log" 2>&1 &
SERVER_PID=$!
deadline=$((SECONDS + 60))
until "$PY" -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=2)" "$url/_dev/outbox.json" 2>/dev/null; do
  if ! kill -0 "$SERVER_PID" 2>/dev/null || ((SECONDS >= deadline)); then
    cat "$SCRATCH/serve.log" >&2
    echo "schemathesis.sh: tobira serve did not answer at $url" >&2
    exit 1
  fi
  sleep 0.2
done

cookie="$("$PY" scripts/api_session.py "$url")"
export SCHEMATHESIS_HOOKS="$ROOT/scripts/schemathesis_hooks.py"
export TOBIRA_SCHEMATHESIS_SESSION="${cookie#*=}"
echo "portal at $url, signed in (stage full) as new.member@example.co.jp"

cd "$SCRATCH"   # schemathesis may leave files in its working directory
st() { "$ST" --no-color --config-file "$ROOT/scripts/schemathesis.toml" run "$ROOT/docs/openapi.json" --url "$url" "$@"; }
# Sign-out ends the session that every other operation is tested with: it runs last, alone.
rc=0
st --exclude-path /api/logout || rc=$?
# The tenant admin's routes again, with the demo tenant admin's full session (ADM): the first
# pass reached them as a general user (403 only).
admin_cookie="$("$PY" "$ROOT/scripts/api_session.py" --admin "$url")"
echo "signed in (stage full) as the demo tenant admin admin@example.co.jp"
TOBIRA_SCHEMATHESIS_SESSION="${admin_cookie#*=}" st --include-path-regex '^/api/(admin/|me/sign-ins$)' || rc=$?
st --include-path /api/logout || rc=$?
exit "$rc"

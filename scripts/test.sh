#!/usr/bin/env bash
# shellcheck disable=SC2317  # cleanup/helpers are reached through traps and indirect calls
# scripts/test.sh — the one test command for tobira (CI runs it through .ci/run).
#
#   1. installs what is missing (idempotent, quiet when already there):
#        .venv with moto[server] + cfn-lint + schemathesis (scripts/requirements-test.txt),
#        Debian chromium (+ a Japanese font for readable screenshots),
#        node_modules (playwright-core) from package-lock.json
#   2. starts a moto server on a free loopback port (killed on any exit)
#   3. cargo build --workspace --bins, cargo test --workspace --no-fail-fast
#   4. browser journey: node --test tests/browser/*.test.mjs (TOBIRA_BIN=target/debug/tobira)
#   5. schemathesis: docs/openapi.json against the running local portal with a full session
#      (scripts/schemathesis.sh; fixed seed, bounded cases); each generated case counts as a test
#   6. prints a summary; the last line is "tests: N passed, N failed, N skipped".
#
# Exit status is non-zero if any step failed. Nothing is skipped under CI=true.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

log() { printf '==> %s\n' "$*"; }
warn() { printf 'test.sh: %s\n' "$*" >&2; }
die() { warn "$*"; exit 1; }

# A scratch dir for logs of this run; removed on exit together with moto.
WORK="$(mktemp -d "${TMPDIR:-/tmp}/tobira-test.XXXXXX")"
MOTO_PID=""
STEP_PID=""
cleanup() {
  local rc=$?
  # A step still running (we were interrupted): end its whole process group.
  if [[ -n "$STEP_PID" ]]; then
    kill -TERM -- "-$STEP_PID" 2>/dev/null || true
    wait "$STEP_PID" 2>/dev/null || true
  fi
  if [[ -n "$MOTO_PID" ]] && kill -0 "$MOTO_PID" 2>/dev/null; then
    kill "$MOTO_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$MOTO_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$MOTO_PID" 2>/dev/null || true
    wait "$MOTO_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# Run a command quietly; show its output only if it fails.
quiet() {
  local out="$WORK/quiet.log"
  if ! "$@" >"$out" 2>&1; then
    cat "$out" >&2
    die "failed: $*"
  fi
}

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"
  else die "need root (or sudo) to run: $*"
  fi
}

sha() { sha256sum "$1" | cut -d' ' -f1; }

# ---------------------------------------------------------------- 1. install
ensure_venv() {
  local req=scripts/requirements-test.txt stamp=.venv/.requirements.sha256
  if [[ -x .venv/bin/python && -f $stamp && "$(cat "$stamp")" == "$(sha "$req")" ]] \
     && [[ -x .venv/bin/moto_server && -x .venv/bin/cfn-lint && -x .venv/bin/schemathesis ]]; then
    return 0
  fi
  log "python venv (.venv): installing $req"
  command -v python3 >/dev/null 2>&1 || quiet as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y python3
  if [[ ! -x .venv/bin/python ]]; then
    if ! python3 -m venv .venv >/dev/null 2>&1; then
      rm -rf .venv
      quiet as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y python3-venv
      quiet python3 -m venv .venv
    fi
  fi
  quiet .venv/bin/python -m pip install --disable-pip-version-check --no-input -q -r "$req"
  sha "$req" >"$stamp"
}

APT_UPDATED=""
apt_install() {
  if [[ -z "$APT_UPDATED" ]]; then
    quiet as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
    APT_UPDATED=1
  fi
  quiet as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"
}

ensure_chromium() {
  local pkgs=()
  [[ -x /usr/bin/chromium ]] || pkgs+=(chromium)
  # Not needed for the test to pass, only so Japanese text in the screenshots is readable.
  if command -v fc-list >/dev/null 2>&1 && [[ -z "$(fc-list :lang=ja 2>/dev/null | head -n1)" ]]; then
    pkgs+=(fonts-ipafont-gothic)
  fi
  ((${#pkgs[@]})) || return 0
  log "apt: installing ${pkgs[*]}"
  apt_install "${pkgs[@]}"
  [[ -x /usr/bin/chromium ]] || die "/usr/bin/chromium still missing after apt-get install chromium"
}

ensure_node_modules() {
  command -v node >/dev/null 2>&1 || apt_install nodejs npm
  local stamp=node_modules/.tobira-lock.sha256 want
  if [[ -f package-lock.json ]]; then want="$(sha package-lock.json)"; else want="no-lock"; fi
  if [[ -d node_modules/playwright-core && -f $stamp && "$(cat "$stamp")" == "$want" ]]; then
    return 0
  fi
  log "npm: installing playwright-core and axe-core"
  export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1   # never download browsers; we use Debian's chromium
  if [[ -f package-lock.json ]]; then
    quiet npm ci --no-audit --no-fund --loglevel=error
  else
    quiet npm install --no-audit --no-fund --loglevel=error
  fi
  if [[ -f package-lock.json ]]; then sha package-lock.json >"$stamp"; else echo no-lock >"$stamp"; fi
}

ensure_venv
ensure_chromium
ensure_node_modules

# ---------------------------------------------------------------- 2. moto
free_port() {
  .venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start_moto() {
  local port url deadline
  port="$(free_port)"
  url="http://127.0.0.1:${port}"
  # One request at a time: see scripts/moto_serial.py.
  .venv/bin/python scripts/moto_serial.py 127.0.0.1 "$port" >"$WORK/moto.log" 2>&1 &
  MOTO_PID=$!
  deadline=$((SECONDS + 60))
  until curl -fsS -o /dev/null --max-time 2 "$url/moto-api/" 2>/dev/null; do
    if ! kill -0 "$MOTO_PID" 2>/dev/null; then
      cat "$WORK/moto.log" >&2
      die "moto_server exited before it became ready (port $port)"
    fi
    if ((SECONDS >= deadline)); then
      cat "$WORK/moto.log" >&2
      die "moto_server not ready at $url/moto-api/ after 60 s"
    fi
    sleep 0.25
  done
  export TOBIRA_TEST_AWS_ENDPOINT="$url"
  log "moto server ready at $url (pid $MOTO_PID)"
}

command -v curl >/dev/null 2>&1 || apt_install curl
export AWS_EC2_METADATA_DISABLED=true
export AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1
export AWS_ACCESS_KEY_ID=test
export AWS_SECRET_ACCESS_KEY=test
unset AWS_SESSION_TOKEN AWS_PROFILE || true
export PATH="$ROOT/.venv/bin:$PATH"
if ! command -v cargo >/dev/null 2>&1 && [[ -x "$HOME/.cargo/bin/cargo" ]]; then
  export PATH="$PATH:$HOME/.cargo/bin"
fi
command -v cargo >/dev/null 2>&1 || die "cargo not found on PATH"
start_moto

# ---------------------------------------------------------------- 3./4. run
PASSED=0 FAILED=0 SKIPPED=0
declare -a STATUS=()
OVERALL=0

# count_cargo LOG -> "passed failed ignored" summed over every "test result:" line
count_cargo() {
  sed 's/\x1b\[[0-9;]*m//g' "$1" | awk '
    /^test result: / {
      for (i = 1; i < NF; i++) {
        if ($(i+1) ~ /^passed/)  p += $i
        if ($(i+1) ~ /^failed/)  f += $i
        if ($(i+1) ~ /^ignored/) s += $i
      }
    }
    END { print p+0, f+0, s+0 }'
}

# count_node LOG -> "passed failed skipped" from the runner's closing lines (spec or tap)
count_node() {
  sed 's/\x1b\[[0-9;]*m//g' "$1" | awk '
    NF == 3 && $3 ~ /^[0-9]+$/ {
      if ($2 == "pass") p += $3
      else if ($2 == "fail" || $2 == "cancelled") f += $3
      else if ($2 == "skipped" || $2 == "todo") s += $3
    }
    END { print p+0, f+0, s+0 }'
}

# count_schemathesis LOG -> "passed failed 0" from each run's "Test cases:" line:
#   "N generated, N passed, N skipped" or "N generated, N found N unique failures, N skipped"
# schemathesis's "skipped" are generated inputs it discarded before sending them (our
# hook drops bodies over the 16 KiB limit, scripts/schemathesis_hooks.py): no test was
# skipped, so they count as neither passed nor skipped.
count_schemathesis() {
  sed 's/\x1b\[[0-9;]*m//g' "$1" | awk '
    /^ *[0-9]+ generated, / {
      g = $1 + 0; fl = 0; sk = 0
      for (i = 2; i < NF; i++) {
        if ($(i+1) ~ /^unique/) fl = $i + 0
        if ($(i+1) ~ /^skipped/) sk = $i + 0
      }
      p += g - fl - sk; f += fl
    }
    END { print p+0, f+0, 0 }'
}

# step NAME COUNTER CMD... : run CMD with output teed to a log, tally its counts.
step() {
  local name=$1 counter=$2 rc=0 p=0 f=0 s=0
  shift 2
  local out="$WORK/${name// /_}.log"
  log "$name"
  # Run in the background in its own process group and `wait` for it, so that INT/TERM reach
  # our trap at once (and cleanup can end the step's whole group) instead of after the step.
  set +e
  set -m
  ( "$@" </dev/null 2>&1 | tee "$out"; exit "${PIPESTATUS[0]}" ) &
  STEP_PID=$!
  set +m
  wait "$STEP_PID"
  rc=$?
  STEP_PID=""
  set -e
  if [[ $counter != none ]]; then
    read -r p f s < <("$counter" "$out")
  fi
  # A failing step that reported no failing test (e.g. a compile error) still counts as one failure.
  if ((rc != 0 && f == 0)); then f=1; fi
  PASSED=$((PASSED + p)); FAILED=$((FAILED + f)); SKIPPED=$((SKIPPED + s))
  local detail=""
  [[ $counter == none ]] || detail=" ($p passed, $f failed, $s skipped)"
  if ((rc == 0)); then
    STATUS+=("ok      $name$detail")
  else
    STATUS+=("FAILED  $name, exit $rc$detail")
    OVERALL=1
  fi
  return "$rc"
}

summary() {
  echo
  echo "==================== scripts/test.sh summary ===================="
  local line
  for line in "${STATUS[@]}"; do echo "  $line"; done
  if ((OVERALL == 0)); then echo "ALL TESTS PASSED"; else echo "TESTS FAILED"; fi
  echo "tests: $PASSED passed, $FAILED failed, $SKIPPED skipped"
}

TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
export TOBIRA_BIN="$TARGET_DIR/debug/tobira"

if step "cargo build" none cargo build --workspace --bins; then
  step "cargo test" count_cargo cargo test --workspace --no-fail-fast || true
  if [[ -x "$TOBIRA_BIN" ]]; then
    mkdir -p tests/browser/artifacts
    rm -f tests/browser/artifacts/axe.jsonl   # this run's axe-core results only
    shopt -s nullglob
    browser_tests=(tests/browser/*.test.mjs)
    shopt -u nullglob
    if ((${#browser_tests[@]} == 0)); then
      STATUS+=("FAILED  browser (no tests/browser/*.test.mjs found)"); OVERALL=1; FAILED=$((FAILED + 1))
    else
      # Explicit files, not the directory: node >= 21 no longer searches a directory argument.
      step "browser" count_node node --test --test-reporter=spec "${browser_tests[@]}" || true
    fi
    step "schemathesis" count_schemathesis bash scripts/schemathesis.sh || true
  else
    STATUS+=("FAILED  browser ($TOBIRA_BIN was not built)"); OVERALL=1; FAILED=$((FAILED + 1))
    STATUS+=("FAILED  schemathesis ($TOBIRA_BIN was not built)"); FAILED=$((FAILED + 1))
  fi
else
  STATUS+=("NOT RUN cargo test + browser + schemathesis (the build failed)")
fi

summary
exit "$OVERALL"

#!/usr/bin/env bash
# scripts/release-sizes.sh — build every Lambda binary in release and
# report, for each, its size and the newest glibc symbol version it needs.
#
#   scripts/release-sizes.sh             build (cargo build --release), then report
#   scripts/release-sizes.sh --no-build  report on what target/release holds now
#
# The Lambda runtime is provided.al2023 (x86_64), whose glibc is 2.34: a
# binary that needs a newer GLIBC_x.y symbol version fails to start there.
# Exit status: 0 if every binary exists and needs at most GLIBC_2.34,
# 1 if any needs more, 2 if a binary is missing or the build failed.
#
# The release profile is fat LTO with one codegen unit: a full build takes
# several minutes. On a shared machine, run it as `nice -n 19 scripts/release-sizes.sh`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

MAX_GLIBC="2.34"
BINS=(login verify-identity send-mail-otp sms-otp enroll-totp reset-password create-case migrate-batch manage-users)
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

build=1
for arg in "$@"; do
  case "$arg" in
    --no-build) build=0 ;;
    -h | --help)
      sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      printf 'release-sizes.sh: unknown argument %s\n' "$arg" >&2
      exit 2
      ;;
  esac
done

command -v objdump >/dev/null || { echo "release-sizes.sh: objdump not found (binutils)" >&2; exit 2; }

if [ "$build" = 1 ]; then
  pkgs=()
  for b in "${BINS[@]}"; do pkgs+=(-p "tobira-$b-lambda"); done
  printf '==> cargo build --release %s\n' "${pkgs[*]}" >&2
  cargo build --release "${pkgs[@]}" || exit 2
fi

printf '%-16s %12s %9s %-12s %s\n' "binary" "bytes" "MiB" "max GLIBC" "ok (<= GLIBC_$MAX_GLIBC)"
status=0
total=0
for b in "${BINS[@]}"; do
  f="$TARGET_DIR/release/$b"
  if [ ! -f "$f" ]; then
    printf '%-16s %12s %9s %-12s %s\n' "$b" "-" "-" "-" "MISSING"
    status=2
    continue
  fi
  bytes=$(stat -c %s "$f")
  total=$((total + bytes))
  mib=$(awk -v b="$bytes" 'BEGIN { printf "%.2f", b / 1048576 }')
  glibc=$(objdump -T "$f" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1 || true)
  if [ -z "$glibc" ]; then
    verdict="yes (no glibc symbols)"
    glibc="-"
  else
    need="${glibc#GLIBC_}"
    newest=$(printf '%s\n%s\n' "$need" "$MAX_GLIBC" | sort -V | tail -1)
    if [ "$newest" = "$MAX_GLIBC" ]; then
      verdict="yes"
    else
      verdict="NO"
      [ "$status" = 0 ] && status=1
    fi
  fi
  printf '%-16s %12s %9s %-12s %s\n' "$b" "$bytes" "$mib" "$glibc" "$verdict"
done
printf '%-16s %12s %9s\n' "total" "$total" "$(awk -v b="$total" 'BEGIN { printf "%.2f", b / 1048576 }')"

case "$status" in
  0) printf 'all %d binaries need at most GLIBC_%s\n' "${#BINS[@]}" "$MAX_GLIBC" >&2 ;;
  1) printf 'release-sizes.sh: a binary needs a glibc newer than %s (provided.al2023)\n' "$MAX_GLIBC" >&2 ;;
  2) printf 'release-sizes.sh: a binary is missing\n' >&2 ;;
esac
exit "$status"

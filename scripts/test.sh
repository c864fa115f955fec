#!/usr/bin/env bash
# Sets the machine up (a no-op when done before), runs the test suite, and ends with one line
# `N passed, N failed, N skipped` counted from tap's closing summary.
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
"$repo/scripts/setup.sh" || exit 1
cd "$repo"

log=$(mktemp /tmp/sysbox-test.XXXXXX)
trap 'rm -f "$log"' EXIT
npm test 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# tap closes with `# { total: T, pass: P, fail: F, skip: S }`; keys with zero are left out.
summary=$(grep -E '^# \{ total: ' "$log" | tail -1)
count() { sed -nE "s/.*[{ ]$1: ([0-9]+).*/\1/p" <<<"$summary"; }
if [[ -z "$summary" ]]; then
  echo "0 passed, 1 failed"
  exit 1
fi
echo "$(count pass || true) passed, $(count fail) failed, $(count skip) skipped" |
  sed -E 's/(^| )( passed| failed| skipped)/\10\2/g'
exit "$status"

#!/usr/bin/env bash
# The project's own conventions that no formatter enforces: lines of at most 100 columns in
# every source, script and test, and no to-do mark that does not say what resolves it.
set -euo pipefail

cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files 'src-c/*.c' 'src-c/*.h' 'src-ts/*.ts' 'test/*.js' \
  'scripts/*.sh' 'test/fixtures/*.sh' 'bench/*' .ci/run)
status=0

wide=$(awk 'length > 100 { printf "%s:%d: %d columns\n", FILENAME, FNR, length }' "${files[@]}")
if [[ -n "$wide" ]]; then
  echo "check-style: lines over 100 columns:" >&2
  echo "$wide" >&2
  status=1
fi

# This file names the marks it looks for, so it is left out of the search.
others=()
for f in "${files[@]}"; do
  [[ "$f" == scripts/check-style.sh ]] || others+=("$f")
done
bare=$(grep -nE '(TODO|FIXME|XXX)([^(A-Za-z]|$)' "${others[@]}" | grep -v XXXXXX || true)
if [[ -n "$bare" ]]; then
  echo "check-style: a to-do mark must name what resolves it:" >&2
  echo "$bare" >&2
  status=1
fi
exit "$status"

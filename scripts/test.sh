#!/usr/bin/env bash
# Sets the machine up (a no-op when done before) and runs the test suite.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
"$repo/scripts/setup.sh"
cd "$repo"
exec npm test

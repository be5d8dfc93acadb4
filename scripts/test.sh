#!/usr/bin/env bash
# Builds and runs the test suite (everything but the gpu label; slow tests included).
# Extra arguments go to ctest, e.g. scripts/test.sh -R data. to select an area.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh
cd build
ctest --output-on-failure -j "${JOBS:-2}" -LE gpu --timeout 900 "$@"

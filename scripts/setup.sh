#!/usr/bin/env bash
# Installs the Debian packages autothink needs and builds it. Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh
./scripts/build.sh "$@"
echo "built: $(pwd)/build/autothink"

#!/usr/bin/env bash
# Configures and builds autothink into build/ (Release, no debug info, -j2 unless JOBS is set).
# Extra arguments go to cmake's configure step, e.g. -DAUTOTHINK_TESTS=OFF.
set -euo pipefail
cd "$(dirname "$0")/.."
gen=(); command -v ninja >/dev/null && gen=(-G Ninja)
if [ ! -f build/CMakeCache.txt ]; then
  cmake -S . -B build "${gen[@]}" -DCMAKE_BUILD_TYPE=Release "$@"
elif [ $# -gt 0 ]; then
  cmake -S . -B build "$@"
fi
cmake --build build -j "${JOBS:-2}"

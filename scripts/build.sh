#!/usr/bin/env bash
# Configures and builds autothink into build/ (Release, no debug info, -j2 unless JOBS is set).
# Extra arguments go to cmake's configure step, e.g. -DAUTOTHINK_TESTS=OFF.
set -euo pipefail
cd "$(dirname "$0")/.."
gen=(); command -v ninja >/dev/null && gen=(-G Ninja)
# Configure when there is no build tree yet, or when an earlier configure failed half way
# (a CMakeCache.txt without build files, e.g. run before scripts/deps.sh installed everything).
if [ ! -f build/CMakeCache.txt ] || { [ ! -f build/build.ninja ] && [ ! -f build/Makefile ]; }; then
  cmake -S . -B build "${gen[@]}" -DCMAKE_BUILD_TYPE=Release "$@"
elif [ $# -gt 0 ]; then
  cmake -S . -B build "$@"
fi
cmake --build build -j "${JOBS:-2}"

#!/usr/bin/env bash
# Fuzzes the streaming KAT parser with libFuzzer for ${1:-60} seconds: builds tests/fuzz/parser_fuzz
# with clang in build-fuzz/ (no libtorch needed), seeds it with tests/fuzz/corpus, and fails on any
# crash, sanitizer report or broken invariant (split != whole, deltas != text). Extra arguments go
# to libFuzzer, e.g. scripts/fuzz.sh 300 -jobs=2.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
gen=(); command -v ninja >/dev/null && gen=(-G Ninja)
if [ ! -f build-fuzz/CMakeCache.txt ]; then
  CC=clang CXX=clang++ cmake -S . -B build-fuzz "${gen[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DAUTOTHINK_FUZZ=ON -DAUTOTHINK_FUZZ_ONLY=ON
fi
cmake --build build-fuzz -j "${JOBS:-2}" --target parser_fuzz
# libFuzzer adds what it finds to the first corpus folder: keep that out of the source tree.
mkdir -p build-fuzz/corpus build-fuzz/artifacts
cp tests/fuzz/corpus/* build-fuzz/corpus/
./build-fuzz/tests/fuzz/parser_fuzz build-fuzz/corpus \
  -dict=tests/fuzz/kat.dict -max_total_time="$seconds" -max_len=4096 -timeout=10 -print_final_stats=1 \
  -artifact_prefix=build-fuzz/artifacts/ "$@"
echo "fuzz.sh: ${seconds}s without a failure"

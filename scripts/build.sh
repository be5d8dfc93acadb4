#!/usr/bin/env bash
# Configures and builds autothink (Release, no debug info, -j2 unless JOBS is set) against the
# libtorch of the project venv (scripts/deps.sh):
#   scripts/build.sh            build/       the CPU build (torch_cpu), what the tests run
#   scripts/build.sh --cuda     build-cuda/  the CUDA build: CUDA torch, NCCL, nvcc; compiles the
#                                            CUDA-only paths (it runs only where a GPU is)
# Other arguments go to cmake's configure step, e.g. -DAUTOTHINK_TESTS=OFF.
# Env: AUTOTHINK_VENV (.venv), AUTOTHINK_BUILD_DIR (overrides the folder), JOBS.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build cuda=OFF args=()
for a in "$@"; do
  if [ "$a" = "--cuda" ]; then dir=build-cuda cuda=ON; else args+=("$a"); fi
done
dir="${AUTOTHINK_BUILD_DIR:-$dir}"
venv="${AUTOTHINK_VENV:-.venv}"
if [ ! -x "$venv/bin/python" ]; then
  echo "build.sh: no $venv/bin/python: run scripts/deps.sh first (it makes the venv with the pinned torch)" >&2
  exit 1
fi
venv="$(cd "$venv" && pwd)"
# torch.utils.cmake_prefix_path, found without importing torch (which costs seconds every build).
torch_prefix="$("$venv/bin/python" -c 'import importlib.util, os; s = importlib.util.find_spec("torch"); print(os.path.join(os.path.dirname(s.origin), "share", "cmake") if s else "")')"
if [ -z "$torch_prefix" ]; then
  echo "build.sh: $venv has no torch: run scripts/deps.sh" >&2
  exit 1
fi
gen=(); command -v ninja >/dev/null && gen=(-G Ninja)
common=(-DCMAKE_PREFIX_PATH="$torch_prefix" -DAUTOTHINK_PYTHON="$venv/bin/python" -DAUTOTHINK_CUDA=$cuda)
# Configure when there is no build tree yet, or when an earlier configure failed half way
# (a CMakeCache.txt without build files, e.g. run before scripts/deps.sh installed everything).
if [ ! -f "$dir/CMakeCache.txt" ] || { [ ! -f "$dir/build.ninja" ] && [ ! -f "$dir/Makefile" ]; }; then
  cmake -S . -B "$dir" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release "${common[@]}" "${args[@]}"
elif [ ${#args[@]} -gt 0 ] || ! grep -q "^CMAKE_PREFIX_PATH:.*=$torch_prefix\$" "$dir/CMakeCache.txt"; then
  cmake -S . -B "$dir" "${common[@]}" "${args[@]}"
fi
cmake --build "$dir" -j "${JOBS:-2}"

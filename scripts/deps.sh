#!/usr/bin/env bash
# Installs everything autothink needs on Debian bookworm, idempotently:
#  1. Debian packages (compilers, CMake, yaml-cpp, sentencepiece, PCRE2 and utf8proc for
#     tokenizer.json, Boost, GoogleTest, CLI11, nlohmann-json, Gloo headers, clang for fuzzing,
#     gnuplot for charts, python3-venv);
#  2. the project venv .venv/ from requirements.txt (exact pins) constrained by requirements.lock:
#     PyTorch 2.x (libtorch for every build, torchrun), transformers, tokenizers, safetensors,
#     openai, numpy, gguf. Re-run after editing either file: a stamp of both decides;
#  3. llama.cpp's tokenizer / chat-template test files (.deps/llama.cpp/models) from PyPI.
# Env: AUTOTHINK_VENV (default .venv), AUTOTHINK_BASE_PYTHON (default /usr/bin/python3).
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
pkgs=(build-essential cmake ninja-build pkg-config
      libgloo-dev
      libsentencepiece-dev sentencepiece
      libpcre2-dev libutf8proc-dev
      libyaml-cpp-dev libboost-dev nlohmann-json3-dev libcli11-dev
      libgtest-dev libgmock-dev
      clang libclang-rt-14-dev
      python3 python3-venv
      gnuplot-nox curl)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

venv="${AUTOTHINK_VENV:-.venv}"
base_python="${AUTOTHINK_BASE_PYTHON:-/usr/bin/python3}"
stamp="$venv/.autothink-requirements"
want="$(cat requirements.txt requirements.lock | sha256sum | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  start=$(date +%s)
  [ -x "$venv/bin/python" ] || "$base_python" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip==26.3
  # torch's wheel pulls the CUDA runtime libraries (~4 GB unpacked); pip shows its progress.
  "$venv/bin/python" -m pip install --disable-pip-version-check --progress-bar off \
    -r requirements.txt -c requirements.lock
  echo "$want" > "$stamp"
  echo "deps.sh: $venv ready in $(( $(date +%s) - start )) s ($(du -sh "$venv" | cut -f1)): torch $("$venv/bin/python" -c 'import torch; print(torch.__version__)')"
fi

# 3. llama.cpp's tokenizer and chat-template test files (published Qwen2 / Llama-3 vocabularies
#    with expected ids, real chat templates), from the llama-cpp-python sdist on PyPI (exact pin),
#    into .deps/llama.cpp/models. tests/data/tokenizer_json_test.cpp reads them (skips without).
llama_sdist="llama-cpp-python==0.3.36"
llama_models=".deps/llama.cpp/models"
if [ ! -f "$llama_models/.stamp-$llama_sdist" ]; then
  tmp=$(mktemp -d)
  if "$venv/bin/python" -m pip download -q --disable-pip-version-check --no-deps --no-binary :all: \
       "$llama_sdist" -d "$tmp"; then
    rm -rf "$llama_models" && mkdir -p "$llama_models"
    tar xzf "$tmp"/llama_cpp_python-*.tar.gz -C "$tmp" --wildcards \
      '*/vendor/llama.cpp/models/ggml-vocab-qwen2.gguf*' '*/vendor/llama.cpp/models/ggml-vocab-llama-bpe.gguf*' \
      '*/vendor/llama.cpp/models/templates/*'
    cp -r "$tmp"/llama_cpp_python-*/vendor/llama.cpp/models/. "$llama_models/"
    touch "$llama_models/.stamp-$llama_sdist"
    echo "deps.sh: llama.cpp test files in $llama_models ($(du -sh "$llama_models" | cut -f1))"
  else
    echo "deps.sh: could not download $llama_sdist; the llama.cpp vocabulary tests will skip" >&2
  fi
  rm -rf "$tmp"
fi

# 4. optillm's AutoThink sources (classifier.py, steering.py, processor.py), from its wheel on PyPI
#    (exact pin, --no-deps: importing the package pulls its proxy server's dependencies), into
#    .deps/optillm/autothink. The steering and classifier parity tests load them by file path.
optillm_pin="optillm==0.4.0"
optillm_dir=".deps/optillm"
if [ ! -f "$optillm_dir/.stamp-$optillm_pin" ]; then
  tmp=$(mktemp -d)
  if "$venv/bin/python" -m pip download -q --disable-pip-version-check --no-deps "$optillm_pin" -d "$tmp"; then
    rm -rf "$optillm_dir" && mkdir -p "$optillm_dir"
    "$venv/bin/python" -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); [z.extract(n, sys.argv[2]) for n in z.namelist() if n.startswith("optillm/autothink/")]' \
      "$(ls "$tmp"/optillm-*.whl)" "$tmp/x"
    cp -r "$tmp/x/optillm/autothink" "$optillm_dir/"
    touch "$optillm_dir/.stamp-$optillm_pin"
    echo "deps.sh: optillm's autothink sources in $optillm_dir"
  else
    echo "deps.sh: could not download $optillm_pin; the optillm parity tests will skip" >&2
  fi
  rm -rf "$tmp"
fi

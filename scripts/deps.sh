#!/usr/bin/env bash
# Installs every Debian package autothink needs (build, tests, demo, fuzzing). Idempotent.
set -euo pipefail
pkgs=(build-essential cmake ninja-build pkg-config
      libtorch-dev python3-torch libgloo-dev
      libopenblas0-pthread
      libsentencepiece-dev sentencepiece
      libyaml-cpp-dev libboost-dev nlohmann-json3-dev libcli11-dev
      libgtest-dev libgmock-dev
      clang libclang-rt-14-dev
      gnuplot-nox curl)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# Debian's libtorch calls whatever libblas.so.3 is selected; the reference BLAS is ~20x slower.
if command -v update-alternatives >/dev/null; then
  alt=$(update-alternatives --list libblas.so.3-x86_64-linux-gnu 2>/dev/null | grep openblas | head -1 || true)
  if [ -n "$alt" ]; then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO update-alternatives --set libblas.so.3-x86_64-linux-gnu "$alt" >/dev/null
  fi
fi
# Node.js + npm for the end-to-end test of the official `openai` npm client (tests/e2e; it is
# skipped without them). Debian's nodejs (18) suffices; a newer one already installed is kept.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get install -y -qq --no-install-recommends nodejs npm ||
    echo "deps.sh: nodejs/npm not installed; the e2e test serve.e2e_openai_npm will be skipped" >&2
fi

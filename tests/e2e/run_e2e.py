#!/usr/bin/env python3
"""Driver of the CTest test serve.e2e_openai_npm: the official `openai` npm client against a real
`autothink serve` process.

Installs the pinned npm packages (`npm ci`) into a work folder in the build tree, assembles a
model folder (the random-weight fixture tests/fixtures/hf-qwen2-tiny plus a tokenizer trained
here with `autothink tokenizer train`, as tests/serve/serve_model_test.cpp does), starts
`autothink serve` on a free port with an API key, waits for /health, runs openai_client.mjs and
stops the server with SIGTERM (it must exit 0).

Exit codes: 0 passed, 1 failed, 77 skipped (no node/npm, or `npm ci` failed, e.g. no network).
Standard library only.
"""
import argparse
import filecmp
import os
import shutil
import subprocess
import sys
import time

from serve_process import API_KEY, expect_clean_stop, HERE, fail, skip, start_server, stop_server


def npm_install(work):
    """Copies package.json + package-lock.json into `work` and runs `npm ci` there unless the
    installed tree already matches the lock file. Skips the test when node or npm is missing or
    the install fails."""
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            skip(f"{tool} is not installed (the test needs Node.js >= 18 and npm)")
    version = subprocess.run(["node", "-p", "process.versions.node"], stdout=subprocess.PIPE, text=True).stdout.strip()
    if not version or int(version.split(".")[0]) < 18:
        skip(f"node {version or '?'} is too old (the openai@4 client needs Node.js >= 18)")
    os.makedirs(work, exist_ok=True)
    lock = os.path.join(work, "package-lock.json")
    installed = os.path.join(work, "node_modules", "openai", "index.js")
    fresh = os.path.exists(installed) and os.path.exists(lock) and \
        filecmp.cmp(lock, os.path.join(HERE, "package-lock.json"), shallow=False)
    for name in ("package.json", "package-lock.json", "openai_client.mjs"):
        shutil.copyfile(os.path.join(HERE, name), os.path.join(work, name))
    if fresh:
        return
    r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--fetch-retries=0", "--fetch-timeout=15000", "--prefix", work],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
    if r.returncode != 0:
        skip(f"`npm ci` failed (exit {r.returncode}; no network or registry?):\n{r.stdout[-3000:]}")
    if not os.path.exists(os.path.join(work, "node_modules", "openai", "index.js")):
        skip(f"`npm ci` exited 0 but installed no openai package (registry unreachable?):\n{r.stdout[-3000:]}")


def make_model(autothink, fixture, work):
    """The fixture's random weights plus a tokenizer trained on a small arithmetic corpus."""
    model = os.path.join(work, "kat-random")
    shutil.rmtree(model, ignore_errors=True)
    shutil.copytree(fixture, model)
    corpus = os.path.join(work, "corpus.txt")
    with open(corpus, "w") as f:
        for i in range(200):
            j = i * 3 % 17
            f.write(f"what is {i} plus {j} let me think step by step the answer is {i + j}\n")
    # At most the fixture's 320 ids; 268 are fixed (unk, specials, bytes).
    r = subprocess.run([autothink, "tokenizer", "train", "--input", corpus, "--out", model, "--vocab-size", "320"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
    if r.returncode != 0:
        fail(f"autothink tokenizer train exited {r.returncode}:\n{r.stdout}")
    return model


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--autothink", required=True, help="the autothink binary")
    ap.add_argument("--work", required=True, help="work folder (build tree): npm packages, model, server log")
    ap.add_argument("--fixture", default=os.path.join(HERE, "..", "fixtures", "hf-qwen2-tiny"),
                    help="random-weight Qwen2 fixture folder")
    args = ap.parse_args()
    if not os.access(args.autothink, os.X_OK):
        fail(f"autothink binary not found: {args.autothink} (build the 'autothink' target first)")

    started = time.monotonic()
    npm_dir = os.path.join(args.work, "npm")
    npm_install(npm_dir)
    model = make_model(args.autothink, args.fixture, args.work)
    log_path = os.path.join(args.work, "server.log")
    proc, port = start_server(args.autothink, model, log_path, ["--max-batch", "4"])
    base_url = f"http://127.0.0.1:{port}/v1"
    print(f"server at {base_url} after {time.monotonic() - started:.1f} s", flush=True)
    try:
        client = subprocess.run(["node", os.path.join(npm_dir, "openai_client.mjs"), base_url, API_KEY],
                                timeout=120)
    except subprocess.TimeoutExpired:
        stop_server(proc)
        fail("openai_client.mjs did not finish within 120 s", log_path)
    finally:
        code = stop_server(proc)
    if client.returncode != 0:
        fail(f"openai_client.mjs exited {client.returncode}", log_path)
    return expect_clean_stop(code, log_path, started)


if __name__ == "__main__":
    sys.exit(main())

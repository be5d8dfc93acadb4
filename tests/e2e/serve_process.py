"""What the e2e drivers share: a real `autothink serve` process on a free port (started, waited
for, stopped with SIGTERM) and the skip/fail exits CTest reads (77 = skipped). Standard library only."""
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

SKIP = 77
HERE = os.path.dirname(os.path.abspath(__file__))
API_KEY = "e2e-secret"


def skip(why):
    print(f"SKIP: {why}", flush=True)
    sys.exit(SKIP)


def fail(why, log_path=None):
    print(f"FAIL: {why}", flush=True)
    if log_path and os.path.exists(log_path):
        with open(log_path, errors="replace") as f:
            print(f"--- {log_path} ---\n{f.read()}", flush=True)
    sys.exit(1)


def start_server(autothink, model, log_path, extra_args=(), deadline_s=60):
    """Starts `autothink serve --port 0 --api-key API_KEY EXTRA_ARGS`, reads the port from its log,
    waits for /health; returns (process, port)."""
    log = open(log_path, "w")
    proc = subprocess.Popen([autothink, "serve", "--model", model, "--port", "0", "--api-key", API_KEY,
                             "--set", "serve.shutdown_grace_s=5", *extra_args],
                            stdout=log, stderr=subprocess.STDOUT)
    pattern = re.compile(r"listening on http://127\.0\.0\.1:([0-9]+)/v1")
    port = None
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            fail(f"autothink serve exited {proc.returncode} before listening", log_path)
        if port is None:
            with open(log_path, errors="replace") as f:
                m = pattern.search(f.read())
            if m:
                port = int(m.group(1))
        if port is not None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    if r.status == 200:
                        return proc, port
            except OSError:
                pass
        time.sleep(0.1)
    proc.kill()
    proc.wait()
    fail(f"autothink serve was not healthy within {deadline_s} s", log_path)


def stop_server(proc, timeout_s=20):
    """SIGTERM; returns the exit code (None if it had to be killed)."""
    if proc.poll() is not None:
        return proc.returncode
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None


def expect_clean_stop(code, log_path, started):
    """The end of a passing driver: the server must have exited 0 on SIGTERM."""
    if code != 0:
        fail(f"autothink serve exited {code} after SIGTERM (expected 0)", log_path)
    print(f"passed in {time.monotonic() - started:.1f} s; server stopped cleanly on SIGTERM", flush=True)
    return 0

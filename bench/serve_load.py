"""Load client for bench/serve.sh (Python standard library only): CLIENTS threads, each with its own
keep-alive connection, send streaming chat completions (max_tokens fixed, greedy, usage included)
back to back until REQUESTS have been sent in all. Prints one JSON line: requests/s, output
tokens/s, latency p50/p95, time to first token p50/p95 (first chunk after the role chunk, i.e. the
first one carrying generated output), prompt and completion tokens per request, errors, and the
client's own CPU seconds (on a small machine the client competes with the server for cores).
Usage: serve_load.py HOST PORT CLIENTS REQUESTS MAX_TOKENS [WARMUP]"""
import http.client, json, sys, threading, time

HOST, PORT = sys.argv[1], int(sys.argv[2])
CLIENTS, REQUESTS, MAX_TOKENS = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
WARMUP = int(sys.argv[6]) if len(sys.argv) > 6 else CLIENTS


def body(i):
    # A different question per request, all of about the same length.
    return json.dumps({"model": "bench", "max_tokens": MAX_TOKENS, "temperature": 0, "stream": True,
                       "stream_options": {"include_usage": True},
                       "messages": [{"role": "user", "content": f"What is {100 + i % 800} + {200 + (i * 7) % 700}?"}]})


def one_request(conn, i):
    """Returns (latency_s, ttft_s, prompt_tokens, completion_tokens)."""
    start = time.perf_counter()
    conn.request("POST", "/v1/chat/completions", body(i), {"Content-Type": "application/json"})
    resp = conn.getresponse()
    if resp.status != 200:
        raise RuntimeError(f"HTTP {resp.status}: {resp.read()[:200]!r}")
    ttft, chunks, usage = None, 0, None
    while True:
        line = resp.readline()
        if not line:
            break
        line = line.strip()
        if not line.startswith(b"data:"):
            continue
        data = line[5:].strip()
        if data == b"[DONE]":
            break
        event = json.loads(data)
        chunks += 1
        if chunks == 2 and ttft is None:
            ttft = time.perf_counter() - start
        if event.get("usage"):
            usage = event["usage"]
    resp.read()
    latency = time.perf_counter() - start
    if usage is None:
        raise RuntimeError("stream ended without a usage chunk")
    return latency, ttft if ttft is not None else latency, usage["prompt_tokens"], usage["completion_tokens"]


def percentile(values, p):
    values = sorted(values)
    if not values:
        return None
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def run(total):
    counter, lock, results, errors = [0], threading.Lock(), [], []

    def client():
        conn = http.client.HTTPConnection(HOST, PORT, timeout=600)
        while True:
            with lock:
                if counter[0] >= total:
                    break
                i = counter[0]; counter[0] += 1
            try:
                r = one_request(conn, i)
                with lock:
                    results.append(r)
            except Exception as e:  # noqa: BLE001 — counted and reported, the run goes on
                with lock:
                    errors.append(str(e))
                conn.close(); conn = http.client.HTTPConnection(HOST, PORT, timeout=600)
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start, results, errors


run(WARMUP)  # first requests pay one-time costs (allocations, thread pools)
cpu0 = time.process_time()
wall, results, errors = run(REQUESTS)
client_cpu = time.process_time() - cpu0  # this client's own CPU: on a small machine it competes with the server
lat = [r[0] for r in results]; ttft = [r[1] for r in results]
out_tokens = sum(r[3] for r in results)
ms = lambda v: None if v is None else round(1000 * v, 1)  # noqa: E731
print(json.dumps({
    "clients": CLIENTS, "requests": len(results), "errors": len(errors), "first_error": errors[0] if errors else None,
    "wall_s": round(wall, 3), "client_cpu_s": round(client_cpu, 3), "requests_per_s": round(len(results) / wall, 3),
    "output_tokens_per_s": round(out_tokens / wall, 1),
    "latency_ms_p50": ms(percentile(lat, 50)), "latency_ms_p95": ms(percentile(lat, 95)),
    "ttft_ms_p50": ms(percentile(ttft, 50)), "ttft_ms_p95": ms(percentile(ttft, 95)),
    "prompt_tokens_mean": round(sum(r[2] for r in results) / max(1, len(results)), 1),
    "completion_tokens_mean": round(out_tokens / max(1, len(results)), 1)}))

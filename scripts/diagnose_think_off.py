#!/usr/bin/env python3
"""Why are a model's own think-off answers worse than its forced think-off ones?

Serves MODEL (autothink serve on a loopback port) and answers the same queries greedily under
several prefills of the assistant turn, through /v1/completions (raw prompt, special tokens as
literals) and /v1/chat/completions (the auto path as apps call it):

  auto          the model writes its own judge and picks the mode (chat API, think_mode auto)
  forced_off    the fixed forced-off judge "A direct answer was requested." prefilled
  judge:<text>  judge <text> prefilled, then <think_off><answer> (e.g. the auto judge "direct")

Prints one JSON line per (split, variant) with accuracy, and the first wrong answers.
Usage: scripts/diagnose_think_off.py MODEL DATA.jsonl [--split NAME] [--difficulty easy] [--n 100]
           [--judge direct --judge "..."] [--binary build/autothink]
"""
import argparse
import concurrent.futures
import json
import os
import sys
import tempfile
import urllib.request

# The e2e drivers' server handling (start on a free port, wait for /health, SIGTERM), reused.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
from serve_process import API_KEY, start_server, stop_server  # noqa: E402

FORCED_OFF_JUDGE = "A direct answer was requested."


def post(port, path, body):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json", "Authorization": f"Bearer {API_KEY}"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.loads(r.read())


def prompt_text(question, judge):
    return ("<|im_start|>user\n" + question + "<|im_end|>\n<|im_start|>assistant\n<judge>\n" + judge +
            "\n</judge>\n<think_off>\n<answer>\n")


def first_answer(text):
    text = text.split("</answer>")[0].strip()
    return text.splitlines()[0].strip() if text else ""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("data")
    ap.add_argument("--split", default=None, help="label for the output (default: the data file's name)")
    ap.add_argument("--difficulty", default="easy")
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--judge", action="append", default=[], help="judge text to prefill (repeatable)")
    ap.add_argument("--binary", default=os.path.join(os.path.dirname(__file__), "..", "build", "autothink"))
    args = ap.parse_args()
    rows = [json.loads(l) for l in open(args.data) if l.strip()]
    rows = [r for r in rows if r.get("difficulty") == args.difficulty][: args.n]
    if not rows:
        sys.exit(f"{args.data}: no records of difficulty {args.difficulty}")
    log_path = os.path.join(tempfile.gettempdir(), f"diagnose_think_off.{os.getpid()}.log")
    server, port = start_server(args.binary, args.model, log_path, extra_args=("--max-batch", "32"))
    try:
        model_id = json.loads(urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/v1/models", headers={"Authorization": f"Bearer {API_KEY}"})).read())["data"][0]["id"]
        variants = [("auto", None), ("forced_off", FORCED_OFF_JUDGE)] + [("judge:" + j, j) for j in args.judge]
        split = args.split or os.path.basename(args.data)
        for name, judge in variants:
            def ask(r):
                if judge is None:
                    reply = post(port, "/v1/chat/completions", {
                        "model": model_id, "messages": [{"role": "user", "content": r["question"]}],
                        "temperature": 0, "max_tokens": 224, "think_mode": "auto"})
                    msg = reply["choices"][0]["message"]
                    return msg.get("content", "").strip(), msg.get("think_mode"), msg.get("judge")
                reply = post(port, "/v1/completions", {"model": model_id, "prompt": prompt_text(r["question"], judge),
                                                       "temperature": 0, "max_tokens": 12})
                return first_answer(reply["choices"][0]["text"]), "off", judge
            with concurrent.futures.ThreadPoolExecutor(16) as pool:
                answers = list(pool.map(ask, rows))
            right = [a == r["answer"] for (a, _, _), r in zip(answers, rows)]
            wrong = [{"q": r["question"], "truth": r["answer"], "got": a, "mode": m, "judge": j}
                     for (a, m, j), r, ok in zip(answers, rows, right) if not ok]
            out = {"split": split, "variant": name, "n": len(rows), "accuracy": sum(right) / len(rows),
                   "think_off": sum(m == "off" for _, m, _ in answers) / len(rows), "wrong": wrong[:6]}
            print(json.dumps(out), flush=True)
    finally:
        stop_server(server)


if __name__ == "__main__":
    main()

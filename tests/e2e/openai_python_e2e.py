#!/usr/bin/env python3
"""Driver of the CTest test serve.e2e_openai_python: the official `openai` Python client (the
venv's pinned version, requirements.txt) against a real `autothink serve` of the trained KAT
fixture model (CTest fixture kat_model: it speaks the KAT format).

Checks, each as an app would write it:
- models.list names the served model;
- chat in auto, forced-on and forced-off mode (`extra_body={"think_mode": ...}`): stream and
  non-stream give the same content, reasoning_content, judge, think_mode and usage; no KAT tag
  literal leaks into any field; forced modes carry the fixed judge texts;
- thinking_budget bounds usage.completion_tokens_details.reasoning_tokens;
- the completions API with a raw forced-on prompt keeps the tags in `text`;
- errors surface as the client's typed exceptions with our messages: BadRequestError (a bad
  think_mode, naming the field), AuthenticationError (wrong key), RateLimitError (n above the
  server's capacity of running + queued sequences: --max-batch 2 --max-queue 0).
The server must exit 0 on SIGTERM. Exit codes: 0 passed, 1 failed, 77 skipped (no openai package).
"""
import argparse
import os
import sys
import time
import traceback

from serve_process import API_KEY, expect_clean_stop, fail, skip, start_server, stop_server

try:
    import openai
except ImportError as e:  # the venv (scripts/deps.sh) has it; another python may not
    skip(f"the openai package is not installed for {sys.executable}: {e}")

TAGS = ["<|im_start|>", "<|im_end|>", "<|endoftext|>", "<judge>", "</judge>", "<think_on>", "<think_off>",
        "<think>", "</think>", "<answer>", "</answer>"]
FORCED_ON_JUDGE = "Thinking was requested."
FORCED_OFF_JUDGE = "A direct answer was requested."
QUESTION = [{"role": "user", "content": "What is 38 + 47 + 19 + 26?"}]


def strings(value, path="$"):
    """Every string anywhere in a JSON-like value, with its path."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from strings(v, f"{path}[{i}]")
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from strings(v, f"{path}.{k}")


def assert_no_tags(obj, what):
    for path, text in strings(obj.model_dump()):
        for tag in TAGS:
            assert tag not in text, f"{what}: {path} holds the tag literal {tag}: {text!r}"


def field(obj, name):
    """An extension field of a client object (judge, think_mode, reasoning_content): the client
    keeps unknown fields as pydantic extras, readable as attributes."""
    return getattr(obj, name, None)


class Checks:
    def __init__(self, client, model):
        self.client, self.model = client, model

    def chat(self, mode, **extra):
        body = {"think_mode": mode, **extra}
        return self.client.chat.completions.create(model=self.model, messages=QUESTION, max_tokens=96,
                                                   temperature=0, seed=7, extra_body=body)

    def chat_stream(self, mode, **extra):
        body = {"think_mode": mode, **extra}
        stream = self.client.chat.completions.create(model=self.model, messages=QUESTION, max_tokens=96,
                                                     temperature=0, seed=7, extra_body=body, stream=True,
                                                     stream_options={"include_usage": True})
        got = {"role": "", "judge": "", "reasoning_content": "", "content": "", "think_mode": ""}
        usage, finish, chunks = None, None, 0
        for chunk in stream:
            chunks += 1
            assert chunk.object == "chat.completion.chunk", chunk.object
            assert_no_tags(chunk, f"stream chunk {chunks}")
            if chunk.usage:
                usage = chunk.usage
            for c in chunk.choices:
                for key in ("role", "judge", "reasoning_content", "content"):
                    piece = field(c.delta, key)
                    if isinstance(piece, str):
                        got[key] += piece
                if field(c.delta, "think_mode"):
                    got["think_mode"] = field(c.delta, "think_mode")
                if c.finish_reason:
                    finish = c.finish_reason
        assert chunks > 2, f"only {chunks} chunks"
        assert finish, "no finish_reason in the stream"
        assert usage is not None, "no usage chunk although stream_options.include_usage"
        return got, usage, finish

    def stream_matches_non_stream(self, mode):
        r = self.chat(mode)
        assert r.object == "chat.completion" and len(r.choices) == 1, r
        m = r.choices[0].message
        assert m.role == "assistant"
        assert_no_tags(r, f"chat {mode}")
        got, usage, finish = self.chat_stream(mode)
        for key in ("judge", "reasoning_content", "content", "think_mode"):
            assert got[key] == (field(m, key) or ""), f"{mode}: stream {key} {got[key]!r} != non-stream {field(m, key)!r}"
        assert got["role"] == "assistant"
        assert finish == r.choices[0].finish_reason, (finish, r.choices[0].finish_reason)
        assert usage.model_dump() == r.usage.model_dump(), (usage, r.usage)
        assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens
        reasoning = r.usage.completion_tokens_details.reasoning_tokens
        if mode == "on":
            assert field(m, "think_mode") == "on" and field(m, "judge") == FORCED_ON_JUDGE, m
            assert field(m, "reasoning_content") and reasoning > 0, m
        elif mode == "off":
            assert field(m, "think_mode") == "off" and field(m, "judge") == FORCED_OFF_JUDGE, m
            assert field(m, "reasoning_content") == "" and reasoning == 0, (m, r.usage)
        else:  # the model's own choice (the fixture learnt only the fixed judge texts): a judge, then a mode
            assert field(m, "think_mode") in ("on", "off"), m
            assert field(m, "judge"), m
            assert (reasoning > 0) == (field(m, "think_mode") == "on"), (m, r.usage)
        return r

    def run(self):
        results = []

        def check(name, fn):
            try:
                fn()
                results.append((name, None))
                print(f"ok   {name}", flush=True)
            except Exception:  # one failed check must not hide the others
                results.append((name, traceback.format_exc()))
                print(f"FAIL {name}\n     " + traceback.format_exc().replace("\n", "\n     "), flush=True)

        for mode in ("auto", "on", "off"):
            check(f"chat {mode}: stream and non-stream agree (content, reasoning_content, judge, think_mode, usage)",
                  lambda mode=mode: self.stream_matches_non_stream(mode))

        def budget():
            r = self.chat("on", thinking_budget=4)
            tokens = r.usage.completion_tokens_details.reasoning_tokens
            assert 1 <= tokens <= 4, f"reasoning_tokens {tokens} outside 1..4 with thinking_budget 4"
            assert field(r.choices[0].message, "reasoning_content"), r
        check("thinking_budget bounds the reasoning tokens", budget)

        def completions():
            # The chain is prefilled up to its last line, so the tiny fixture needs only a few tokens
            # to close it: the check is that tags survive in raw text, not that the model can add.
            chain = ("38 + 47 + 19 + 26\nunits: 8 + 7 = 15\ntens: 3 + 4 + 1 = 8\n38 + 47 = 85\n"
                     "units: 5 + 9 = 14\ntens: 8 + 1 + 1 = 10\n85 + 19 = 104\n"
                     "units: 4 + 6 = 10\ntens: 10 + 2 + 1 = 13\n104 + 26 = 130\ncheck: 130\n")
            prompt = ("<|im_start|>user\nWhat is 38 + 47 + 19 + 26?<|im_end|>\n<|im_start|>assistant\n"
                      f"<judge>\n{FORCED_ON_JUDGE}\n</judge>\n<think_on>\n<think>\n{chain}")
            r = self.client.completions.create(model=self.model, prompt=prompt, max_tokens=48, temperature=0)
            assert r.object == "text_completion", r.object
            text = r.choices[0].text
            assert "</think>" in text and "<answer>" in text, f"tags missing from the raw text: {text!r}"
            assert r.usage.completion_tokens > 0
        check("completions with a raw forced-on prompt keep the tags", completions)

        def bad_request():
            try:
                self.chat("maybe")
            except openai.BadRequestError as e:
                assert e.status_code == 400 and "think_mode" in str(e), str(e)
                return
            raise AssertionError("think_mode 'maybe' was accepted")
        check("a bad think_mode is a BadRequestError naming the field", bad_request)

        def wrong_key():
            wrong = openai.OpenAI(base_url=str(self.client.base_url), api_key="not-the-key", max_retries=0)
            try:
                wrong.models.list()
            except openai.AuthenticationError as e:
                assert e.status_code == 401, e
                return
            raise AssertionError("a wrong API key was accepted")
        check("a wrong API key is an AuthenticationError", wrong_key)

        def overloaded():
            try:
                self.client.chat.completions.create(model=self.model, messages=QUESTION, max_tokens=8, n=3)
            except openai.RateLimitError as e:
                assert e.status_code == 429 and "capacity" in str(e), str(e)
                assert e.response.headers.get("retry-after"), dict(e.response.headers)
                return
            raise AssertionError("n=3 on a server of capacity 2 was accepted")
        check("more sequences than the server's capacity is a RateLimitError with Retry-After", overloaded)
        return results


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--autothink", required=True, help="the autothink binary")
    ap.add_argument("--model", required=True, help="a trained KAT model folder (the kat_model fixture's)")
    ap.add_argument("--work", required=True, help="work folder (build tree): the server log")
    args = ap.parse_args()
    if not os.access(args.autothink, os.X_OK):
        fail(f"autothink binary not found: {args.autothink}")
    if not os.path.exists(os.path.join(args.model, "config.json")):
        fail(f"no model at {args.model} (the kat_model fixture trains it)")
    os.makedirs(args.work, exist_ok=True)
    started = time.monotonic()
    log_path = os.path.join(args.work, "server.log")
    proc, port = start_server(args.autothink, args.model, log_path, ["--max-batch", "2", "--max-queue", "0"])
    try:
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=API_KEY, max_retries=0, timeout=60)
        model = client.models.list().data[0].id
        results = Checks(client, model).run()
    finally:
        code = stop_server(proc)
    failed = [name for name, error in results if error]
    print(f"{len(results) - len(failed)}/{len(results)} checks passed (openai {openai.__version__})", flush=True)
    if failed:
        fail(f"{len(failed)} check(s) failed: {failed}", log_path)
    return expect_clean_stop(code, log_path, started)


if __name__ == "__main__":
    sys.exit(main())

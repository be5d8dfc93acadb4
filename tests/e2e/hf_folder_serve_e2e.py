#!/usr/bin/env python3
"""Driver of serve.e2e_hf_folder: `autothink serve` on a model folder written entirely by Hugging
Face tools, as a user downloads one: a random tiny Qwen2 saved by `transformers`, a byte-level BPE
tokenizer.json trained by `tokenizers` (Qwen2's pre-tokenizer; <|endoftext|>, <|im_start|>,
<|im_end|> special, <think> / </think> plain added tokens as Qwen3 has them; no KAT tokens) and a
tokenizer_config.json carrying a published chat template (Qwen3's, then DeepSeek-R1's, from
llama.cpp's models/templates; scripts/deps.sh fetches them).

Checks, through the official `openai` client:
- the prompt is the one transformers' apply_chat_template renders (the server's greedy tokens
  equal transformers' generate on that prompt; a step where transformers' top-2 logits differ by
  less than 1e-4 may legitimately differ and is reported, not failed);
- Qwen3 template, thinking off (think_mode "off" -> enable_thinking=False): the text is `content`
  (leading newlines dropped, as the parser drops them after </think>);
- DeepSeek-R1 template (its prompt opens <think>): the generated text is `reasoning_content`
  until </think> (a random model never closes it: all of it), `content` empty;
- a folder whose template no family matches is refused at start with --chat-template named.
Exit codes: 0 passed, 1 failed, 77 skipped (no template files / openai).
"""
import argparse
import os
import shutil
import subprocess
import sys
import time

from serve_process import API_KEY, expect_clean_stop, fail, skip, start_server, stop_server

try:
    import openai
    import torch
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM
except ImportError as e:
    skip(f"missing a Python package for {sys.executable}: {e}")

QWEN2 = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+"
         r"|\s+(?!\S)|\s+")
CORPUS = ["The quick brown fox jumps over the lazy dog. What is two plus two? It is four.",
          "def add(a, b):\n    return a + b\n", "Hello world! How are you today? I am fine, thanks.",
          "你好，世界！机器学习。", "Numbers 0 1 2 3 4 5 6 7 8 9 and words: think, answer, reason."] * 20
MESSAGES = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "What is two plus two?"}]
NEW_TOKENS = 12


def write_folder(folder, template_text, template_file):
    os.makedirs(folder, exist_ok=True)
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(QWEN2), behavior="isolated"),
                                                 pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(CORPUS, trainers.BpeTrainer(
        vocab_size=600, show_progress=False, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=[AddedToken(t, special=True, normalized=False)
                        for t in ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]]))
    tok.add_tokens([AddedToken("<think>", special=False, normalized=False),
                    AddedToken("</think>", special=False, normalized=False)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                   bos_token="<|endoftext|>")
    fast.chat_template = template_text
    fast.save_pretrained(folder)
    torch.manual_seed(0)
    cfg = Qwen2Config(vocab_size=tok.get_vocab_size(), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                      tie_word_embeddings=False, rms_norm_eps=1e-6, torch_dtype="float32",
                      eos_token_id=fast.convert_tokens_to_ids("<|im_end|>"))
    model = Qwen2ForCausalLM(cfg).float().eval()
    with torch.no_grad():  # logits far apart: greedy steps are not near-ties
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.3)
    model.save_pretrained(folder, safe_serialization=True)
    model.generation_config.save_pretrained(folder)
    return fast, model


def reference(fast, model, enable_thinking):
    prompt = fast.apply_chat_template(MESSAGES, tokenize=False, add_generation_prompt=True,
                                      enable_thinking=enable_thinking)
    ids = fast(prompt, add_special_tokens=False, return_tensors="pt").input_ids
    with torch.no_grad():
        out = model.generate(ids, max_new_tokens=NEW_TOKENS, do_sample=False, output_scores=True,
                             return_dict_in_generate=True, eos_token_id=model.config.eos_token_id)
    new = out.sequences[0, ids.shape[1]:].tolist()
    gaps = []
    for scores in out.scores:
        top = torch.topk(scores[0].float(), 2).values
        gaps.append(float(top[0] - top[1]))
    stop = model.config.eos_token_id
    text_ids = [t for t in new if t != stop]
    return prompt, fast.decode(text_ids, skip_special_tokens=False), gaps


def ask(client, think_mode):
    r = client.chat.completions.create(model=client.models.list().data[0].id, messages=MESSAGES, temperature=0, max_tokens=NEW_TOKENS,
                                       extra_body={"think_mode": think_mode})
    m = r.choices[0].message
    return m.content or "", (m.model_extra or {}).get("reasoning_content") or ""


def check(name, got, want, gaps):
    if got == want:
        print(f"{name}: identical ({len(gaps)} greedy steps, smallest top-2 gap {min(gaps):.3g})", flush=True)
        return
    near = [i for i, g in enumerate(gaps) if g < 1e-4]
    if near:
        print(f"{name}: differs after a near-tie at steps {near} (top-2 gap < 1e-4): not a failure", flush=True)
        return
    fail(f"{name}: served {got!r}, transformers generated {want!r}")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--autothink", required=True)
    ap.add_argument("--templates", required=True, help="llama.cpp's models/templates folder")
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    started = time.monotonic()
    files = {"qwen3": "Qwen-Qwen3-0.6B.jinja", "deepseek-r1": "deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja"}
    if not all(os.path.exists(os.path.join(args.templates, f)) for f in files.values()):
        skip(f"no chat template files in {args.templates} (scripts/deps.sh fetches them)")
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    code = 0
    for family, file in files.items():
        folder = os.path.join(args.work, family)
        template = open(os.path.join(args.templates, file), encoding="utf-8").read()
        fast, model = write_folder(folder, template, file)
        log = os.path.join(args.work, f"serve-{family}.log")
        proc, port = start_server(args.autothink, folder, log)
        try:
            with open(log, errors="replace") as f:
                if f"chat template: {family} (chat_template.jinja)" not in f.read():
                    fail(f"the server did not recognise the {family} template", log)
            client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=API_KEY)
            if family == "qwen3":
                _, want, gaps = reference(fast, model, enable_thinking=False)
                content, reasoning = ask(client, "off")
                if reasoning:
                    fail(f"qwen3 think off: reasoning_content {reasoning!r} should be empty")
                check("qwen3 think off: content", content, want.lstrip("\n"), gaps)
            else:
                _, want, gaps = reference(fast, model, enable_thinking=True)
                content, reasoning = ask(client, "on")
                if content:
                    fail(f"deepseek-r1: content {content!r} should be empty: the think never closed")
                check("deepseek-r1 think on: reasoning_content", reasoning, want.lstrip("\n"), gaps)
        finally:
            code = stop_server(proc)
        if code != 0:
            expect_clean_stop(code, log, started)
    # A template no family matches: refused at start, naming the way out.
    odd = os.path.join(args.work, "qwen3")
    with open(os.path.join(odd, "chat_template.jinja"), "w", encoding="utf-8") as f:
        f.write("{% for m in messages %}[{{ m.role }}] {{ m.content }}{% endfor %}")
    r = subprocess.run([args.autothink, "serve", "--model", odd, "--port", "0"], capture_output=True, text=True,
                       timeout=60)
    if r.returncode == 0 or "--chat-template" not in r.stderr + r.stdout:
        fail(f"an unknown template should be refused naming --chat-template; got {r.returncode}: {r.stderr[-500:]}")
    print("unknown template refused:", (r.stderr.strip().splitlines() or [""])[-1][:200], flush=True)
    return expect_clean_stop(code, os.path.join(args.work, "serve-deepseek-r1.log"), started)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Reference ids for tokenizer_json_test.cpp, from Hugging Face `tokenizers` (the venv's pin).

Trains byte-level BPE tokenizers with three pre-tokenizer settings (Qwen2's: NFC + its Split
regex + ByteLevel without prefix space; Llama-3's: its regex, add_prefix_space, ignore_merges;
GPT-2's: ByteLevel's own regex, merges in the old "a b" form), each with the 11 KAT special
tokens and a few other added tokens (non-special, lstrip/rstrip, single_word). Writes into --out:
  <name>/tokenizer.json   the tokenizer
  corpus.json             the test inputs as hex bytes (some are invalid UTF-8 on purpose)
  expected.json           per tokenizer and input: ids with specials matched and not, decoded text
Invalid UTF-8 is replaced by U+FFFD before `tokenizers` sees it (its API takes text).
"""
import argparse
import json
import os

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

KAT = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<judge>", "</judge>", "<think_on>", "<think_off>",
       "<think>", "</think>", "<answer>", "</answer>"]
QWEN2 = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+"
         r"|\s+(?!\S)|\s+")
LLAMA3 = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
          r"|\s*[\r\n]+|\s+(?!\S)|\s+")

TRAIN = [
    "The quick brown fox jumps over the lazy dog. I'm sure they'll say it's fine; we've done it, haven't we?",
    "Tokenizers split text into words, then merge bytes into tokens. HELLO WORLD! Hello world. hello, world...",
    "你好，世界！我们今天学习分词。中文文本没有空格，所以字节级别的合并很重要。机器学习和深度学习。",
    "日本語のテキストも試します。こんにちは世界。한국어 텍스트도 있습니다. مرحبا بالعالم. नमस्ते दुनिया। สวัสดีชาวโลก",
    "def solve(x):\n    return x ** 2 + 3 * x - 7  # a comment\n\nfor i in range(10):\n\tprint(i, solve(i))\n",
    "if (a < b && c != d) { count++; } else { return -1; } // C code\nint main(void) { return 0; }\n",
    "Numbers: 0 1 2 3 4 5 6 7 8 9 10 42 100 2024 3.14159 1,000,000 -17 +8 1e-5 0xFF",
    "Emoji: 👍 😀 🎉 👨‍👩‍👧‍👦 🏳️‍🌈 👍🏽 ❤️ and café naïve résumé Ångström façade coöperate",
    "Whitespace:    many   spaces\t\ttabs\n\n\nnewlines\r\n windows line ends   trailing   ",
    "Math: x² + y² = z², α β γ δ ∑ ∫ √ ∞ ≤ ≥ ≠ → ← ↔",
]

CORPUS = [
    b"", b"a", b" a", b"hello", b" hello world", b"Hello World", b"HELLO'S 'S I'M we'LL you'Ve",
    b"The quick brown fox jumps over the lazy dog.", b"I'm sure they'll say it's fine; we've done it.",
    "你好，世界！我们今天学习分词。".encode(), "日本語のテキスト こんにちは 한국어 텍스트".encode(),
    "مرحبا بالعالم नमस्ते दुनिया สวัสดี".encode(),
    b"def solve(x):\n    return x ** 2  # comment\n\tprint(x)\n",
    b"if (a<b&&c!=d) { count++; } // c\r\n", b"    indented\n        more\n",
    "👍 😀 🎉 👨‍👩‍👧‍👦 🏳️‍🌈 👍🏽 ❤️".encode(), "e\u0301 cafe\u0301 A\u030a vs \u00c5 n\u0303 \u212b".encode(),
    "\u1100\u1161\u11a8 decomposed hangul".encode(),
    b"a" + b" " * 60 + b"b", b"\n\n\n\n", b"  \t \n  x", b"end   ", b"     ", b"\r\n\r\n", b"\t\t\t",
    "nbsp\u00a0em\u2003ideo\u3000mvs\u180ezwsp\u200bnel\u0085ls\u2028end".encode(),
    b"0123456789 3.14159 1,000,000 -17 12345678901234", "\u0663\u0664\u0665 x\u00b2 \u2460".encode(),
    b"<|im_start|>user\nhi<|im_end|>\n", b"<think>reason</think><answer>42</answer>",
    b"a<judge>b</judge>c", b"<think_o <<think>> <think_off><think_on>", b"<|endoftext|><|endoftext|>",
    b"<tool_call>{\"a\": 1}</tool_call>", b"x  <mask>  y <mask>", b"word<sep>word <sep> word",
    b"abc\xff\xfe def", b"\xe4\xbd", b"\xc0\xaf ok", b"\xed\xa0\x80 surrogate", b"\xf4\x90\x80\x80 big",
    b"caf\xc3", b"\x80\x80\x80", b"mixed \xe4\xbd\xa0\xe5\xa5 end",
    ("Long text. " + " ".join(TRAIN) * 3).encode(),
]


def train(name, out, pre_tokenizer, normalizer=None, ignore_merges=False, string_merges=False):
    tok = Tokenizer(models.BPE())
    if normalizer is not None:
        tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizer
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=1500, min_frequency=2, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  special_tokens=[AddedToken(t, special=True, normalized=False) for t in KAT])
    tok.train_from_iterator(TRAIN * 4, trainer)
    tok.add_tokens([AddedToken("<tool_call>", special=False), AddedToken("</tool_call>", special=False),
                    AddedToken("<sep>", special=False, single_word=True)])
    tok.add_special_tokens([AddedToken("<mask>", special=True, lstrip=True, rstrip=True)])
    folder = os.path.join(out, name)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "tokenizer.json")
    tok.save(path)
    if ignore_merges or string_merges:  # settings the trainer does not write
        data = json.load(open(path, encoding="utf-8"))
        data["model"]["ignore_merges"] = ignore_merges
        if string_merges:
            data["model"]["merges"] = [" ".join(m) if isinstance(m, list) else m for m in data["model"]["merges"]]
        json.dump(data, open(path, "w", encoding="utf-8"), ensure_ascii=False)
        tok = Tokenizer.from_file(path)
    return tok


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    tokenizers = {
        "qwen2": train("qwen2", args.out, pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(QWEN2), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)]), normalizer=normalizers.NFC()),
        "llama3": train("llama3", args.out, pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(LLAMA3), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=False)]), ignore_merges=True),
        "gpt2": train("gpt2", args.out, pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
                      string_merges=True),
    }
    expected = {}
    for name, tok in tokenizers.items():
        rows = []
        for raw in CORPUS:
            text = raw.decode("utf-8", errors="replace")
            tok.encode_special_tokens = False
            with_specials = tok.encode(text, add_special_tokens=False).ids
            tok.encode_special_tokens = True
            plain = tok.encode(text, add_special_tokens=False).ids
            rows.append({"with_specials": with_specials, "plain": plain,
                         "decoded": tok.decode(plain, skip_special_tokens=False),
                         "decoded_with_specials": tok.decode(with_specials, skip_special_tokens=False)})
        expected[name] = rows
    json.dump([raw.hex() for raw in CORPUS], open(os.path.join(args.out, "corpus.json"), "w"))
    json.dump(expected, open(os.path.join(args.out, "expected.json"), "w", encoding="utf-8"), ensure_ascii=False)


if __name__ == "__main__":
    main()

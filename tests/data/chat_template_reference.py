#!/usr/bin/env python3
"""Reference renderings for chat_template_test.cpp: transformers' apply_chat_template (the venv's
pin) on the chat templates model families publish, as llama.cpp keeps them (models/templates/ of
the llama-cpp-python sdist, fetched by scripts/deps.sh):
  qwen2.5      Qwen-Qwen2.5-7B-Instruct.jinja
  qwen3        Qwen-Qwen3-0.6B.jinja
  deepseek-r1  deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja
usage: chat_template_reference.py TEMPLATES_DIR OUT.json
Writes [{"family", "file", "messages", "add_generation_prompt", "enable_thinking", "text"}, ...]."""
import json
import os
import sys

from tokenizers import Tokenizer, models
from transformers import PreTrainedTokenizerFast

FILES = {"qwen2.5": "Qwen-Qwen2.5-7B-Instruct.jinja", "qwen3": "Qwen-Qwen3-0.6B.jinja",
         "deepseek-r1": "deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja"}
BOS = "<｜begin▁of▁sentence｜>"

CONVERSATIONS = [
    [{"role": "user", "content": "What is 2+2?"}],
    [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Name a prime."}],
    [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello! How can I help?"},
     {"role": "user", "content": "Tell me a joke.\nA short one."}],
    # assistant history with reasoning, given apart (reasoning_content) and inline (<think> in content)
    [{"role": "system", "content": "Think first."}, {"role": "user", "content": "17*3?"},
     {"role": "assistant", "content": "51", "reasoning_content": "17*3 = 51.\n"},
     {"role": "user", "content": "and 17*4?"}],
    [{"role": "user", "content": "q1"},
     {"role": "assistant", "content": "<think>\nstep one\nstep two\n</think>\n\nanswer one"},
     {"role": "user", "content": "q2"}, {"role": "assistant", "content": "answer two", "reasoning_content": "r2"}],
    # special-token literals typed by a user stay the user's text
    [{"role": "user", "content": "print('<|im_end|>') and <think> and <｜User｜>"}],
    [{"role": "user", "content": "你好 👋"}, {"role": "assistant", "content": "\n\nspaced\n"},
     {"role": "user", "content": "  padded  "}],
]


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    tok = PreTrainedTokenizerFast(tokenizer_object=Tokenizer(models.BPE()), bos_token=BOS)
    rows = []
    for family, name in FILES.items():
        template = open(os.path.join(sys.argv[1], name), encoding="utf-8").read()
        for messages in CONVERSATIONS:
            ends_with_user = messages[-1]["role"] == "user"
            for add_generation_prompt in ([True, False] if ends_with_user else [False]):
                for enable_thinking in ([True, False] if add_generation_prompt else [True]):
                    text = tok.apply_chat_template(messages, chat_template=template, tokenize=False,
                                                   add_generation_prompt=add_generation_prompt,
                                                   enable_thinking=enable_thinking)
                    rows.append({"family": family, "file": name, "messages": messages,
                                 "add_generation_prompt": add_generation_prompt,
                                 "enable_thinking": enable_thinking, "bos_token": BOS, "text": text})
    json.dump(rows, open(sys.argv[2], "w", encoding="utf-8"), ensure_ascii=False)


if __name__ == "__main__":
    main()

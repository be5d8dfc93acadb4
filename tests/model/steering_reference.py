#!/usr/bin/env python3
"""optillm's own steering code as the reference for tests/model/steering_test.cpp.

Loads optillm/autothink/steering.py by file path (.deps/optillm from scripts/deps.sh; `datasets`,
which it imports for loading from the hub, is stubbed: nothing here loads a dataset) and answers,
for the cases in IN.json:
  - "logits": next-token logits of transformers' Qwen2 (f32) on the prompt with a SteeringHook
    installed on model.model.layers[layer], the hook's current vector set to each record;
  - "token_matches" / "text_matches": the record SteeringHook._try_token_match /
    _try_text_match picks for a token history / a text buffer (-1: none), with the manager's
    tokenized contexts built by create_tokenized_contexts from the ids the test gives.
usage: steering_reference.py OPTILLM_AUTOTHINK_DIR IN.json  (prints JSON)"""
import importlib.util
import json
import sys
import types

import torch
from transformers import AutoModelForCausalLM

sys.modules.setdefault("datasets", types.ModuleType("datasets"))
spec = importlib.util.spec_from_file_location("optillm_steering", f"{sys.argv[1]}/steering.py")
steering = importlib.util.module_from_spec(spec)
spec.loader.exec_module(steering)
case = json.load(open(sys.argv[2]))


def manager_for(records):
    m = steering.SteeringVectorManager.__new__(steering.SteeringVectorManager)
    steering.SteeringVectorManager.__init__(m, dataset_name="", target_layer=case["layer"], device="cpu")
    m.steering_vectors = [m._process_dataset_item(r) | {"is_positive": r.get("is_positive", True)} for r in records]
    return m


class IdsTokenizer:  # encode() of a pivot context gives the ids the test chose for it
    def encode(self, text, add_special_tokens=False):
        return list(case["context_ids"][text])


out = {}
manager = manager_for(case["records"])
manager.create_tokenized_contexts(IdsTokenizer())
model = AutoModelForCausalLM.from_pretrained(case["model"], torch_dtype=torch.float32).eval() if case.get("prompt") else None
logits = []
for vector in manager.steering_vectors if model else []:
    hook = steering.SteeringHook(manager, case["layer"], None)
    hook.current_vector = vector
    hook.active_pattern = vector["reasoning_pattern"]
    handle = model.model.layers[case["layer"]].register_forward_hook(hook)
    with torch.no_grad():
        logits.append(model(torch.tensor([case["prompt"]])).logits[0, -1].tolist())
    handle.remove()
out["logits"] = logits
if model:
    with torch.no_grad():
        out["plain_logits"] = model(torch.tensor([case["prompt"]])).logits[0, -1].tolist()


def index_of(vector):
    return -1 if vector is None else next(i for i, v in enumerate(manager.steering_vectors) if v is vector)


out["token_matches"] = []
for history in case["token_histories"]:
    hook = steering.SteeringHook(manager, case["layer"], IdsTokenizer())
    hook.token_history = list(history)
    out["token_matches"].append(index_of(hook.current_vector) if hook._try_token_match() else -1)
out["text_matches"] = []
for text in case["texts"]:
    hook = steering.SteeringHook(manager, case["layer"], None)
    hook.context_buffer = text[-500:]
    out["text_matches"].append(index_of(hook.current_vector) if hook._try_text_match() else -1)
print(json.dumps(out))

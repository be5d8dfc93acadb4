#!/usr/bin/env python3
"""optillm's heuristic complexity classifier as the reference for complexity_test.cpp: loads
optillm/autothink/classifier.py by file path (its constructor pip-installs and downloads a model,
so the instance is made without __init__) and prints, per query of IN.json (a list of strings),
[label, score] of _fallback_classification's first entry.
usage: complexity_reference.py OPTILLM_AUTOTHINK_DIR IN.json"""
import importlib.util
import json
import sys

spec = importlib.util.spec_from_file_location("optillm_classifier", f"{sys.argv[1]}/classifier.py")
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
classifier = module.ComplexityClassifier.__new__(module.ComplexityClassifier)
print(json.dumps([list(classifier._fallback_classification(q)[0]) for q in json.load(open(sys.argv[2]))]))

#!/usr/bin/env python3
"""The demo's AutoThink figures over several runs (seeds), as a Markdown table: mean ± sd over
the runs, and each run's figure beside it.

Usage: scripts/seed_table.py RUN_DIR [RUN_DIR ...] [--report eval-http/eval.json]
Each RUN_DIR is an `autothink demo --out RUN_DIR [--seed N]` folder; the figures are read from
its served eval (eval-http/eval.json: held-out queries over /v1/chat/completions).
"""
import argparse
import json
import os
import statistics
import sys


def group(report, name):
    for g in report["groups"]:
        if g["name"] == name:
            return g
    sys.exit(f"no group {name!r} in the report")


def figures(report):
    easy, hard = group(report, "easy"), group(report, "hard")
    mix = report["mix"]
    return [
        ("mix accuracy, auto", 100 * mix["accuracy_auto"], "%"),
        ("mix accuracy, forced on", 100 * mix["accuracy_on"], "%"),
        ("easy accuracy, auto", 100 * easy["auto"]["accuracy"], "%"),
        ("easy accuracy, forced off", 100 * easy["off"]["accuracy"], "%"),
        ("hard accuracy, auto", 100 * hard["auto"]["accuracy"], "%"),
        ("hard accuracy, forced on", 100 * hard["on"]["accuracy"], "%"),
        ("easy think-on rate", 100 * easy["auto"]["think_on_rate"], "%"),
        ("hard think-on rate", 100 * hard["auto"]["think_on_rate"], "%"),
        ("easy tokens, auto / forced on", easy["auto"]["mean_completion_tokens"] / easy["on"]["mean_completion_tokens"], "x"),
        ("hard tokens, auto / forced on", hard["auto"]["mean_completion_tokens"] / hard["on"]["mean_completion_tokens"], "x"),
        ("judge accuracy", 100 * group(report, "all")["judge_accuracy"], "%"),
        ("mix token saving, auto vs forced on", 100 * mix["token_saving_auto_vs_on"], "%"),
    ]


def fmt(v, unit):
    return f"{v:.1f}%" if unit == "%" else f"{v:.2f}x"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--report", default=os.path.join("eval-http", "eval.json"))
    args = ap.parse_args()
    per_run = []
    for run in args.runs:
        path = os.path.join(run, args.report)
        if not os.path.exists(path):
            sys.exit(f"{path}: no eval report (has the demo in {run} finished?)")
        per_run.append(figures(json.load(open(path))))
    names = [os.path.basename(os.path.normpath(r)) for r in args.runs]
    print("| figure | mean ± sd | " + " | ".join(names) + " |")
    print("|---|---:|" + "---:|" * len(names))
    for i, (label, _, unit) in enumerate(per_run[0]):
        vals = [fig[i][1] for fig in per_run]
        sd = statistics.stdev(vals) if len(vals) > 1 else 0.0
        mean = fmt(statistics.mean(vals), unit)
        spread = f"{sd:.1f}" if unit == "%" else f"{sd:.2f}"
        print(f"| {label} | {mean} ± {spread} | " + " | ".join(fmt(v, unit) for v in vals) + " |")


if __name__ == "__main__":
    main()

"""Which DPO recipe makes the embedded SmolLM2-135M learn the deal-screening rule, fast? One experiment per call.

    flock /tmp/specter-cpu.lock python benchmarks/dpo_recipe.py NAME [--set dpo.key=value ...] [--pairs-file F]

Trains on the suite's DPO pairs (benchmarks/dpo_data.py: chosen = reference, rejected = the base model's own
sampled answer), then measures greedy ε of the merged model on the suite's 320 test tasks (templates never seen in
training) against the base model's, with McNemar's exact test and the best constant answer, and which labels were
used. Appends the settings and results to benchmarks/results/dpo_recipe.json (one entry per NAME, replaced on rerun).
"""
from __future__ import annotations
import argparse, json, os, sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
from scipy.stats import binomtest
from specter_lab.config import load_settings
from specter_lab.files import write_json
from specter_lab.suite import load_tasks
from specter_lab.train import train
from specter_lab.evaluate import evaluate
from specter_lab.generate import HFGenerator
from specter_lab.model import load_model
import dpo_data

HERE = Path(__file__).parent
RESULTS = HERE / "results" / "dpo_recipe.json"
WORK = Path(os.environ.get("DPO_WORK", "/tmp/dpo_work"))


def base_epsilon(tasks, max_tokens, limit):
    "Greedy ε of the untuned embedded model on the test split (cached in the work folder)."
    f = WORK / f"base_epsilon_{max_tokens}_{limit}.json"
    if f.is_file(): return json.loads(f.read_text())
    m, tok = load_model("embedded", device="cpu")
    s = load_settings(overrides={"eval.max_tokens": max_tokens, "eval.limit": limit})
    e = _summary(evaluate(None, "deal_screening", "test", s, rmax=0, generator=HFGenerator(model=m, tokenizer=tok, max_tokens=max_tokens)))
    write_json(f, e)
    return e


def _summary(r):
    "What this benchmark keeps of an eval report."
    return {"epsilon": r["epsilon"]["hat"], "passed": [o["passed"] for o in r["outcomes"]], "best_constant": r["baseline"],
            "labels_used": r["labels"]["given"], "answers": [o["output"] for o in r["outcomes"]]}


def mcnemar(before, after):
    "Exact McNemar test on paired pass/fail outcomes: (gained, lost, p)."
    b = sum(1 for x, y in zip(before, after) if not x and y)
    c = sum(1 for x, y in zip(before, after) if x and not y)
    return b, c, (binomtest(b, b + c, 0.5).pvalue if b + c else 1.0)


def run(name, overrides, pairs_file=None, max_tokens=12, limit=0):
    tasks = load_tasks("deal_screening")
    _, pairs = dpo_data.build(WORK, 256, rejected=os.environ.get("DPO_REJECTED", "label"))
    pairs_file = pairs_file or pairs
    s = load_settings(overrides={"eval.max_tokens": max_tokens, "eval.limit": limit, **overrides})
    out = WORK / "runs" / name
    import shutil; shutil.rmtree(out, ignore_errors=True)
    t0 = time.time()
    r = train(pairs_file, "embedded", out, settings=s, tasks="deal_screening", split="test", progress=False)
    after = _summary(json.loads((out / "report.json").read_text()))
    before = base_epsilon(tasks, max_tokens, limit)
    gained, lost, p = mcnemar(before["passed"], after["passed"])
    res = {"name": name, "overrides": overrides, "recipe": r["recipe"], "pairs": r["data"]["train"],
           "max_length": r["data"]["max_length"], "steps": r["steps"], "train_seconds": r["train_seconds"], "train_cpu_seconds": r["train_cpu_seconds"],
           "pairs_per_second": r["pairs_per_second"], "total_seconds": round(time.time() - t0, 1),
           "preference_accuracy": r["preference_accuracy"], "final_loss": r["final_loss"],
           "epsilon_before": before["epsilon"], "epsilon_after": after["epsilon"],
           "delta_epsilon": after["epsilon"] - before["epsilon"], "mcnemar": {"gained": gained, "lost": lost, "p": p},
           "best_constant": after["best_constant"], "labels_used": after["labels_used"],
           "eval_limit": limit, "pairs_source": str(pairs_file), "examples": after["answers"][:4], "load_average": os.getloadavg()}
    allr = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    allr[name] = res
    write_json(RESULTS, allr)
    print(json.dumps(res, indent=1))
    return res


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("name"); p.add_argument("--set", action="append", default=[])
    p.add_argument("--pairs-file"); p.add_argument("--max-tokens", type=int, default=12)
    p.add_argument("--limit", type=int, default=0, help="evaluate the first N test tasks (0 = all 320)")
    a = p.parse_args()
    run(a.name, dict(kv.split("=", 1) for kv in a.set), a.pairs_file, a.max_tokens, a.limit)

"""Training throughput: our default DPO recipe against TRL's DPOTrainer with LoRA on all linear layers.

    flock /tmp/specter-cpu.lock python benchmarks/train_dpo.py [--baseline-steps 8]

Same data for both: 256 DPO pairs from the bundled deal-screening suite's train split (benchmarks/dpo_data.py:
chosen = the reference, rejected = the other label, or the base model's sampled answer with DPO_REJECTED=sampled);
our default takes its `max_pairs` of them. Held-out preference accuracy is measured on 96 pairs from the suite's *test* split (phrasings never seen in training): chosen = the reference, rejected = the same
answer with the other label, so it measures whether the model prefers the right label, not just the answer's form.

Baseline = `DPOTrainer(model, args=DPOConfig(output_dir, use_cpu, bf16=False), peft_config=LoraConfig(
target_modules='all-linear'))`: every other setting TRL's default (lr 1e-6, max_length 1024, gradient checkpointing,
batch 8, 3 epochs). Three epochs of it take most of an hour here, so its pairs/s is measured over its first
`--baseline-steps` steps and its preference accuracy is reported after those steps (stated in the result).
Each side runs in its own process (peak RSS = that process's ru_maxrss). Ours is timed from building its Trainer
(tokenising its pairs and computing their reference log-probs, once) to the end of training; the baseline from the
start of `train()` (it computes the reference inline at every step; its Trainer also tokenises the 256 pairs and
the held-out set, which only 64 pairs would be charged for): the comparison is conservative for ours. Also prints the FLOP lower bound on the time
of our default's work at this CPU's measured fp32 matmul rate, and how far the default is from it.
Writes benchmarks/results/train_dpo.json.
"""
from __future__ import annotations
import argparse, json, os, resource, subprocess, sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
HERE = Path(__file__).parent
WORK = Path(os.environ.get("DPO_WORK", "/tmp/dpo_work"))


def heldout_pairs(path):
    "Test-split tasks as preference pairs: reference vs the same answer with the other label."
    from specter_lab.suite import load_tasks
    from specter_lab.files import write_jsonl
    rows = []
    for t in load_tasks("deal_screening", "test")[:96]:
        other = "PASS" if t.label == "LIKE" else "LIKE"
        rows.append({"prompt": t.messages, "chosen": [{"role": "assistant", "content": t.reference}],
                     "rejected": [{"role": "assistant", "content": other + t.reference[len(t.label):]}]})
    write_jsonl(path, rows)
    return path


def dataset_dir():
    "A DatasetDict folder: train = the 256 pairs, test = the held-out label pairs."
    import datasets, dpo_data
    from specter_lab.train import load_records
    d = WORK / "bench_dd"
    if (d / "dataset_dict.json").is_file(): return d
    _, pairs = dpo_data.build(WORK, 256, rejected=os.environ.get("DPO_REJECTED", "label"))
    train = load_records(pairs, test_fraction=0)[0]["train"]
    test = load_records(heldout_pairs(WORK / "heldout.jsonl"), test_fraction=0)[0]["train"]
    datasets.DatasetDict({"train": train, "test": test}).save_to_disk(str(d))
    return d


def run_ours(data, out):
    from specter_lab.train import train
    from specter_lab.config import load_settings
    s = load_settings()
    r = train(data, "embedded", out, settings=s, progress=False)
    return {"pairs": r["data"]["train"], "epochs": s.dpo.epochs, "steps": r["steps"], "seconds": r["train_seconds"],
            "setup_seconds": r["setup_seconds"], "cpu_seconds": r["train_cpu_seconds"], "pairs_per_second": r["pairs_per_second"],
            "max_length": r["data"]["max_length"], "preference_accuracy": r["preference_accuracy"],
            "recipe": r["recipe"]}


def run_baseline(data, out, steps):
    import datasets, torch
    from peft import LoraConfig
    from trl import DPOConfig, DPOTrainer
    from specter_lab.model import load_model
    dd = datasets.load_from_disk(str(data))
    model, tok = load_model("embedded", device="cpu")
    args = DPOConfig(output_dir=str(out), use_cpu=True, bf16=False, max_steps=steps, report_to=[], save_strategy="no",
                     disable_tqdm=True, logging_steps=1)
    tr = DPOTrainer(model=model, args=args, train_dataset=dd["train"], eval_dataset=dd["test"], processing_class=tok,
                    peft_config=LoraConfig(target_modules="all-linear", task_type="CAUSAL_LM"))
    t0, c0 = time.time(), time.process_time()
    tr.train()
    dt, dc = time.time() - t0, time.process_time() - c0
    ev = tr.evaluate()
    a = tr.args
    return {"steps": steps, "pairs": steps * a.per_device_train_batch_size, "seconds": round(dt, 1), "cpu_seconds": round(dc, 1),
            "pairs_per_second": round(steps * a.per_device_train_batch_size / dt, 3), "max_length": a.max_length,
            "gradient_checkpointing": a.gradient_checkpointing, "learning_rate": a.learning_rate, "epochs_default": a.num_train_epochs,
            "preference_accuracy_after_steps": ev["eval_rewards/accuracies"]}


def child(which, data, out, steps):
    "Run one side in this process and print its result as JSON with the peak RSS."
    r = run_ours(data, out) if which == "ours" else run_baseline(data, out, steps)
    r["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print("RESULT " + json.dumps(r))


def matmul_gflops(seconds=5.0):
    "This CPU's fp32 matmul rate on the model's own shapes (tokens x 576 @ 576 x 1536), all threads."
    import torch
    a, b = torch.randn(2048, 576), torch.randn(576, 1536)
    for _ in range(3): a @ b
    n, t0 = 0, time.time()
    while time.time() - t0 < seconds: a @ b; n += 1
    return 2 * 2048 * 576 * 1536 * n / (time.time() - t0) / 1e9


def flop_bound(data, recipe):
    "FLOPs of our default's work: policy forward every epoch, the reference forward once, backward through the LoRA layers."
    import datasets
    from transformers import AutoConfig
    from specter_lab.model import embedded_hf_dir, embedded_tokenizer
    from specter_lab.train import token_lengths, layer_indices, select_pairs
    cfg, tok = AutoConfig.from_pretrained(embedded_hf_dir()), embedded_tokenizer()
    ds = select_pairs(datasets.load_from_disk(str(data))["train"], recipe["max_pairs"], recipe["seed"])
    d, f, L, V = cfg.hidden_size, cfg.intermediate_size, cfg.num_hidden_layers, cfg.vocab_size
    kv = d * cfg.num_key_value_heads // cfg.num_attention_heads
    per_layer = 2 * (2 * d * d + 2 * d * kv + 3 * d * f)          # matmul FLOPs per token per layer (forward)
    tokens, completion = 0, 0
    for r in ds:
        for k in ("chosen", "rejected"):
            from specter_lab.train import _as_text
            p, full = _as_text(tok, r["prompt"], r[k])
            n, np_ = len(tok(full, add_special_tokens=False)["input_ids"]), len(tok(p, add_special_tokens=False)["input_ids"])
            tokens += n; completion += n - np_
    lora = len(layer_indices(recipe["lora_layers"], L) or range(L))
    head = 2 * d * V * completion                                   # lm_head only where log-probs are needed
    fwd = per_layer * L * tokens + head
    bwd = per_layer * lora * tokens + 2 * head                      # input grads through the LoRA'd layers + lm_head
    total = recipe["epochs"] * (fwd + bwd) + fwd                    # + the reference pass, computed once
    return {"tokens": tokens, "completion_tokens": completion, "tflop": round(total / 1e12, 2)}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--baseline-steps", type=int, default=8)
    p.add_argument("--reuse-baseline", action="store_true",
                   help="keep the baseline of the last results file (same script, same steps) and re-measure ours only")
    p.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child: return child(a.child[0], a.child[1], a.child[2], int(a.child[3]))
    data = dataset_dir()
    res, sides = {}, ("ours", "baseline")
    if a.reuse_baseline:
        last = json.loads((HERE / "results" / "train_dpo.json").read_text())
        if last["baseline"]["steps"] != a.baseline_steps: sys.exit("the last baseline ran a different number of steps")
        res["baseline"], res["baseline_from_earlier_run"], sides = last["baseline"], True, ("ours",)
    for which in sides:
        out = WORK / f"bench_{which}"
        import shutil; shutil.rmtree(out, ignore_errors=True)
        for f in Path(data).glob("*/cache-*.arrow"): f.unlink()   # no reference log-probs cached by an earlier run
        r = subprocess.run([sys.executable, __file__, "--child", which, str(data), str(out), str(a.baseline_steps)],
                           capture_output=True, text=True)
        line = [l for l in r.stdout.splitlines() if l.startswith("RESULT ")]
        if r.returncode or not line: sys.exit(f"{which} failed:\n{r.stderr[-3000:]}")
        res[which] = json.loads(line[0][7:])
        print(which, res[which], flush=True)
    gf = matmul_gflops()
    fb = flop_bound(data, res["ours"]["recipe"])
    bound_s = fb["tflop"] * 1e3 / gf
    res["speedup_pairs_per_second"] = round(res["ours"]["pairs_per_second"] / res["baseline"]["pairs_per_second"], 2)
    res["flop_bound"] = {**fb, "matmul_gflops": round(gf, 1), "seconds": round(bound_s, 1),
                         "default_over_bound": round(res["ours"]["seconds"] / bound_s, 2)}
    res["load_average"] = os.getloadavg()
    from specter_lab.files import write_json
    write_json(HERE / "results" / "train_dpo.json", res)
    print(f"ours {res['ours']['pairs_per_second']} pairs/s, baseline {res['baseline']['pairs_per_second']} pairs/s "
          f"-> {res['speedup_pairs_per_second']}x; peak RSS {res['ours']['peak_rss_mb']} vs {res['baseline']['peak_rss_mb']} MB; "
          f"held-out preference accuracy {res['ours']['preference_accuracy']} vs {res['baseline']['preference_accuracy_after_steps']} "
          f"(baseline after {a.baseline_steps} steps)")
    print(f"FLOP bound: {fb['tflop']} TFLOP at {gf:.1f} GFLOP/s = {bound_s:.0f} s; default took {res['ours']['seconds']} s "
          f"({res['flop_bound']['default_over_bound']}x the bound)")


if __name__ == "__main__":
    main()

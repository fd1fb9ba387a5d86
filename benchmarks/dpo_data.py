"""The deal-screening DPO data the training experiments and benchmark use.

Tasks come from the bundled suite (`specter_lab.suite.load_tasks('deal_screening')`: 512 train, 320 test
profiles, balanced labels, test templates unseen in train). Pairs are what the loop's refinement policy yields: prompt = the task's messages,
chosen = the reference answer, rejected = the base model's own sampled answer (temperature 0.8),
or the wrong label when the sample happened to pass.

    python benchmarks/dpo_data.py OUT_DIR [--pairs 256]
writes OUT_DIR/tasks.jsonl and OUT_DIR/pairs.jsonl (cached: a second run reuses them).
"""
from __future__ import annotations
import argparse, json, random, re, sys
from pathlib import Path
from specter_lab.files import write_jsonl, read_jsonl

def load_suite(name="deal_screening") -> list[dict]:
    "The bundled suite's tasks as dicts (the suite file format)."
    from specter_lab.suite import load_tasks
    return [t.to_dict() for t in load_tasks(name)]


def passes(task: dict, text: str) -> bool:
    "Whether `text` passes the task's guards."
    from specter_lab.guard import check
    return check(task["guards"], text).passed


def sample(messages_list, temperature=0.8, max_tokens=48, seed=0, batch=32) -> list[str]:
    "The embedded base model's sampled answers (transformers, left-padded batches)."
    import torch
    from specter_lab.model import load_model
    model, tok = load_model("embedded", device="cpu")
    tok.padding_side = "left"
    torch.manual_seed(seed)
    outs = []
    for i in range(0, len(messages_list), batch):
        texts = [tok.apply_chat_template(m, tokenize=False, add_generation_prompt=True) for m in messages_list[i:i + batch]]
        enc = tok(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        with torch.no_grad():
            g = model.generate(**enc, do_sample=temperature > 0, temperature=temperature or None, top_p=None, top_k=None,
                               max_new_tokens=max_tokens, pad_token_id=tok.pad_token_id)
        outs += tok.batch_decode(g[:, enc["input_ids"].shape[1]:], skip_special_tokens=True)
    return [o.strip() for o in outs]


def make_pairs(tasks, n_pairs=256, seed=0, rejected="sampled", temperature=0.8, max_tokens=48) -> list[dict]:
    """One pair per train task: chosen = the reference; rejected = the base model's sampled answer ('sampled'),
    or the reference with the other label ('label'; also used when a sample happens to pass)."""
    rng = random.Random(seed)
    train = [t for t in tasks if t["split"] == "train"]
    rng.shuffle(train)
    train = train[:n_pairs]
    samples = sample([t["messages"] for t in train], temperature, max_tokens, seed) if rejected == "sampled" else [""] * len(train)
    pairs = []
    for t, rej in zip(train, samples):
        if not rej or passes(t, rej):
            lab = t["reference"].split(" - ")[0]
            rej = ("PASS" if lab == "LIKE" else "LIKE") + t["reference"][len(lab):]
        pairs.append({"prompt": t["messages"], "chosen": [{"role": "assistant", "content": t["reference"]}],
                      "rejected": [{"role": "assistant", "content": rej}], "task_id": t["id"]})
    return pairs


def build(out_dir, n_pairs=256, seed=0, rejected="sampled"):
    out = Path(out_dir); out.mkdir(parents=True, exist_ok=True)
    if not (out / "tasks.jsonl").is_file(): write_jsonl(out / "tasks.jsonl", load_suite())
    tasks = [o for _, o in read_jsonl(out / "tasks.jsonl")]
    if not (out / "pairs.jsonl").is_file(): write_jsonl(out / "pairs.jsonl", make_pairs(tasks, n_pairs, seed, rejected))
    return out / "tasks.jsonl", out / "pairs.jsonl"


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("out"); p.add_argument("--pairs", type=int, default=256); p.add_argument("--seed", type=int, default=0)
    p.add_argument("--rejected", choices=["sampled", "label"], default="sampled")
    a = p.parse_args()
    print(*build(a.out, a.pairs, a.seed, a.rejected))

"""Seconds per DPO step on the embedded SmolLM2-135M against how many top layers get LoRA (and gradient checkpointing).

    flock /tmp/specter-cpu.lock python benchmarks/dpo_layers.py [--steps 4]

Same 32 deal-screening pairs, batch 8, fitted max_length, our recipe otherwise; each configuration trains `--steps`
steps and reports wall and process-CPU seconds per step. Backward stops at the lowest LoRA layer, so fewer layers
should cost less; this measures how much. Writes benchmarks/results/dpo_layers.json.
"""
from __future__ import annotations
import argparse, json, os, shutil, sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
from specter_lab.config import load_settings
from specter_lab.files import write_json
from specter_lab.train import train
import dpo_data

HERE = Path(__file__).parent
WORK = Path(os.environ.get("DPO_WORK", "/tmp/dpo_work"))
CONFIGS = {"all 30 layers": {"dpo.lora_layers": "all"}, "layers 10-29": {"dpo.lora_layers": "10-"},
           "layers 15-29": {"dpo.lora_layers": "15-"}, "layers 20-29": {"dpo.lora_layers": "20-"}}

if __name__ == "__main__":
    p = argparse.ArgumentParser(); p.add_argument("--steps", type=int, default=4); a = p.parse_args()
    _, pairs = dpo_data.build(WORK, 256, rejected=os.environ.get("DPO_REJECTED", "label"))
    res = {}
    for name, over in CONFIGS.items():
        out = WORK / "layers" / name.replace(" ", "_"); shutil.rmtree(out, ignore_errors=True)
        s = load_settings(overrides={"dpo.max_pairs": 32, "dpo.batch_size": 8, "data.test_fraction": 0, **over})
        r = train(pairs, "embedded", out, settings=s, progress=False, max_steps=a.steps)
        res[name] = {"overrides": over, "steps": r["steps"], "max_length": r["data"]["max_length"],
                     "seconds_per_step": round(r["train_seconds"] / r["steps"], 2),
                     "cpu_seconds_per_step": round(r["train_cpu_seconds"] / r["steps"], 2), "load_average": os.getloadavg()}
        print(name, res[name], flush=True)
        write_json(HERE / "results" / "dpo_layers.json", res)

"""Scale-out exercised: `accelerate launch` runs `specter-lab train` data-parallel in 2 CPU processes (gloo), with the
same per-step losses as one process at the same global batch.

Pure DPO (sft_weight 0) matches to float rounding. The default recipe adds an NLL term that TRL averages over the
chosen tokens of each process's own batch, so two processes weigh tokens slightly differently than one (a per-device
token mean, as in any DDP run): that case is checked with a looser tolerance (slow)."""
import json, os, shutil, subprocess, sys
from pathlib import Path
import pytest
from conftest import ROOT
from test_train import pair

ACCELERATE = Path(sys.executable).with_name("accelerate")
FLAGS = ["--set", "dpo.lora_layers=all", "--set", "dpo.precision=fp32", "--set", "dpo.save_steps=100", "--epochs", "1", "--quiet"]


@pytest.fixture(scope="module")
def split_pairs(tmp_path_factory):
    "16 train pairs (4 global batches of 4: no ragged last batch) and 8 held-out pairs, as a saved DatasetDict."
    import datasets
    d = tmp_path_factory.mktemp("ddp") / "pairs"
    datasets.DatasetDict({"train": datasets.Dataset.from_list([pair(i) for i in range(16)]),
                          "test": datasets.Dataset.from_list([pair(i) for i in range(16, 24)])}).save_to_disk(str(d))
    return d


def run(cmd, out):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false", "HF_HUB_OFFLINE": "1"}
    r = subprocess.run([*map(str, cmd)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-5000:]
    import pandas as pd
    return r, json.loads((out / "summary.json").read_text()), pd.read_csv(out / "metrics.csv")


@pytest.mark.parametrize("sft_weight,tol", [(0.0, 1e-4), pytest.param(1.0, 2e-2, marks=pytest.mark.slow)])
def test_two_cpu_processes_match_one(tiny_model_dir, split_pairs, tmp_path, sft_weight, tol):
    if not ACCELERATE.is_file(): pytest.skip("accelerate's launcher is not installed")
    train = ["train", "--data", split_pairs, "--base", tiny_model_dir, *FLAGS, "--set", f"dpo.sft_weight={sft_weight}"]
    # 2 processes x batch 2 = a global batch of 4; --multi_gpu on a machine without GPUs is torchrun with the gloo backend
    r2, s2, m2 = run([ACCELERATE, "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1", "--mixed_precision", "no",
                      "--dynamo_backend", "no", "--main_process_port", "0", "-m", "specter_lab", *train,
                      "--set", "dpo.batch_size=2", "--output", tmp_path / "ddp"], tmp_path / "ddp")
    r1, s1, m1 = run([sys.executable, "-m", "specter_lab", *train, "--set", "dpo.batch_size=4", "--output", tmp_path / "one"], tmp_path / "one")
    assert (s2["processes"], s2["backend"]) == (2, "gloo") and s1["processes"] == 1
    assert r2.stdout.count("specter-lab train: DPO") == 1 and "x2 processes (gloo)" in r2.stdout   # one report, by the main process
    assert s2["steps"] == s1["steps"] == 4 and list(m2["step"]) == list(m1["step"]) == [1, 2, 3, 4]
    assert m1["rewards/margins"].iloc[-1] > 0.01                               # it trains: the comparison is not of constants
    for col in ("loss", "grad_norm", "rewards/chosen", "rewards/margins", "logps/chosen", "logps/rejected"):
        rel = ((m2[col] - m1[col]).abs() / m1[col].abs().clip(lower=1e-2)).max()   # relative, absolute below 0.01
        assert rel <= tol, (col, rel, list(m1[col]), list(m2[col]))
    for k in ("loss", "rewards/accuracies", "rewards/margins"):                # held-out pairs, evaluated in both processes
        assert abs(s2["eval"][k] - s1["eval"][k]) <= max(tol, 1e-4) * max(1, abs(s1["eval"][k])), (k, s1["eval"], s2["eval"])
    assert (tmp_path / "ddp" / "merged" / "model.safetensors").is_file() and (tmp_path / "ddp" / "adapter").is_dir()

"""`specter-lab train` end to end on the tiny model: outputs, resume after a kill, bad input."""
import json, os, signal, subprocess, sys, time
from pathlib import Path
import pytest
from conftest import CLI, ROOT
from specter_lab.files import write_jsonl

SYSTEM = "You screen startups for a venture fund. Answer in one line: LIKE - reason, or PASS - reason."
FAST = ["--set", "dpo.lora_layers=all", "--set", "dpo.batch_size=2", "--set", "dpo.save_steps=2", "--quiet"]


def pair(i):
    like = i % 2 == 0
    return {"prompt": [{"role": "system", "content": SYSTEM},
                       {"role": "user", "content": f"Startup {i} is {'in stealth' if like else 'at Series C'}."}],
            "chosen": [{"role": "assistant", "content": "LIKE - early" if like else "PASS - too late"}],
            "rejected": [{"role": "assistant", "content": f"It is a company number {i}."}]}


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    p = tmp_path_factory.mktemp("data") / "pairs.jsonl"
    write_jsonl(p, [pair(i) for i in range(40)])
    return p


def test_train_cli_outputs(cli, tiny_model_dir, pairs, tmp_path):
    out = tmp_path / "run"
    r = cli("train", "--data", pairs, "--base", tiny_model_dir, "--method", "dpo", "--output", out, "--epochs", "1", *FAST)
    assert r.returncode == 0, r.stderr
    assert "held-out   preference accuracy" in r.stdout and "merged" in r.stdout
    s = json.loads((out / "summary.json").read_text())
    assert s["data"]["train"] + s["data"]["test"] == 40 and s["data"]["too_long"] == 0
    assert (out / "adapter" / "adapter_model.safetensors").is_file()
    for f in ("model.safetensors", "tokenizer.json", "chat_template.jinja", "generation_config.json", "config.json"):
        assert (out / "merged" / f).is_file(), f
    import pandas as pd
    m = pd.read_csv(out / "metrics.csv")
    for c in ("loss", "rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies", "logps/chosen"):
        assert c in m.columns, c
    assert len(m) == s["steps"] and (out / "training.png").stat().st_size > 10_000
    from transformers import AutoModelForCausalLM, AutoTokenizer
    model = AutoModelForCausalLM.from_pretrained(out / "merged", local_files_only=True)
    tok = AutoTokenizer.from_pretrained(out / "merged", local_files_only=True)
    assert tok.chat_template and model.generation_config.eos_token_id == tok.eos_token_id


def test_train_sft(cli, tiny_model_dir, tmp_path):
    data = tmp_path / "sft.jsonl"
    write_jsonl(data, [{"messages": p["prompt"] + p["chosen"]} for p in map(pair, range(12))])
    r = cli("train", "--data", data, "--base", tiny_model_dir, "--method", "sft", "--output", tmp_path / "o", "--epochs", "1", *FAST)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "o" / "merged" / "model.safetensors").is_file()
    assert "SFT on" in r.stdout


def test_resume_after_kill(tiny_model_dir, pairs, tmp_path):
    "Kill the run after its first checkpoint; the same command then resumes from it and finishes."
    out = tmp_path / "run"
    cmd = [*CLI, "train", "--data", str(pairs), "--base", str(tiny_model_dir), "--output", str(out), "--epochs", "2",
           "--set", "dpo.batch_size=2", "--set", "dpo.save_steps=4", "--set", "dpo.lora_layers=all", "--quiet"]
    p = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    t0 = time.time()
    while not list((out / "checkpoints").glob("checkpoint-*/trainer_state.json")) and p.poll() is None and time.time() - t0 < 300:
        time.sleep(0.05)
    os.killpg(p.pid, signal.SIGKILL); p.wait()
    assert not (out / "summary.json").exists(), "the run finished before it could be killed"
    first = min(int(c.name.split("-")[1]) for c in (out / "checkpoints").glob("checkpoint-*"))
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    s = json.loads((out / "summary.json").read_text())
    assert s["resumed_from"] and int(s["resumed_from"].split("-")[1]) >= first
    assert s["steps"] == 2 * -(-s["data"]["train"] // 2)
    assert "resumed from checkpoint-" in r.stdout


@pytest.mark.parametrize("rows,msg", [
    ([], "no usable DPO records (the file is empty)"),
    ([{**pair(0), "rejected": pair(0)["chosen"]}], "no usable DPO records (1 identical)"),
    ([pair(0), {"prompt": "p", "chosen": "c"}], "pairs.jsonl:2 [rejected]: missing field"),
    ([pair(0), {"prompt": "p", "chosen": ["x"], "rejected": "r"}], "pairs.jsonl:2 [chosen]: expected a string or a list"),
])
def test_bad_data(cli, tiny_model_dir, tmp_path, rows, msg):
    write_jsonl(tmp_path / "pairs.jsonl", rows)
    r = cli("train", "--data", tmp_path / "pairs.jsonl", "--base", tiny_model_dir, "--output", tmp_path / "o")
    assert r.returncode == 1 and msg in r.stderr, r.stderr
    assert not (tmp_path / "o").exists()   # the data is checked before the output folder is made


@pytest.mark.parametrize("args,msg", [
    (("--data", "/dev/null"), "/dev/null: data file is not a regular file (a device, FIFO or socket)"),
    (("--data", "{pairs}", "--init-adapter", "{tmp}"), "[--init-adapter]: not a LoRA adapter folder (no adapter_config.json)"),
    (("--data", "{pairs}", "--base", "{tmp}/fake.gguf"), "fake.gguf [model.base]: not a GGUF file"),
])
def test_bad_arguments_make_nothing(cli, tiny_model_dir, pairs, tmp_path, args, msg):
    (tmp_path / "fake.gguf").write_text("not a model")
    r = cli("train", "--base", tiny_model_dir, *[str(a).format(pairs=pairs, tmp=tmp_path) for a in args], "--output", tmp_path / "o")
    assert r.returncode == 1 and msg in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not (tmp_path / "o").exists()


def test_another_runs_checkpoints_are_refused(cli, tiny_model_dir, pairs, tmp_path):
    "An --output holding the checkpoints of a run on other data is not resumed (0 steps) but refused, naming what differs."
    out = tmp_path / "o"
    r = cli("train", "--data", pairs, "--base", tiny_model_dir, "--output", out, "--max-steps", "1", *FAST, "--set", "dpo.save_steps=1")
    assert r.returncode == 0 and list((out / "checkpoints").glob("checkpoint-*")), r.stderr
    write_jsonl(tmp_path / "other.jsonl", [pair(i) for i in range(40, 52)])
    r = cli("train", "--data", tmp_path / "other.jsonl", "--base", tiny_model_dir, "--output", out, "--max-steps", "1", *FAST)
    assert r.returncode == 1 and f"{out} [--output]: holds the checkpoints of another training run (other data): choose another --output" in r.stderr, r.stderr


def test_identical_and_too_long_are_counted(cli, tiny_model_dir, tmp_path):
    rows = [pair(i) for i in range(16)] + [{**pair(99), "rejected": pair(99)["chosen"]}]
    write_jsonl(tmp_path / "pairs.jsonl", rows)
    r = cli("train", "--data", tmp_path / "pairs.jsonl", "--base", tiny_model_dir, "--output", tmp_path / "o",
            "--max-steps", "1", "--set", "dpo.max_length=52", *FAST)
    assert r.returncode == 0, r.stderr
    s = json.loads((tmp_path / "o" / "summary.json").read_text())["data"]
    assert s["dropped"] == {"identical": 1} and s["max_length"] == 52 and s["too_long"] > 0
    assert "1 identical" in r.stdout and f"truncated {s['too_long']}" in r.stdout


def test_base_not_found_offline(cli, pairs, tmp_path):
    r = cli("train", "--data", pairs, "--base", "HuggingFaceTB/SmolLM2-135M-Instruct", "--output", tmp_path / "o")
    assert r.returncode == 1 and "offline" in r.stderr
    r = cli("train", "--data", pairs, "--base", tmp_path / "missing", "--output", tmp_path / "o")
    assert r.returncode == 1 and "not found" in r.stderr

"""The registry's command line (`specter_lab.registry.cli_registry`): tables, recommendations, bad input."""
import json
import pytest
from specter_lab.config import SpecterError
from specter_lab.registry import cli_registry


def test_recommend_for_a_ram_budget(capsys):
    assert cli_registry(["--ram", "2", "--ctx", "4096", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["model"] == "Qwen2.5-1.5B-Instruct" and all(r["ram_gb"] <= 2 for r in rows)
    cli_registry(["Qwen2.5-0.5B-Instruct", "--ctx", "8192", "--ram", "0.95", "--json"])
    assert [r["quant"] for r in json.loads(capsys.readouterr().out)] == ["Q6_K"]


def test_table_and_user_models(capsys, tmp_path):
    extra = tmp_path / "mine.csv"
    extra.write_text("id,arch,params,n_layers,n_embd,n_heads,n_kv_heads,head_dim,n_vocab,n_ctx_train\n"
                     "my-1b,llama,1000000000,16,2048,32,8,64,128256,131072\n")
    cli_registry(["my-1b", "--extra", str(extra), "--quants", "q8_0,q4_k_m", "--set", "eval.n_ctx=2048"])
    out = capsys.readouterr().out
    assert out.startswith("n_ctx = 2048") and "my-1b" in out and "Q4_K_M" in out


def test_bad_input(tmp_path):
    with pytest.raises(SpecterError, match="unknown model 'nope'"): cli_registry(["nope"])
    with pytest.raises(SpecterError, match="does not fit 0.1 GB"): cli_registry(["Llama-3.2-3B-Instruct", "--ram", "0.1"])
    for ram in ("0", "-4", "nan", "inf"):   # a budget nothing fits: refused, not an empty table
        with pytest.raises(SpecterError, match=r"^\[--ram\]: expected a RAM budget in GB above 0"): cli_registry(["--ram", ram])
    bad = tmp_path / "bad.csv"
    bad.write_text("id,arch,params\nx,llama,1\n")
    with pytest.raises(SpecterError, match=r"bad.csv \[n_layers\]: missing column"): cli_registry(["--extra", str(bad)])


def test_loop_times_measured_or_estimated():
    "The loop's time per model: measured where it ran, else the embedded model's runs scaled by step cost, pairs and parameters."
    from specter_lab.registry import CALIBRATION_MODEL, loop_times
    row = lambda m, p, s, su: {"model": m, "params": p, "seconds_per_step": s, "setup_seconds_per_pair": su, "peak_rss_gb": 1.0}
    run = lambda m, tot, tr: {"model": m, "steps": 40, "pairs": 300, "total_seconds": tot, "train_seconds": tr}
    costs = {"models": [row(CALIBRATION_MODEL, 100, 5.0, 0.5), row("big", 1000, 50.0, 2.0), row("mid", 500, 20.0, 1.0), {"model": "x", "error": "oom"}],
             "loop_runs": [run(CALIBRATION_MODEL, 1000, 300), run(CALIBRATION_MODEL, 1200, 300), run("mid", 6000, 3000)]}
    t = loop_times(costs).set_index("model")
    assert list(t.index) == [CALIBRATION_MODEL, "mid", "big"]                       # by size; the failed row is left out
    assert t.loc[CALIBRATION_MODEL, "loop_min"] == round(1100 / 60, 1) and t.loc[CALIBRATION_MODEL, "loop_time"] == "measured (2 runs)"
    assert t.loc[CALIBRATION_MODEL, "estimate_min"] == round((40 * 5 + 300 * 0.5 + 800) / 60, 1)
    assert t.loc["big", "loop_time"] == "estimated" and t.loc["big", "loop_min"] == round((40 * 50 + 300 * 2 + 8000) / 60, 1)
    assert t.loc["mid", "loop_min"] == 100.0 and t.loc["mid", "loop_time"] == "measured (1 runs)"
    with pytest.raises(SpecterError, match="no measured loop runs"): loop_times({"models": costs["models"], "loop_runs": []})


def test_a_base_recipe_is_shown_and_checked(capsys, tmp_path):
    "A registry row's recipe (the settings the loop uses for that base, under the user's own) is printed with its model, and a bad one is refused by file, line and column."
    cli_registry(["gemma-3-270m", "SmolLM2-135M-Instruct", "--quants", "q8_0"])
    out = capsys.readouterr().out
    assert "\n  gemma-3-270m: dpo.first_epochs=4 dpo.continue_warmup=0.25 dpo.budget_minutes=40" in out and "SmolLM2-135M-Instruct: " not in out
    bad = tmp_path / "mine.csv"
    head = "id,arch,params,n_layers,n_embd,n_heads,n_kv_heads,head_dim,n_vocab,n_ctx_train,recipe\n"
    for recipe, why in (("dpo.first_epochs", "expected SECTION.KEY=VALUE"), ("dpo.first_epochs=-1", "out of range"), ("train.epochs=2", "unknown section 'train'")):
        bad.write_text(head + f"my-1b,llama,1,1,1,1,1,1,1,1,{recipe}\n")
        with pytest.raises(SpecterError, match=rf"mine.csv:2 \[recipe\]: '{recipe}': .*{why}"): cli_registry(["my-1b", "--extra", str(bad)])

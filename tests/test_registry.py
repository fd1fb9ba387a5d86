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
    bad = tmp_path / "bad.csv"
    bad.write_text("id,arch,params\nx,llama,1\n")
    with pytest.raises(SpecterError, match=r"bad.csv \[n_layers\]: missing column"): cli_registry(["--extra", str(bad)])

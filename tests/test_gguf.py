"""`specter-lab convert` end to end on the tiny llama, and its bad-input errors."""
import json, os
from pathlib import Path
import pytest


def test_convert_end_to_end(cli, tiny_model_dir, tmp_path):
    out = tmp_path/"out"
    r = cli("convert", tiny_model_dir, "--quant", "q8_0,q4_k_m", "--output", out, "--name", "tiny",
            "--prompts", "20", "--tokens", "4", "--dataset", "deal_screening")
    assert r.returncode == 0, r.stderr
    m = json.loads((out/"manifest.json").read_text())
    assert [f["name"] for f in m["files"]] == ["tiny-f16.gguf", "tiny-Q8_0.gguf", "tiny-Q4_K_M.gguf"]
    assert m["passed"] and m["datasets"] == ["deal_screening"]
    for f in m["files"]:
        p = out/f["name"]
        assert p.stat().st_size == f["bytes"] and len(f["sha256"]) == 64
        assert f["verification"]["passed"]
    g = m["files"][0]["verification"]["greedy"]
    assert g["equal"] == g["prompts"] == 20 and g["tokenizer_equal"] == 20 and g["chat_template"] and g["eos_matches"]
    assert "PASS" in r.stdout and "manifest.json" in r.stdout
    assert not list(out.glob(".*"))   # no temporary files left behind


def test_convert_output_loads_in_llama_cpp_with_chat_template(cli, tiny_model_dir, tmp_path):
    "The next stage's view: the GGUF chats through its own template and stops at EOS."
    from specter_lab.model import load_llama
    r = cli("convert", tiny_model_dir, "--quant", "", "--output", tmp_path, "--name", "t", "--no-verify")
    assert r.returncode == 0, r.stderr
    llm = load_llama(tmp_path/"t-f16.gguf", n_ctx=256)
    assert "<|im_start|>" in llm.metadata["tokenizer.chat_template"]
    assert llm.detokenize([llm.token_eos()], special=True) == b"<|im_end|>"
    out = llm.create_chat_completion([{"role": "user", "content": "hi"}], max_tokens=4, temperature=0)
    assert out["choices"][0]["finish_reason"] in ("length", "stop")


def test_missing_folder(cli, tmp_path):
    r = cli("convert", tmp_path/"nope", "--output", tmp_path/"o")
    assert r.returncode == 1 and "model folder not found" in r.stderr and "nope" in r.stderr


def test_unknown_quant_type(cli, tiny_model_dir, tmp_path):
    r = cli("convert", tiny_model_dir, "--quant", "q4_k_m,q9_z", "--output", tmp_path/"o")
    assert r.returncode == 1 and "unknown quantization type 'q9_z'" in r.stderr and "Q8_0" in r.stderr
    assert not (tmp_path/"o"/"manifest.json").exists()


def test_unknown_outtype(cli, tiny_model_dir, tmp_path):
    r = cli("convert", tiny_model_dir, "--outtype", "f8", "--output", tmp_path/"o")
    assert r.returncode == 1 and "unknown float type 'f8'" in r.stderr


def test_unsupported_architecture(cli, tmp_path):
    d = tmp_path/"gpt2"; d.mkdir()
    (d/"config.json").write_text(json.dumps({"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2"}))
    r = cli("convert", d, "--output", tmp_path/"o")   # not ours: llama.cpp's converter, which finds no weights
    assert r.returncode == 1 and "llama.cpp's convert_hf_to_gguf.py failed" in r.stderr and str(d) in r.stderr
    assert not list((tmp_path/"o").glob("*.gguf*"))


def test_not_a_model_folder(cli, tmp_path):
    r = cli("convert", tmp_path, "--output", tmp_path/"o")
    assert r.returncode == 1 and "no config.json" in r.stderr


def test_malformed_config(cli, tmp_path):
    d = tmp_path/"bad"; d.mkdir()
    (d/"config.json").write_text('{"architectures": ["LlamaForCausalLM"],\n "hidden_size": }')
    r = cli("convert", d, "--output", tmp_path/"o")
    assert r.returncode == 1 and "config.json:2" in r.stderr and "malformed JSON" in r.stderr


def test_missing_hyperparameter_names_field(cli, tiny_model_dir, tmp_path):
    import shutil
    d = Path(shutil.copytree(tiny_model_dir, tmp_path/"m"))
    cfg = json.loads((d/"config.json").read_text()); del cfg["rms_norm_eps"]
    (d/"config.json").write_text(json.dumps(cfg))
    r = cli("convert", d, "--quant", "", "--output", tmp_path/"o", "--no-verify")
    assert r.returncode == 1 and "[rms_norm_eps]" in r.stderr and "missing hyperparameter" in r.stderr
    assert not list((tmp_path/"o").glob("*.gguf*"))


LLAMA_CPP = os.environ.get("SPECTER_LLAMA_CPP", "/tmp/llama.cpp-src")


@pytest.mark.skipif(not Path(LLAMA_CPP, "convert_hf_to_gguf.py").is_file(), reason="no llama.cpp checkout (set SPECTER_LLAMA_CPP)")
def test_other_architecture_through_llama_cpp(cli, tmp_path):
    "An architecture we do not cover (gpt2) converts through the llama.cpp checkout given with --llama-cpp."
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel
    from specter_lab.model import embedded_tokenizer
    tok = embedded_tokenizer()
    torch.manual_seed(0)
    m = GPT2LMHeadModel(GPT2Config(vocab_size=len(tok), n_embd=64, n_layer=2, n_head=4, n_positions=256,
                                   bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id))
    d = tmp_path/"gpt2"; m.save_pretrained(d); tok.save_pretrained(d)
    cfg = json.loads((d/"config.json").read_text()); cfg["n_ctx"] = 256   # llama.cpp's gpt2 converter reads n_ctx
    (d/"config.json").write_text(json.dumps(cfg))
    r = cli("convert", d, "--quant", "q8_0", "--output", tmp_path/"o", "--prompts", "4", "--tokens", "4", "--llama-cpp", LLAMA_CPP)
    assert r.returncode == 0, r.stderr
    assert (tmp_path/"o"/"gpt2-f16.gguf").is_file() and (tmp_path/"o"/"gpt2-Q8_0.gguf").is_file()


def test_bad_adapter_arguments_refused_before_any_work(cli, tiny_model_dir, tmp_path):
    "A base GGUF that is no GGUF (even with --no-verify), an adapter type llama.cpp's LoRA converter lacks, a non-UTF-8 held-out file: one line, nothing written."
    adapter = tmp_path/"adapter"; adapter.mkdir()
    (adapter/"adapter_config.json").write_text("{}")   # refused before the adapter is read
    (tmp_path/"random.gguf").write_bytes(os.urandom(4096))
    (tmp_path/"base.gguf").write_bytes(b"GGUF")          # the magic and nothing else
    (tmp_path/"heldout.txt").write_bytes(b"fine\nbad \xff byte\n")
    for args, msg in [
        ((adapter, "--base-gguf", tmp_path/"random.gguf", "--no-verify"), f"{tmp_path/'random.gguf'}: not a GGUF file (it does not start with the GGUF magic bytes)"),
        ((adapter, "--base-gguf", tmp_path/"base.gguf"), f"{tmp_path/'base.gguf'}: not a readable GGUF file"),
        ((adapter, "--adapter-type", "q4_0", "--no-verify"), "[gguf.adapter_type]: unknown adapter type 'q4_0' (known: f32, f16, bf16, q8_0"),
        ((tiny_model_dir, "--base-gguf", tmp_path/"random.gguf"), "a base GGUF is for a LoRA adapter folder"),
        ((tiny_model_dir, "--heldout", tmp_path/"heldout.txt"), f"{tmp_path/'heldout.txt'}:2: invalid UTF-8 (byte 0xff at column 5)"),
    ]:
        r = cli("convert", *args, "--quant", "", "--output", tmp_path/"o")
        assert r.returncode == 1 and msg in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert not (tmp_path/"o").exists()

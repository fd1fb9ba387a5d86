"""The loop end to end on a tiny random llama and a 16-task suite: every step, resume, --from, bad input."""
import json
from pathlib import Path
import pytest
from conftest import run_cli

SET = ["--set", "data.collect_tasks=8", "--set", "eval.rmax=1", "--set", "eval.max_tokens=8", "--set", "eval.n_ctx=512",
       "--set", "dpo.max_pairs=8", "--set", "dpo.epochs=1", "--set", "dpo.batch_size=4", "--set", "dpo.lora_layers=all",
       "--set", "dpo.save_steps=100", "--set", "gguf.quants=q8_0,q5_0", "--set", "gguf.verify_prompts=4",
       "--set", "gguf.verify_tokens=4", "--set", "data.test_fraction=0", "--set", "dpo.rounds=2"]


@pytest.fixture(scope="module")
def tiny_suite(tmp_path_factory):
    from specter_lab.suite import load_tasks, write_tasks
    tasks = load_tasks("deal_screening")
    pick = [t for t in tasks if t.split == "train"][:8] + [t for t in tasks if t.split == "test"][:8]
    p = tmp_path_factory.mktemp("suite") / "tiny.jsonl"
    write_tasks(p, pick)
    return p


@pytest.fixture(scope="module")
def loop_run(tmp_path_factory, tiny_model_dir, tiny_suite):
    out = tmp_path_factory.mktemp("loop") / "run"
    r = run_cli("loop", "--tasks", tiny_suite, "--base", tiny_model_dir, "--out", out, *SET, timeout=900)
    return out, r


def test_loop_runs_every_step(loop_run):
    out, r = loop_run
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    from specter_lab.loop import STEPS
    for i, s in enumerate(STEPS, 1):
        assert (out / f"{i}_{s}" / "step.json").is_file(), s
    for f in ["report.md", "report.html", "summary.json", "manifest.json", "figures/epsilon.png", "figures/sizes.png"]:
        assert (out / f).is_file(), f
    summ = json.loads((out / "summary.json").read_text())
    assert summ["n"] == 8 and 0 <= summ["epsilon_after"]["hat"] <= 1
    assert set(summ["verdict"]["checks"]) >= {"delta", "significant"}
    man = json.loads((out / "manifest.json").read_text())
    names = {f["name"] for f in man["files"]}
    assert any(n.endswith("-Q8_0.gguf") for n in names) and "report.md" in names
    assert all(len(f["sha256"]) == 64 for f in man["files"])
    assert "## ε before and after" in (out / "report.md").read_text()
    from huggingface_hub import ModelCard
    card = ModelCard.load(out / "5_convert" / "README.md")   # the model card: what shipped, read back as the Hub reads it
    assert card.data.base_model is None                     # a local folder is no Hub id
    assert card.data.eval_results[0].metric_value == summ["epsilon_after"]["hat"]
    assert f"The file to use is **`{summ['gguf']}`**" in card.text and "-hf " not in card.text   # no [gguf] repo: run from disk
    assert "feedback" not in card.text and "datasets/" not in card.text
    # every verified file evaluated on dev and test; the smallest that keeps the float file's dev ε shipped
    ev = json.loads((out / "6_eval_after" / "step.json").read_text())
    cv = json.loads((out / "5_convert" / "step.json").read_text())
    if ev.get("adapter"): assert f"--lora {summ['gguf']}" in card.text   # an adapter: run on its base file
    fs = ev["files"]
    assert [f["name"] for f in fs if f["role"] == "float"] == [fs[0]["name"]]
    assert {f["name"] for f in fs} | {f["name"] for f in cv["failed"]} == {f["name"] for f in json.loads((out / "5_convert" / "manifest.json").read_text())["files"]}
    assert any(f["role"] == "adapter" for f in fs) or any("lora" in f["name"] for f in cv["failed"])
    for f in fs:
        for split in ("dev", "report"):
            assert (out / "6_eval_after" / f"{f['name']}.{split}.json").is_file(), (f["name"], split)
    keep = [f for f in fs if f["epsilon"] >= fs[0]["epsilon"] - 0.02]
    assert ev["name"] == min(keep, key=lambda f: (f["bytes"], f["role"] == "float"))["name"] == summ["gguf"]
    assert f"**{summ['gguf']}** (shipped)" in (out / "report.md").read_text()
    md = (out / "report.md").read_text()   # the start model on dev: the report says whether the shipped file is worth deploying
    assert (out / "6_eval_after" / "start.dev.json").is_file() and summ["start_dev_epsilon"] == ev["start_dev"]["epsilon"]
    assert (summ["not_worth_deploying"] is None) == ("On the dev split it beats the model the run started from" in md) != ("**Not worth deploying:**" in md)
    assert ("**Not worth deploying:**" in md) == ("**Not worth deploying:**" in card.text)   # the model card says it too
    shipped = next(f for f in summ["files"] if f["name"] == summ["gguf"])   # dev with fresh cue words: measured, recorded and reported together, or not at all
    cues = (out / "6_eval_after" / "dev_fresh_cues.jsonl").is_file()
    assert (shipped["dev_fresh_cue_epsilon"] is not None) == cues == ("Looking up words it never saw" in md)
    tr = json.loads((out / "4_train" / "step.json").read_text())   # rounds, judged on the dev split
    assert 1 <= len(tr["rounds"]) <= 2 and all(0 <= r["dev_epsilon"] <= 1 for r in tr["rounds"])
    assert (out / "suite.jsonl").is_file()   # the tiny suite has no dev split: one was carved out of train
    ex = json.loads((out / "3_extract" / "step.json").read_text())
    assert ex["contrast_pairs"] > 0 and ex["pairs"] == ex["trace_pairs"] + ex["contrast_pairs"] + ex["swapped_pairs"] + ex["moved_pairs"]


def test_json_suite_is_collected_and_shipped_within_its_shape(tmp_path, tiny_model_dir):
    "A JSON suite: the collect step decodes within the answer shape, which ships beside the files with its sha256 and the card's advice."
    from specter_lab.suite import load_tasks, write_tasks
    from specter_lab.files import sha256_file
    tasks = load_tasks("payment_extraction")
    write_tasks(suite := tmp_path / "pay.jsonl", [t for t in tasks if t.split == "train"][:8] + [t for t in tasks if t.split == "test"][:8])
    out = tmp_path / "run"
    r = run_cli("loop", "--tasks", suite, "--base", tiny_model_dir, "--out", out, *SET, "--set", "dpo.rounds=1", "--set", "gguf.quants=q8_0", timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    col = json.loads((out / "2_collect" / "step.json").read_text())
    assert col["shape"] is True and col["forms_left_out"] is True   # the dates' pattern was left out while collecting
    shape, man = out / "5_convert" / "answer_shape.json", json.loads((out / "5_convert" / "manifest.json").read_text())
    assert json.loads(shape.read_text())["shapes"] and man["shape"]["sha256"] == sha256_file(shape)
    assert json.loads((out / "6_eval_after" / "step.json").read_text())["shape"] == str(shape)
    card = (out / "5_convert" / "README.md").read_text()
    assert "## Answer shape" in card and f"`{man['shape']['sha256']}`" in card
    md = (out / "report.md").read_text()
    assert "within the answer shape without its value forms, up to" in md and "decoded within the suite's answer shape" in md


def test_each_data_seed_collects_its_own_attempts(tmp_path, tiny_model_dir):
    "The collect step samples with `[data] seed` (a suite with its own dev split, so the seed changes nothing else there): runs of two seeds collect other attempts, and a seed's spread covers the data, not only the training."
    from specter_lab.artifact import ArtifactDAG, read_object
    from specter_lab.suite import load_tasks, write_tasks
    tasks = load_tasks("deal_screening")
    write_tasks(suite := tmp_path / "dev.jsonl", [t for s, n in (("train", 8), ("dev", 4), ("test", 4)) for t in [t for t in tasks if t.split == s][:n]])
    def attempts(seed):
        out = tmp_path / f"s{seed}"
        r = run_cli("loop", "--tasks", suite, "--base", tiny_model_dir, "--out", out, "--until", "collect", *SET, "--set", f"data.seed={seed}")
        assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
        dag = ArtifactDAG(out / "2_collect" / "dag", create=False)
        return sorted(read_object(dag.object_path(i)).content for i in dag.ids())
    a, b = attempts(0), attempts(1)
    assert a and b and a != b


def test_rerun_skips_finished_steps_and_from_reruns(loop_run, tiny_model_dir, tiny_suite):
    out, _ = loop_run
    r = run_cli("loop", "--tasks", tiny_suite, "--base", tiny_model_dir, "--out", out, *SET)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.count("skipped") == 8
    r = run_cli("loop", "--tasks", tiny_suite, "--base", tiny_model_dir, "--out", out, "--from", "cost", *SET)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.count("skipped") == 6 and "[7/8] cost ..." in r.stdout


def test_other_settings_in_same_folder_is_refused(loop_run, tiny_model_dir, tiny_suite):
    out, _ = loop_run
    r = run_cli("loop", "--tasks", tiny_suite, "--base", tiny_model_dir, "--out", out, *SET, "--set", "dpo.beta=0.5")
    assert r.returncode == 1 and "another --out" in r.stderr


def test_bad_task_file_names_the_line(tmp_path, tiny_model_dir):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "split": "train", "messages": [{"role": "user", "content": "hi"}], "guards": [{"kind": "max_chars", "limit": 5}]}\n{"id": "b"\n')
    r = run_cli("loop", "--tasks", bad, "--base", tiny_model_dir, "--out", tmp_path / "o", *SET)
    assert r.returncode == 1 and "bad.jsonl:2" in r.stderr and "Traceback" not in r.stderr


def test_suite_the_loop_cannot_run_is_named_before_any_step(tmp_path, tiny_model_dir):
    "A suite without test tasks names the user's file; a task too long for `[eval] n_ctx` names its file, line and the n_ctx that holds it."
    row = lambda i, split, text: json.dumps({"id": i, "split": split, "messages": [{"role": "user", "content": text}], "guards": [{"kind": "regex", "pattern": "^YES"}], "reference": "YES"})
    (only_train := tmp_path / "train_only.jsonl").write_text("".join(row(f"t{i}", "train", f"say yes {i}") + "\n" for i in range(6)))
    r = run_cli("loop", "--tasks", only_train, "--base", tiny_model_dir, "--out", tmp_path / "o1", *SET)
    assert r.returncode == 1 and f"{only_train} [split]: the loop reports ε on the suite's 'test' tasks and it has none" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr and not (tmp_path / "o1" / "1_eval_before").exists()
    (long := tmp_path / "long.jsonl").write_text("".join(row(f"t{i}", "train", f"say yes {i}") + "\n" for i in range(6))
                                                 + row("d0", "dev", "yes?") + "\n" + row("t6", "test", "say yes") + "\n" + row("t7", "test", "yes " * 600) + "\n")
    r = run_cli("loop", "--tasks", long, "--base", tiny_model_dir, "--out", tmp_path / "o2", *SET)
    assert r.returncode == 1 and "long.jsonl:9 [messages]: task 't7' needs" in r.stderr and "--set eval.n_ctx=" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr


def test_bad_arguments_are_refused_before_loop_json_is_written(tmp_path, tiny_suite):
    "A base that is no model, --from after --until, --from a step whose earlier steps never ran: one line each, and the folder stays unmade (a rerun is not blocked)."
    (tmp_path / "fake.gguf").write_text("not a model"); (tmp_path / "notes.txt").write_text("hi")
    out = tmp_path / "o"
    for args, expect in [(("--base", tmp_path / "fake.gguf"), "fake.gguf [model.base]: not a GGUF file"),
                         (("--base", tmp_path / "notes.txt"), "notes.txt [model.base]: is a file, but not a model"),
                         (("--from", "cost", "--until", "train"), "--from cost comes after --until train"),
                         (("--from", "train"), "step 'eval_before' has not run in this folder")]:
        r = run_cli("loop", "--tasks", tiny_suite, "--out", out, *args)
        assert r.returncode == 1 and expect in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert not out.exists(), args


def test_from_keeps_the_runs_settings(tmp_path, tiny_suite):
    "--from reruns steps of the folder's run: other settings are refused as without it."
    out = tmp_path / "o"
    r = run_cli("loop", "--tasks", tiny_suite, "--out", out, "--until", "eval_before", "--set", "eval.max_tokens=2", "--set", "eval.n_ctx=512")
    assert r.returncode == 0, r.stderr[-2000:]
    r = run_cli("loop", "--tasks", tiny_suite, "--out", out, "--from", "eval_before", "--until", "eval_before", "--set", "eval.max_tokens=3", "--set", "eval.n_ctx=512")
    assert r.returncode == 1 and "[settings.eval.max_tokens]: this folder holds a run with other settings (settings.eval.max_tokens: 2 there, 3 now)" in r.stderr, r.stderr


def test_odd_but_valid_suites_are_collected_and_paired(tmp_path, tiny_model_dir):
    "Suites in the documented format that the bundled ones do not resemble: arrays of objects with booleans, nulls and floats; labels with spaces and accents; a key with a space and an argument object that is sometimes empty."
    def suite(name, rows):
        (p := tmp_path / f"{name}.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        return p
    split = lambda i: "train" if i < 10 else "dev" if i < 13 else "test"
    const = lambda v: {"kind": "json_schema", "schema": {"const": v}}
    fruit = ["apple", "pear", "fig", "kiwi"]
    arrays = [{"id": f"a{i}", "split": split(i), "messages": [{"role": "user", "content": f"{i % 3 + 1} {fruit[i % 4]}, vip {i % 2 == 0}"}],
               "guards": [const(v := [{"item": fruit[i % 4], "qty": i % 3 + 1, "vip": i % 2 == 0, "note": None, "price": 1.5 * i}])], "reference": json.dumps(v)}
              for i in range(16)]
    labels = ["billing issue", "réclamation", "spam ☃"]
    spaced = [{"id": f"l{i}", "split": split(i), "messages": [{"role": "system", "content": "Answer 'Category: <label>': " + ", ".join(labels)}, {"role": "user", "content": f"{labels[i % 3]} ✓ {i}"}],
               "guards": [{"kind": "label", "pattern": r"^Category: (billing issue|réclamation|spam ☃)", "expected": labels[i % 3]}], "reference": f"Category: {labels[i % 3]}"}
              for i in range(16)]
    tools = [{"id": f"t{i}", "split": split(i), "messages": [{"role": "user", "content": f"please {'set volume ' + str(i) if i % 2 else 'turn on'}"}],
              "guards": [const(v := {"tool name": "volume" if i % 2 else "lamp on", "args": {"level": i} if i % 2 else {}})], "reference": json.dumps(v)}
             for i in range(16)]
    decide = ["approve", "reject"]
    turns = [{"id": i, "split": split(i), "messages": [{"role": "system", "content": "End with 'Decision: approve' or 'Decision: reject'."},
                                                       {"role": "user", "content": f"Refund for order {i}?"}, {"role": "assistant", "content": "Why?"},
                                                       {"role": "user", "content": "It broke." if i % 2 else "I changed my mind."}],
              "guards": [{"kind": "label", "pattern": r".*?Decision: (approve|reject)\b", "expected": decide[i % 2 == 0]}],
              "reference": ("The shop is at fault" if i % 2 else "Outside the policy") + f". Decision: {decide[i % 2 == 0]}"} for i in range(16)]
    late = lambda i: "yes" if i % 2 else "no"
    agent = [{"id": f"g{i}", "split": split(i), "messages": [{"role": "system", "content": "Say if the parcel is late: 'Late: yes' or 'Late: no'."},
                                                             {"role": "user", "content": f"Is parcel {i} late?"},
                                                             {"role": "assistant", "content": json.dumps({"tool": "track", "arguments": {"id": i}})},
                                                             {"role": "tool", "content": f"due day {i % 5}, now day {i % 5 + (i % 2) * 2}"},
                                                             {"role": "system", "content": "One line."}],
              "guards": [{"kind": "label", "pattern": r"^Late: (yes|no)\b", "expected": late(i)}], "reference": f"Late: {late(i)}"} for i in range(16)]
    for name, rows in (("arrays", arrays), ("labels", spaced), ("tools", tools), ("turns", turns), ("agent", agent)):
        out = tmp_path / f"run-{name}"
        r = run_cli("loop", "--tasks", suite(name, rows), "--base", tiny_model_dir, "--out", out, "--until", "extract", *SET)
        assert r.returncode == 0, (name, r.stdout[-2000:], r.stderr[-2000:])
        ex = json.loads((out / "3_extract" / "step.json").read_text())
        assert ex["pairs"] > 0 and ex["contrast_pairs"] > 0, (name, ex)
    # a multi-turn chat: every pair (from the traces too) is prompted with a task's whole chat, as it is evaluated; an agent's
    # chat (a tool call and its result after the user message, a second system message at the end) with its system messages
    # joined at the top and the tool's turns after the user message
    at_top = lambda m: [{"role": "system", "content": m[0]["content"] + "\n\n" + m[4]["content"]}, *m[1:4]]
    for name, rows, chat in (("turns", turns, lambda m: m), ("agent", agent, at_top)):
        chats = [chat(r["messages"]) for r in rows if r["split"] == "train"]
        ex = json.loads((tmp_path / f"run-{name}" / "3_extract" / "step.json").read_text())
        pairs = [json.loads(x) for x in (tmp_path / f"run-{name}" / "3_extract" / "dpo.jsonl").read_text().splitlines()]
        assert ex["trace_pairs"] > 0 and all(p["prompt"] in chats for p in pairs), (name, [p["prompt"] for p in pairs if p["prompt"] not in chats][:2])
        # ... because the collect step keeps the turns in the DAG: `specter-lab export` of it, SFT and DPO, gives the whole chats too
        for fmt in ("dpo", "sft"):
            r = run_cli("export", "--dag-path", tmp_path / f"run-{name}" / "2_collect" / "dag", "--format", fmt, "--output", tmp_path / f"{name}.{fmt}.jsonl")
            assert r.returncode == 0, r.stderr[-2000:]
            recs = [json.loads(x) for x in (tmp_path / f"{name}.{fmt}.jsonl").read_text().splitlines()]
            first = lambda m: {**m, "content": m["content"].split("\n\n# RETRY HISTORY")[0]} if m["role"] == "user" else m   # the retry history taken out
            prompts = [x["prompt"] if fmt == "dpo" else [first(m) for m in x["messages"][:-1]] for x in recs]
            assert recs and all(p in chats for p in prompts), (name, fmt, prompts[:2])
    pairs = [json.loads(x) for x in (tmp_path / "run-turns" / "3_extract" / "dpo.jsonl").read_text().splitlines()]
    ex = json.loads((tmp_path / "run-turns" / "3_extract" / "step.json").read_text())
    assert all(p["rejected"][0]["content"].startswith("Outside") == p["chosen"][0]["content"].startswith("The shop")
               for p in pairs[ex["trace_pairs"]:ex["trace_pairs"] + ex["contrast_pairs"]])   # a contrast answers with the other label's words


def test_a_base_recipe_fills_only_what_the_user_left(tmp_path, tiny_model_dir, tiny_suite, monkeypatch):
    "The registry's recipe for the run's base fills the settings left at the defaults, under the user's own; the log and the run's loop.json say so."
    from specter_lab import registry
    from specter_lab.config import load_settings
    from specter_lab.loop import run_loop
    real = registry.load_models
    def with_tiny(*extra):   # a registry row whose Hub repository is the tiny model's folder, with a recipe
        reg = real(*extra)
        reg.loc["tiny"] = reg.iloc[0]
        reg.loc["tiny", ["hf_repo", "recipe"]] = [str(tiny_model_dir), "eval.n_parallel=3 eval.rmax=2"]
        return reg
    monkeypatch.setattr(registry, "load_models", with_tiny)
    logs = []
    s = load_settings(None, dict(kv.split("=", 1) for kv in SET[1::2]))   # eval.rmax=1 among them: the user's, it wins
    run_loop(tmp_path / "run", str(tiny_suite), str(tiny_model_dir), s, until="eval_before", log=logs.append)
    rec = json.loads((tmp_path / "run" / "loop.json").read_text())["settings"]["eval"]
    assert (rec["n_parallel"], rec["rmax"]) == (3, 1)
    assert any("the registry's recipe for it sets eval.n_parallel=3" in str(l) and "rmax" not in str(l) for l in logs), logs

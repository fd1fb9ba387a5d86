"""Cycles on a tiny random llama: a lab made and improved through the release gate, a useless candidate rejected
with the shipped pointer unchanged, KTO on unpaired feedback, versions/promote/rollback, and bad input."""
import json
from pathlib import Path
import pytest
from conftest import run_cli

SET = ["--set", "data.collect_tasks=16", "--set", "eval.rmax=1", "--set", "eval.max_tokens=6", "--set", "eval.n_ctx=512",
       "--set", "dpo.max_pairs=16", "--set", "dpo.epochs=2", "--set", "dpo.batch_size=4", "--set", "dpo.lora_layers=all",
       "--set", "dpo.save_steps=100", "--set", "dpo.learning_rate=1e-2", "--set", "dpo.rounds=1", "--set", "gguf.quants=",
       "--set", "gguf.verify_prompts=2", "--set", "gguf.verify_tokens=4", "--set", "data.test_fraction=0"]


def _suite(path, word, n=(16, 8, 8)):
    "Tasks whose rule is: answer `word - ...` (a tiny model learns it in a few steps)."
    from specter_lab.suite import Task, write_tasks
    sysm = f"Acknowledge every message. Answer in one line: {word} - and a few words."
    things, states = ["printer", "vpn", "disk", "mail"], ["slow", "down", "full", "late"]
    write_tasks(path, [Task(f"{sp}-{i}", sp, [{"role": "system", "content": sysm},
                                             {"role": "user", "content": f"Message {sp} {i}: the {things[i % 4]} is {states[i % 3]}."}],
                            [{"kind": "label", "pattern": f"({word}|NO) - \\S", "expected": word}], reference=f"{word} - noted")
                       for sp, k in zip(("train", "dev", "test"), n) for i in range(k)])
    return path


@pytest.fixture(scope="module")
def lab(tmp_path_factory, tiny_model_dir):
    "Cycle 1 (target ack, app feedback with unpaired verdicts), then a useless cycle 2 (target yes, lr 1e-9, ack as regression)."
    d = tmp_path_factory.mktemp("cycles")
    _suite(d / "ack.jsonl", "OK"); _suite(d / "yes.jsonl", "YES")
    (d / "app.jsonl").write_text("".join(json.dumps(r) + "\n" for r in [
        {"prompt": "Message: the printer is slow.", "response": "OK - noted", "feedback": "like"},
        {"prompt": "Message: the vpn is down.", "response": "vpn vpn vpn", "feedback": "dislike"},
        {"prompt": "Message: the disk is full.", "response": "OK - noted", "feedback": "like"},
        {"prompt": "Message: the disk is full.", "response": "disk", "feedback": "dislike"}]))
    base = ["--base", tiny_model_dir]
    r1 = run_cli("cycle", "--lab", d / "lab", "--tasks", d / "ack.jsonl", "--feedback", d / "app.jsonl", *base, *SET, timeout=900)
    r2 = run_cli("cycle", "--lab", d / "lab", "--tasks", d / "yes.jsonl", "--regression", d / "ack.jsonl", "--strict",
                 *base, *SET, "--set", "dpo.learning_rate=1e-9", timeout=900)
    return d, r1, r2


def _versions(d):
    r = run_cli("versions", "--lab", d / "lab", "--json")
    assert r.returncode == 0, r.stderr[-2000:]
    return {v["version"]: v for v in json.loads(r.stdout)}


def test_cycle_trains_from_the_base_and_the_gate_promotes(lab):
    d, r1, _ = lab
    assert r1.returncode == 0, r1.stdout[-3000:] + r1.stderr[-3000:]
    assert "# Cycle v1 (from v0)" in r1.stdout and "Release gate" in r1.stdout
    rec = json.loads((d / "lab/versions/v1/version.json").read_text())
    assert rec["parent"] == "v0" and rec["gate"]["passed"], rec["gate"]
    assert rec["gate"]["checks"][0]["mcnemar_p"] < 0.01 and rec["gate"]["checks"][0]["delta"] > 0
    for f in rec["files"]:
        assert len(f["sha256"]) == 64 and f["bytes"] > 0
    src = rec["data"]["sources"][0]
    assert src["kind"] == "feedback" and len(src["sha256"]) == 64 and src["lines"] == 4
    assert set(rec["epsilon"]["ack"]) >= {"dev", "test", "role"} and rec["train_seconds"] > 0
    assert (d / "lab/versions/v1/model/README.md").read_text().count("Release gate: **passed**") == 1
    assert (d / "lab/evals/v0/ack.dev.json").is_file() and (d / "lab/evals/v1/ack.test.json").is_file()


def test_unpaired_feedback_trains_a_kto_round(lab):
    d, r1, _ = lab
    rec = json.loads((d / "lab/versions/v1/version.json").read_text())
    objs = {(o["objective"], o["rows"]) for o in rec["data"]["objectives"]}
    assert ("kto", 2) in objs and ("dpo", 1) in objs, objs   # the disk like+dislike pair up; the other two are unpaired
    assert [r["method"] for r in rec["data"]["rounds"]] == ["dpo", "kto"]
    kto = json.loads((d / "lab/cycles/v1/4_train/round2/summary.json").read_text())
    assert kto["method"] == "kto" and kto["steps"] >= 1 and kto["init_adapter"].endswith("round1/adapter")
    assert "| KTO | app feedback without a counterpart (1 likes, 1 dislikes) | 2 |" in r1.stdout


def test_useless_candidate_is_rejected_and_the_pointer_stays(lab):
    d, _, r2 = lab
    assert r2.returncode == 3, r2.stdout[-3000:] + r2.stderr[-3000:]   # --strict: rejected
    rec = json.loads((d / "lab/versions/v2/version.json").read_text())
    assert rec["parent"] == "v1" and not rec["gate"]["passed"] and "not better on yes" in rec["gate"]["reason"]
    tr = json.loads((d / "lab/cycles/v2/4_train/round1/summary.json").read_text())
    assert tr["init_adapter"].endswith("versions/v1/adapter")   # trained from the shipped version, not from the base
    assert json.loads((d / "lab/shipped.json").read_text())["version"] == "v1"
    vs = _versions(d)
    assert [(v, vs[v]["status"], vs[v]["shipped"]) for v in vs] == [("v0", "base", False), ("v1", "promoted", True), ("v2", "rejected", False)]
    assert set(vs["v2"]["epsilon"]) == {"ack", "yes"} and {"hat", "ci95"} <= set(vs["v2"]["epsilon"]["yes"])
    assert vs["v2"]["reason"].startswith("not better on yes") and vs["v1"]["parent"] == "v0"


def test_promote_and_rollback_move_the_pointer(lab):
    d, _, _ = lab
    r = run_cli("versions", "--lab", d / "lab")
    assert r.returncode == 0 and "v2" in r.stdout and "shipped" in r.stdout
    assert (d / "lab/versions.png").stat().st_size > 1000
    r = run_cli("promote", "--lab", d / "lab", "v2")
    assert r.returncode == 0 and "v1 -> v2" in r.stdout, r.stderr
    vs = _versions(d)
    assert vs["v2"]["shipped"] and vs["v2"]["status"] == "promoted" and vs["v2"]["reason"].startswith("promoted by hand")
    r = run_cli("rollback", "--lab", d / "lab")
    assert r.returncode == 0 and "v2 -> v1" in r.stdout
    assert _versions(d)["v1"]["shipped"]


@pytest.mark.parametrize("args,expect", [
    (("versions", "--lab", "{tmp}/nolab"), "not a lab folder (no lab.json)"),
    (("promote", "--lab", "{lab}", "v9"), "unknown version 'v9' (the lab has v0, v1, v2)"),
    (("promote", "--lab", "{lab}", "best"), "'best' is not a version name"),
    (("rollback", "--lab", "{tmp}/nolab"), "not a lab folder"),
    (("cycle", "--lab", "{tmp}/new", "--tasks", "{tmp}/none.jsonl"), "none.jsonl"),
    (("cycle", "--lab", "{lab}", "--dag", "{tmp}/nodag"), "serve DAG not found"),
])
def test_bad_input_is_one_line(lab, tmp_path, args, expect):
    d, _, _ = lab
    r = run_cli(*[a.format(tmp=tmp_path, lab=d / "lab") for a in args])
    assert r.returncode == 1, r.stdout + r.stderr
    assert expect in r.stderr and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_corrupt_version_record_is_named(lab, tmp_path):
    import shutil
    d, _, _ = lab
    bad = tmp_path / "lab"
    shutil.copytree(d / "lab", bad, symlinks=True)
    (bad / "versions/v2/version.json").write_text('{"schema": "specter-lab/version-v1",\n  "version": "v2",, }\n')
    r = run_cli("versions", "--lab", bad)
    assert r.returncode == 1 and "versions/v2/version.json:2: malformed JSON" in r.stderr and "Traceback" not in r.stderr, r.stderr
    (bad / "versions/v2/version.json").write_text(json.dumps({"schema": "specter-lab/version-v1", "version": "v2", "parent": "v1"}))
    r = run_cli("promote", "--lab", bad, "v2")
    assert r.returncode == 1 and "version.json [created_at]: missing field" in r.stderr, r.stderr
    (bad / "shipped.json").write_text('{"version": "v5", "stack": ["v0", "v5"], "history": []}')
    r = run_cli("rollback", "--lab", bad)
    assert r.returncode == 1 and "shipped.json [stack]: names version 'v5'" in r.stderr, r.stderr


@pytest.mark.parametrize("args,expect", [
    (("--log", "{tmp}/none.db"), "none.db: inference log not found"),
    (("--log", "{tmp}/notes.txt"), "notes.txt: cannot read the inference log: file is not a database"),
    (("--base", "{tmp}/fake.gguf"), "fake.gguf [model.base]: not a GGUF file"),
    (("--feedback", "{tmp}/latin1.jsonl"), "latin1.jsonl:2: invalid UTF-8 (byte 0xe9"),
    (("--feedback", "/dev/null"), "/dev/null: feedback file is not a regular file"),
])
def test_bad_source_or_base_writes_nothing(tmp_path, args, expect):
    "Checked before the lab is made or a cycle written: no lab, no cycles/vN, no suites (no training fixture needed)."
    (tmp_path / "notes.txt").write_text("hi"); (tmp_path / "fake.gguf").write_text("not a model")
    (tmp_path / "latin1.jsonl").write_bytes(b'{"prompt": "a", "response": "b", "feedback": "like"}\n{"prompt": "caf\xe9", "response": "b", "feedback": "like"}\n')
    r = run_cli("cycle", "--lab", tmp_path / "lab", "--tasks", "incident_triage", *[a.format(tmp=tmp_path) for a in args])
    assert r.returncode == 1 and expect in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not (tmp_path / "lab").exists()


def _fake_lab(tmp_path, gate_passed):
    "A lab on a stand-in base file with a candidate v1 the gate rejected, its record then edited to say `gate_passed`."
    from specter_lab.artifact import now_iso
    from specter_lab.versions import init_lab, add_version
    base = tmp_path / "base.gguf"; base.write_bytes(b"GGUF base")
    init_lab(tmp_path / "lab", "tiny", base)
    add_version(tmp_path / "lab", {"version": "v1", "parent": "v0", "created_at": now_iso(), "gate": {"passed": False, "reason": "not better on a"}},
                [base], ship={"model": str(base), "adapter": None})
    p = tmp_path / "lab/versions/v1/version.json"
    p.write_text(json.dumps(json.loads(p.read_text()) | {"gate": {"passed": gate_passed, "reason": "not better on a"}}))
    return tmp_path / "lab"


def test_edited_lab_records_are_named(tmp_path):
    "A gate edited to \"passed\": \"no\" is not listed as promoted; a version folder without its record, and a corrupt cycle.json, are named."
    lab = _fake_lab(tmp_path, "no")
    r = run_cli("versions", "--lab", lab)
    assert r.returncode == 1 and "versions/v1/version.json [gate.passed]: expected true or false, got \"no\"" in r.stderr and "promoted" not in r.stdout, r.stdout + r.stderr
    rec = json.loads((lab / "versions/v1/version.json").read_text()); rec["gate"]["passed"] = False
    (lab / "versions/v1/version.json").write_text(json.dumps(rec))
    r = run_cli("versions", "--lab", lab, "--json")
    assert r.returncode == 0 and [v["status"] for v in json.loads(r.stdout)] == ["base", "rejected"], r.stderr
    (lab / "versions/v2").mkdir()
    r = run_cli("versions", "--lab", lab)
    assert r.returncode == 1 and "versions/v2/version.json: the folder of version v2 has no version.json" in r.stderr, r.stderr
    (lab / "versions/v2").rmdir()
    (lab / "cycles/v2").mkdir(parents=True); (lab / "cycles/v2/cycle.json").write_text('{"parent": "v1",\n "targets": [,]}\n')
    r = run_cli("cycle", "--lab", lab, "--tasks", "incident_triage")
    assert r.returncode == 1 and "cycles/v2/cycle.json:2: malformed JSON" in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr

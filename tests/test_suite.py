"Bad task-suite files: every error names the file, the line and the field; good files round-trip."
import json
import pytest
from specter_lab.config import SpecterError
from specter_lab.suite import Task, load_tasks, write_tasks, bundled_names

GOOD = {"id": "t1", "split": "test", "messages": [{"role": "system", "content": "Answer LIKE or PASS."},
                                                 {"role": "user", "content": "Seed-stage climate startup."}],
        "guards": [{"kind": "label", "pattern": r"(LIKE|PASS) - \S", "expected": "LIKE"}], "reference": "LIKE - seed"}


def suite(tmp_path, bad, line=3):
    "A suite whose line `line` is `bad` (a dict, or raw text) and whose other lines are good."
    rows = [json.dumps({**GOOD, "id": f"ok{i}"}) for i in range(1, 5)]
    rows[line - 1] = bad if isinstance(bad, str) else json.dumps(bad)
    p = tmp_path / "tasks.jsonl"
    p.write_text("\n".join(rows) + "\n")
    return p


def drop(k): return {x: v for x, v in GOOD.items() if x != k}
def guard(**g): return {**GOOD, "guards": [g], "reference": None}

CASES = [
    ('{"id": "x", "split": ', None, "malformed JSON"),
    ('["a list"]', None, "expected a JSON object"),
    (drop("id"), "id", "missing field"),
    ({**GOOD, "id": ""}, "id", "non-empty"),
    (drop("split"), "split", "missing field"),
    ({**GOOD, "split": "validation"}, "split", "split must be one of train, dev, test"),
    (drop("messages"), "messages", "missing field"),
    ({**GOOD, "messages": []}, "messages", "non-empty list"),
    ({**GOOD, "messages": [{"role": "bot", "content": "hi"}]}, "messages[0].role", "unknown role 'bot'"),
    ({**GOOD, "messages": [{"role": "user"}]}, "messages[0].content", "missing field"),
    ({**GOOD, "messages": [{"role": "user", "content": 3}]}, "messages[0].content", "expected str"),
    ({**GOOD, "messages": [*GOOD["messages"], {"role": "assistant", "content": "LIKE"}]}, "messages[2].role", "this one is the assistant's"),
    (drop("guards"), "guards", "missing field"),
    ({**GOOD, "guards": []}, "guards", "at least one guard"),
    ({**GOOD, "guards": {"kind": "regex"}}, "guards", "expected list"),
    ({**GOOD, "guards": ["regex"]}, "guards[0]", "expected a guard object"),
    (guard(pattern="x"), "guards[0].kind", "missing field"),
    (guard(kind="contains", pattern="x"), "guards[0].kind", "unknown guard kind 'contains'"),
    (guard(kind="regex"), "guards[0].pattern", "missing field"),
    (guard(kind="regex", pattern="(unclosed"), "guards[0].pattern", "bad regex"),
    (guard(kind="label", pattern="LIKE|PASS", expected="LIKE"), "guards[0].pattern", "capturing group"),
    (guard(kind="label", pattern="(LIKE|PASS)"), "guards[0].expected", "missing field"),
    (guard(kind="json_schema"), "guards[0].schema", "missing field"),
    (guard(kind="json_schema", schema={"type": "objekt"}), "guards[0].schema", "bad JSON schema"),
    (guard(kind="json_schema", schema="{}"), "guards[0].schema", "expected a JSON schema object"),
    (guard(kind="json_schema", schema={"type": "object", "properties": {"a": {"$ref": "#/$defs/missing"}}}),
     "guards[0].schema.properties.a", "bad JSON schema: $ref '#/$defs/missing' refers to nothing in the schema"),   # no reference needed to find it
    (guard(kind="max_chars", limit="200"), "guards[0].limit", "positive integer"),
    (guard(kind="max_chars", limit=0), "guards[0].limit", "positive integer"),
    ({**GOOD, "reference": "PASS - too late"}, "reference", "fails the task's own guards: label: wrong label"),
    ({**GOOD, "reference": ["LIKE - seed"]}, "reference", "expected str"),
    ({**GOOD, "meta": "template 3"}, "meta", "expected an object"),
]


@pytest.mark.parametrize("bad,field,msg", CASES, ids=[f"{i}-{c[1]}" for i, c in enumerate(CASES)])
def test_bad_line_names_file_line_field(tmp_path, bad, field, msg):
    p = suite(tmp_path, bad)
    with pytest.raises(SpecterError) as e:
        load_tasks(p)
    where = f"{p}:3 [{field}]" if field else f"{p}:3"
    assert str(e.value).startswith(where), str(e.value)
    assert msg in str(e.value)
    assert (e.value.line, e.value.field) == (3, field)


def test_duplicate_id_names_both_lines(tmp_path):
    p = suite(tmp_path, {**GOOD, "id": "ok1"}, line=4)
    with pytest.raises(SpecterError, match=r"tasks.jsonl:4 \[id\]: duplicate id 'ok1' \(first on line 1\)"):
        load_tasks(p)


def test_whole_file_checked_before_any_task(tmp_path):
    "A bad last line fails the load: no partial list of tasks is returned."
    p = suite(tmp_path, guard(kind="regex", pattern="["), line=4)
    with pytest.raises(SpecterError, match=r":4 \[guards\[0\]\.pattern\]"):
        load_tasks(p, split="test")


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(SpecterError, match="task suite not found"):
        load_tasks(tmp_path / "nope.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n\n")
    with pytest.raises(SpecterError, match="no tasks"):
        load_tasks(tmp_path / "empty.jsonl")
    with pytest.raises(SpecterError, match="no 'train' tasks"):
        load_tasks(suite(tmp_path, GOOD | {"id": "t9"}), split="train")
    with pytest.raises(SpecterError, match="split must be one of train, dev, test"):
        load_tasks("deal_screening", split="validation")


def test_round_trip_and_extra_keys(tmp_path):
    "Integer ids become strings, unknown keys are ignored, `meta` is kept; written files read back the same."
    p = suite(tmp_path, {**GOOD, "id": 7, "source": "someone else's field", "meta": {"k": 1}})
    tasks = load_tasks(p)
    assert [t.id for t in tasks] == ["ok1", "ok2", "7", "ok4"] and tasks[2].meta == {"k": 1}
    assert tasks[0].label == "LIKE" and tasks[0].check("LIKE - seed stage").passed
    write_tasks(tmp_path / "again.jsonl", tasks)
    assert [t.to_dict() for t in load_tasks(tmp_path / "again.jsonl")] == [t.to_dict() for t in tasks]


SIZES = {"deal_screening": (512, 80, 320), "tool_calls": (320, 80, 160), "ticket_routing": (400, 80, 320),
         "incident_triage": (360, 80, 300), "payment_extraction": (320, 80, 240), "office_tools": (320, 80, 240)}


def test_bundled_suites():
    assert bundled_names() == sorted(SIZES)
    test = load_tasks("deal_screening", split="test")
    train = load_tasks("deal_screening", split="train")
    assert (len(train), len(test)) == (512, 320)
    assert sum(t.label == "LIKE" for t in test) == 160
    assert not {t.messages[-1]["content"] for t in train} & {t.messages[-1]["content"] for t in test}
    tools = load_tasks("tool_calls", split="test")
    assert all(t.check(t.reference).passed for t in tools)
    assert [g.kind for g in tools[0].guards] == ["json_schema", "max_chars"]


@pytest.mark.parametrize("name", sorted(SIZES))
def test_bundled_splits_and_held_out_words(name):
    "Every bundled file loads with three splits of the documented sizes; the four new suites hold out their words."
    from specter_lab.suites import suite_check
    tasks = load_tasks(name)
    assert tuple(len(load_tasks(name, split=s)) for s in ("train", "dev", "test")) == SIZES[name]
    r = suite_check(tasks)
    assert r["references"] == {"present": len(tasks), "failing": []}
    assert not any(v for x in r["shared"].values() for v in x.values())
    assert r["held_out"] == (name not in ("deal_screening", "tool_calls")), r["overlap"]


def test_dev_split_for_a_suite_without_one(tmp_path):
    "A user's suite with train and test only: dev_split moves whole train templates to dev, and the result loads."
    from specter_lab.suite import dev_split
    tasks = [t for t in load_tasks("ticket_routing") if t.split != "dev"]
    out = dev_split(tasks, 0.2)
    dev = [t for t in out if t.split == "dev"]
    assert {t.meta["template"] for t in dev}.isdisjoint({t.meta["template"] for t in out if t.split == "train"})
    assert {t.label for t in dev} == {"NETWORK", "ACCOUNT", "HARDWARE", "BILLING"}
    assert [t.id for t in out if t.split == "test"] == [t.id for t in tasks if t.split == "test"]
    write_tasks(tmp_path / "s.jsonl", out)
    assert len(load_tasks(tmp_path / "s.jsonl", split="dev")) == len(dev) >= 0.2 * 400


def test_suites_cli(cli, tmp_path):
    "`specter-lab suites` checks every bundled suite by default, a file by path, and names a missing one."
    r = cli("suites")
    assert r.returncode == 0, r.stderr
    assert [l.split(":")[0] for l in r.stdout.splitlines()] == sorted(SIZES)
    assert sum("held out: yes" in l for l in r.stdout.splitlines()) == 4
    p = tmp_path / "mine.jsonl"
    write_tasks(p, load_tasks("incident_triage", split="test"))
    r = cli("suites", p, "--json")
    assert r.returncode == 0 and json.loads(r.stdout)[str(p)]["best_constant"]["test"]["share"] == 0.6
    r = cli("suites", "no_such_suite")
    assert r.returncode == 1 and "no_such_suite: task suite not found" in r.stderr


def test_suites_cli_on_a_suite_that_names_no_template(cli, tmp_path):
    "A suite a user brings without meta.template or meta.cue, whose test inputs copy training's words and which has no dev split: `suites` says both."
    rows = [{"id": f"t{i}", "split": "train" if i < 30 else "test", "messages": [{"role": "user", "content": f"case {i} about {lab}"}],
             "guards": [{"kind": "label", "pattern": r"^(alpha|beta)\b", "expected": lab}], "reference": lab}
            for i, lab in zip(range(40), ["alpha", "beta"] * 20)]
    p = tmp_path / "bare.jsonl"; p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    r = cli("suites", p)
    assert r.returncode == 0, r.stderr
    assert "held out: no (10 of 10 test inputs use only words seen earlier); no dev split (the loop carves one out of train)" in r.stdout, r.stdout

"""Evaluation end to end: `specter-lab eval` / `compare` on the embedded GGUF, through llama-cpp-python's server,
the DAG it writes read back by the training-data export, reproducibility, and bad input."""
import json, socket, subprocess, sys, time, urllib.request
from pathlib import Path
import pytest

from conftest import run_cli
ROOT = Path(__file__).resolve().parents[1]


def _report(path):
    from specter_lab.evaluate import read_report
    return read_report(path)


@pytest.fixture(scope="module")
def eval_run(tmp_path_factory):
    "One real evaluation through the CLI: 8 test tasks, one retry, the DAG written."
    d = tmp_path_factory.mktemp("eval")
    r = run_cli("eval", "--model", "embedded", "--tasks", "deal_screening", "--limit", 8, "--rmax", 1, "--max-tokens", 24,
                "--dag-out", d / "dag", "--output", d / "report.json", check=True)
    return d, r


def test_eval_cli_writes_report_and_dag(eval_run, cli):
    d, r = eval_run
    assert "ε =" in r.stdout and "tasks/s" in r.stdout
    rep = _report(d / "report.json")
    assert rep["n"] == 8 and rep["model"]["kind"] == "gguf" and len(rep["model"]["sha256"]) == 64
    assert rep["split"] == "test" and rep["rmax"] == 1 and rep["baseline"]["label"] in ("LIKE", "PASS")
    assert rep["timings"]["tasks_per_s"] > 0 and rep["timings"]["completion_tokens"] > 0
    assert all(o["output"] == o["output"].strip() or o["output"] for o in rep["outcomes"])
    # every attempt is in the DAG; a task that failed twice ends with its human reference
    from specter_lab.artifact import ArtifactDAG
    dag = ArtifactDAG(d / "dag", create=False)
    n_att = sum(o["attempts"] for o in rep["outcomes"]) + sum(o["human_reference_stored"] for o in rep["outcomes"])
    assert len(dag) == n_att
    # the DPO export turns it into pairs whose prompt is the task's own prompt
    out = d / "dpo.jsonl"
    cli("export", "--dag-path", d / "dag", "--format", "dpo", "--filter", "refinement", "--output", out, check=True)
    from specter_lab.suite import load_tasks
    prompts = {json.dumps(t.messages) for t in load_tasks("deal_screening", "test")[:8]}
    pairs = [json.loads(l) for l in out.read_text().splitlines()]
    assert all(json.dumps(p["prompt"]) in prompts for p in pairs)


def test_same_seed_same_report(eval_run, cli, tmp_path):
    d, _ = eval_run
    cli("eval", "--model", "embedded", "--tasks", "deal_screening", "--limit", 8, "--rmax", 1, "--max-tokens", 24, "--dag-out", tmp_path / "dag",
        "--output", tmp_path / "again.json", "--quiet", check=True)
    a, b = _report(d / "report.json"), _report(tmp_path / "again.json")
    assert a["outcomes_sha256"] == b["outcomes_sha256"] and a["epsilon"] == b["epsilon"]
    r = cli("compare", d / "report.json", tmp_path / "again.json", "--output", tmp_path / "cmp.json", "--plot", tmp_path / "eps.png", check=True)
    assert "Δε = +0.000" in r.stdout and (tmp_path / "eps.png").stat().st_size > 1000
    assert json.loads((tmp_path / "cmp.json").read_text())["mcnemar_p"] == 1.0


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); return s.getsockname()[1]


def test_eval_through_llama_cpp_server(embedded_gguf, cli, tmp_path):
    port = _free_port()
    log = open(tmp_path / "server.log", "w")
    srv = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(embedded_gguf), "--host", "127.0.0.1",
                            "--port", str(port), "--n_ctx", "2048"], stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(120):
            try:
                urllib.request.urlopen(url + "/v1/models", timeout=1); break
            except OSError:
                if srv.poll() is not None: raise AssertionError((tmp_path / "server.log").read_text()[-2000:])
                time.sleep(0.5)
        # HF_HUB_OFFLINE blocks every request of huggingface_hub's client, even to 127.0.0.1: allow it for this run
        # credentials in the URL reach the server and nothing the lab writes: not the report, not one artifact of the DAG
        cli("eval", "--model", url.replace("//", "//alice:s3cretPassw0rd@") + "/v1", "--tasks", "deal_screening", "--limit", 4,
            "--rmax", 0, "--max-tokens", 16, "--dag-out", tmp_path / "dag", "--output", tmp_path / "r.json", env={"HF_HUB_OFFLINE": "0"}, check=True)
        rep = _report(tmp_path / "r.json")
        assert rep["model"]["kind"] == "endpoint" and rep["n"] == 4
        written = [p for p in tmp_path.rglob("*") if p.is_file() and p.name != "server.log"]
        assert len(written) > 4 and not [p for p in written if b"s3cret" in p.read_bytes() or b"alice" in p.read_bytes()]
        assert all(o["output"] for o in rep["outcomes"]) and rep["timings"]["completion_tokens"] > 0
    finally:
        srv.terminate(); srv.wait(30); log.close()


@pytest.mark.parametrize("args,msg", [
    (["--tasks", "missing.jsonl"], "missing.jsonl: task suite not found"),
    (["--model", "./nope.gguf"], "nope.gguf: model file or folder not found"),
    (["--trials", "0"], "[eval.trials]: 0 is out of range [1,"),
    (["--rmax", "-1"], "[eval.rmax]: -1 is out of range [0,"),
    (["--split", "validation"], "split must be one of train, dev, test"),
])
def test_eval_bad_input(cli, tmp_path, args, msg):
    r = cli("eval", "--tasks", "deal_screening", *args, "--output", tmp_path / "r.json")
    assert r.returncode == 1 and msg in r.stderr, r.stderr
    assert not (tmp_path / "r.json").exists() and not (tmp_path / "dag").exists()   # nor a DAG folder it never wrote to


def test_eval_bad_suite_line(cli, tmp_path):
    p = tmp_path / "suite.jsonl"
    good = {"id": "a", "split": "test", "messages": [{"role": "user", "content": "hi"}], "guards": [{"kind": "max_chars", "limit": 5}]}
    p.write_text(json.dumps(good) + "\n" + json.dumps({**good, "id": "b", "guards": [{"kind": "vibes"}]}) + "\n")
    r = cli("eval", "--tasks", p, "--output", tmp_path / "r.json")
    assert r.returncode == 1 and "suite.jsonl:2 [guards[0].kind]: unknown guard kind" in r.stderr, r.stderr


def test_compare_bad_input(cli, tmp_path):
    (tmp_path / "x.json").write_text('{"schema": "nope"}')
    r = cli("compare", tmp_path / "x.json", tmp_path / "x.json")
    assert r.returncode == 1 and "x.json" in r.stderr and "not a specter-lab eval report" in r.stderr
    r = cli("compare", tmp_path / "missing.json", tmp_path / "x.json")
    assert r.returncode == 1 and "report not found" in r.stderr
    assert cli("eval", "--tasks", "deal_screening").returncode == 2   # --output is required


def test_eval_of_a_transformers_model_holds_chats_to_its_context(cli, tmp_path, tiny_model_dir):
    "A transformers folder is held to [eval] n_ctx as a GGUF is: a 5 MB message is named by file, line and task before any generation."
    p = tmp_path / "long.jsonl"
    row = {"id": "t1", "split": "test", "messages": [{"role": "user", "content": "word " * 1_000_000}], "guards": [{"kind": "max_chars", "limit": 5}]}
    p.write_text(json.dumps({**row, "id": "t0", "messages": [{"role": "user", "content": "hi"}]}) + "\n" + json.dumps(row) + "\n")
    r = cli("eval", "--model", tiny_model_dir, "--tasks", p, "--max-tokens", 8, "--set", "eval.n_ctx=512", "--output", tmp_path / "r.json",
            "--dag-out", tmp_path / "dag", timeout=300)
    assert r.returncode == 1 and "long.jsonl:2 [messages]: task 't1' needs" in r.stderr and "eval.n_ctx" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr and r.stderr.strip().splitlines()[-1].startswith("specter-lab eval: error: ")
    assert not (tmp_path / "r.json").exists() and not (tmp_path / "dag").exists()   # nor a DAG folder it never wrote to


def test_compare_never_writes_over_its_reports(eval_run, cli, tmp_path):
    "compare --output over a report it reads, or a --plot in a format matplotlib does not write, is refused before anything is written."
    d, _ = eval_run
    rep = d / "report.json"
    before = rep.read_bytes()
    r = cli("compare", rep, rep, "--output", rep)
    assert r.returncode == 1 and "would overwrite" in r.stderr and rep.read_bytes() == before, r.stderr
    r = cli("compare", rep, rep, "--output", tmp_path / "c.json", "--plot", tmp_path / "p.txt")
    assert r.returncode == 1 and "matplotlib writes a plot as" in r.stderr and not (tmp_path / "c.json").exists(), r.stderr

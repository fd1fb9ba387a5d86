"""`specter-lab push` / `pull`: a local folder standing in for the Hub, end to end; the requests the real
huggingface_hub client sends to a recording server on 127.0.0.1; bad input; the token never in our output."""
import base64, hashlib, json, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit
import pytest

FAKE_TOKEN = "hf_FakeTokenForSpecterTests0123456789"


def sha(b: bytes) -> str: return hashlib.sha256(b).hexdigest()


@pytest.fixture
def gguf_folder(tmp_path):
    "A convert-stage output folder: two small fake GGUF files and their manifest."
    d = tmp_path / "gguf-out"; d.mkdir()
    files = {"agent-f16.gguf": b"GGUF" + bytes(range(256)) * 64, "agent-Q4_K_M.gguf": b"GGUF" + b"\x07" * 3000}
    for n, b in files.items(): (d / n).write_bytes(b)
    (d / "manifest.json").write_text(json.dumps({"model": "agent", "files": [
        {"name": n, "bytes": len(b), "sha256": sha(b), "verified": True} for n, b in files.items()]}))
    return d


@pytest.fixture
def dataset_folder(tmp_path):
    d = tmp_path / "export"; d.mkdir()
    (d / "dpo.jsonl").write_text('{"prompt": "Evaluate: founder, YC W24", "chosen": "LIKE - a", "rejected": "PASS - b"}\n')
    (d / "sft.jsonl").write_text('{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "LIKE - x"}]}\n')
    return d


def reports(tmp_path):
    b, a = tmp_path / "before.json", tmp_path / "after.json"
    b.write_text(json.dumps({"suite": "deal_screening", "n": 200, "baseline": 0.5, "epsilon": {"hat": 0.0, "ci95": [0.0, 0.019]}}))
    a.write_text(json.dumps({"suite": "deal_screening", "n": 200, "baseline": 0.5, "epsilon": {"hat": 0.855, "ci95": [0.8, 0.9]}}))
    return b, a


# ---------------------------------------------------------------- local folder, end to end (CLI)

def test_push_pull_local_end_to_end(cli, tmp_path, gguf_folder, dataset_folder):
    hub = tmp_path / "hub"
    before, after = reports(tmp_path)
    r = cli("push", gguf_folder, "me/agent-gguf", "--local-root", hub, "--card", "--base-model",
            "HuggingFaceTB/SmolLM2-135M-Instruct", "--dataset", "me/prefs", "--before", before, "--after", after,
            "--message", "DPO round 1", check=True)
    assert "(private)" in r.stdout and "README.md" in r.stdout
    repo = hub / "models/me/agent-gguf"
    card = (repo / "README.md").read_text()
    assert "base_model: HuggingFaceTB/SmolLM2-135M-Instruct" in card and "- llama.cpp" in card and "Δε = +0.855" in card
    man = json.loads((gguf_folder / "manifest.json").read_text())
    assert all(f["sha256"] in card for f in man["files"])
    assert json.loads((repo / ".specter-hub.json").read_text()) == {"private": True, "message": "DPO round 1"}

    cli("push", dataset_folder, "me/prefs", "--type", "dataset", "--local-root", hub, "--card", check=True)
    assert sorted(p.name for p in (hub / "datasets/me/prefs").iterdir()) == [".specter-hub.json", "README.md", "dpo.jsonl", "manifest.json", "sft.jsonl"]
    assert "config_name: dpo" in (hub / "datasets/me/prefs/README.md").read_text()

    out = tmp_path / "phone"
    r = cli("pull", "me/agent-gguf", "--out", out, "--local-root", hub, "--json", check=True)
    recs = {x["path"]: x for x in json.loads(r.stdout)}
    assert recs["agent-f16.gguf"]["verified"] and recs["agent-Q4_K_M.gguf"]["verified"]
    for f in man["files"]: assert sha((out / f["name"]).read_bytes()) == f["sha256"]

    # an interrupted copy is resumed, not restarted
    (out / "agent-f16.gguf").unlink()
    (out / "agent-f16.gguf.incomplete").write_bytes((gguf_folder / "agent-f16.gguf").read_bytes()[:5000])
    r = cli("pull", "me/agent-gguf", "--out", out, "--local-root", hub, "--file", "agent-f16.gguf", check=True)
    assert "resumed at 5000 B" in r.stdout and not (out / "agent-f16.gguf.incomplete").exists()
    assert (out / "agent-f16.gguf").read_bytes() == (gguf_folder / "agent-f16.gguf").read_bytes()

    r = cli("pull", "me/prefs", "--type", "dataset", "--out", tmp_path / "data", "--local-root", hub, check=True)
    assert (tmp_path / "data/dpo.jsonl").read_text() == (dataset_folder / "dpo.jsonl").read_text()


def test_card_license_follows_the_base(cli, tmp_path, gguf_folder):
    "A model made from Gemma is published under `gemma` (its terms bind derivatives), a SmolLM2 one under [gguf] license; --license overrides."
    hub = tmp_path / "hub"
    lic = lambda repo: next(l for l in (hub / f"models/{repo}/README.md").read_text().splitlines() if l.startswith("license:"))
    cli("push", gguf_folder, "me/gemma-agent", "--local-root", hub, "--card", "--base-model", "google/gemma-3-270m", check=True)
    assert lic("me/gemma-agent") == "license: gemma"
    assert "Gemma is provided under and subject to the Gemma Terms of Use" in (hub / "models/me/gemma-agent/README.md").read_text()
    cli("push", gguf_folder, "me/smol-agent", "--local-root", hub, "--card", "--base-model", "HuggingFaceTB/SmolLM2-135M-Instruct", check=True)
    assert lic("me/smol-agent") == "license: apache-2.0"
    cli("push", gguf_folder, "me/own-agent", "--local-root", hub, "--card", "--base-model", "google/gemma-3-270m", "--license", "other", check=True)
    assert lic("me/own-agent") == "license: other"


def test_dry_run_sends_and_writes_nothing(cli, tmp_path, dataset_folder):
    r = cli("push", dataset_folder, "me/prefs", "--type", "dataset", "--public", "--dry-run", "--json", check=True)
    plan = json.loads(r.stdout)
    assert plan["dry_run"] and plan["private"] is False and plan["repo_type"] == "dataset"
    assert plan["target"].endswith("/datasets/me/prefs")
    assert [(f["path"], f["bytes"]) for f in plan["files"]] == [
        ("dpo.jsonl", (dataset_folder / "dpo.jsonl").stat().st_size), ("manifest.json", None),
        ("sft.jsonl", (dataset_folder / "sft.jsonl").stat().st_size)]
    assert not (dataset_folder / "manifest.json").exists()
    r = cli("push", dataset_folder, "me/prefs", "--type", "dataset", "--dry-run", check=True)
    assert r.stdout.startswith("would push 3 file(s)") and "(private)" in r.stdout


# ---------------------------------------------------------------- bad input

def test_bad_input(cli, tmp_path, gguf_folder):
    hub = tmp_path / "hub"
    r = cli("push", tmp_path / "nope", "me/x", "--local-root", hub)
    assert r.returncode == 1 and "nope: folder not found" in r.stderr
    r = cli("push", gguf_folder, "me/x", "--type", "space", "--local-root", hub)
    assert r.returncode == 1 and "unknown repo type 'space'" in r.stderr
    r = cli("push", gguf_folder, "not-an-id", "--local-root", hub)
    assert r.returncode == 1 and "expected a repository id 'owner/name'" in r.stderr
    r = cli("push", gguf_folder, "me/x")                       # the lab is offline by default
    assert r.returncode == 1 and "--online" in r.stderr
    # a GGUF changed after its manifest was written is refused before anything is sent
    good = (gguf_folder / "agent-Q4_K_M.gguf").read_bytes()
    (gguf_folder / "agent-Q4_K_M.gguf").write_bytes(good[:-1] + b"\x08")
    r = cli("push", gguf_folder, "me/x", "--local-root", hub)
    assert r.returncode == 1 and "agent-Q4_K_M.gguf [sha256]: sha256 mismatch" in r.stderr and not hub.exists()
    (gguf_folder / "agent-Q4_K_M.gguf").write_bytes(good)
    cli("push", gguf_folder, "me/x", "--local-root", hub, check=True)
    # a file corrupted in the repository is caught at pull and not left behind
    (hub / "models/me/x/agent-Q4_K_M.gguf").write_bytes(good[:-1] + b"\x09")
    r = cli("pull", "me/x", "--out", tmp_path / "o", "--local-root", hub)
    assert r.returncode == 1 and "agent-Q4_K_M.gguf [sha256]: sha256 mismatch" in r.stderr
    assert not (tmp_path / "o/agent-Q4_K_M.gguf").exists()
    r = cli("pull", "me/missing", "--out", tmp_path / "o", "--local-root", hub)
    assert r.returncode == 1 and "model repository 'me/missing' not found" in r.stderr
    r = cli("pull", "me/x", "--out", tmp_path / "o", "--local-root", hub, "--file", "../../escape.gguf")
    assert r.returncode == 1 and "unsafe file name '../../escape.gguf'" in r.stderr
    r = cli("pull", "me/x", "--type", "space", "--out", tmp_path / "o", "--local-root", hub)
    assert r.returncode == 1 and "unknown repo type 'space'" in r.stderr

    assert not (tmp_path / "o").exists()   # a failed pull into a new folder leaves no folder


def test_links_files_and_offline_variables(cli, tmp_path, gguf_folder):
    "Pull follows no link out of the local repository or out of --out; push to a repository that is a file; the offline variable actually set."
    hub, outside = tmp_path / "hub", tmp_path / "outside"
    outside.mkdir(); (outside / "secret.txt").write_text("secret")
    cli("push", gguf_folder, "me/x", "--local-root", hub, check=True)
    (hub / "models/me/x/leak.txt").symlink_to(outside / "secret.txt")
    r = cli("pull", "me/x", "--out", tmp_path / "o", "--local-root", hub, "--file", "leak.txt")
    assert r.returncode == 1 and r.stderr.strip().endswith("leak.txt: a symbolic link that leads out of the repository's folder: refused")
    assert not (tmp_path / "o").exists()
    (hub / "models/me/linked").symlink_to(gguf_folder)   # a repository folder that is a link out of the hub
    r = cli("pull", "me/linked", "--out", tmp_path / "o", "--local-root", hub)
    assert r.returncode == 1 and "a symbolic link that leads out of the local hub: refused" in r.stderr
    o2 = tmp_path / "o2"; o2.mkdir(); (o2 / "agent-f16.gguf.incomplete").symlink_to(outside / "victim")
    r = cli("pull", "me/x", "--out", o2, "--local-root", hub)
    assert r.returncode == 1 and "agent-f16.gguf.incomplete: a symbolic link that leads out of the output folder: refused" in r.stderr
    assert not (outside / "victim").exists() and not (o2 / "manifest.json").exists()   # the manifest goes in last
    (hub / "datasets/me").mkdir(parents=True); (hub / "datasets/me/file").write_text("")
    data = tmp_path / "data"; data.mkdir(); (data / "d.jsonl").write_text('{"a": 1}\n')
    r = cli("push", data, "me/file", "--type", "dataset", "--local-root", hub)
    assert r.returncode == 1 and r.stderr.strip() == f"specter-lab push: error: {hub / 'datasets/me/file'}: local repository is a file; give a folder"
    assert not (data / "manifest.json").exists()   # nothing written into the pushed folder either
    env = {"HF_HUB_OFFLINE": "", "TRANSFORMERS_OFFLINE": "1"}
    r = cli("push", data, "me/x", "--type", "dataset", "--online", env=env)
    assert r.returncode == 1 and "TRANSFORMERS_OFFLINE=1 is set in the environment: unset it to use the Hub" in r.stderr


def test_read_manifest_and_reports_errors(tmp_path):
    from specter_lab.config import SpecterError
    from specter_lab.hub import read_manifest, read_eval
    (tmp_path / "manifest.json").write_text('{"files": [{"name": "a.gguf", "sha256": "xyz"}]}')
    with pytest.raises(SpecterError, match=r"manifest.json \[a.gguf.sha256\]: not a sha256"): read_manifest(tmp_path / "manifest.json")
    (tmp_path / "r.json").write_text('{"epsilon": {"hat": 1.5}}')
    with pytest.raises(SpecterError, match=r"r.json \[epsilon.hat\]"): read_eval(tmp_path / "r.json")


# ---------------------------------------------------------------- the real client against a recording server

class FakeHub:
    "A tiny Hub on 127.0.0.1: records every request; create repo, preupload, commit, resolve (with Range)."

    def __init__(self):
        self.requests, self.repos = [], {}
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a): pass

            def _send(self, code, obj=None, headers=None, body=None):
                data = body if body is not None else (json.dumps(obj).encode() if obj is not None else b"")
                self.send_response(code)
                for k, v in {"Content-Type": "application/json", "Content-Length": str(len(data)), **(headers or {})}.items():
                    self.send_header(k, v)
                self.end_headers()
                if self.command != "HEAD": self.wfile.write(data)

            def _handle(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                path = urlsplit(self.path).path
                hub.requests.append({"method": self.command, "path": path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
                parts = path.strip("/").split("/")
                if self.command == "POST" and path == "/api/repos/create":
                    p = json.loads(body); rtype = p.get("type") or "model"
                    rid = f"{p['organization']}/{p['name']}"
                    if rid == "me/leaky":   # an error whose text echoes the request's credentials
                        return self._send(403, {"error": f"forbidden for {self.headers.get('Authorization')}"})
                    hub.repos.setdefault((rtype, rid), {"visibility": p.get("visibility"), "files": {}, "commit": "0" * 40})
                    prefix = "" if rtype == "model" else f"{rtype}s/"
                    return self._send(200, {"url": f"http://{self.headers['Host']}/{prefix}{rid}"})
                if self.command == "POST" and path == "/api/validate-yaml":
                    return self._send(200, {})
                if self.command == "POST" and parts[0] == "api" and len(parts) >= 6 and parts[4] in ("preupload", "commit"):
                    rtype, rid = parts[1][:-1], f"{parts[2]}/{parts[3]}"
                    repo = hub.repos.get((rtype, rid))
                    if repo is None: return self._send(404, {"error": "Repository not found"}, {"X-Error-Code": "RepoNotFound"})
                    if parts[4] == "preupload":
                        files = json.loads(body)["files"]
                        return self._send(200, {"files": [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False} for f in files]})
                    for line in body.splitlines():
                        op = json.loads(line)
                        if op["key"] == "header": repo["summary"] = op["value"]["summary"]
                        elif op["key"] == "file": repo["files"][op["value"]["path"]] = base64.b64decode(op["value"]["content"])
                    repo["commit"] = hashlib.sha1(repr(sorted(repo["files"].items())).encode()).hexdigest()
                    return self._send(200, {"commitUrl": f"http://{self.headers['Host']}/{rid}/commit/{repo['commit']}",
                                            "commitOid": repo["commit"], "success": True})
                if self.command in ("HEAD", "GET") and "resolve" in parts:
                    i = parts.index("resolve")
                    rtype = "model" if i == 2 else parts[0][:-1]
                    rid = "/".join(parts[i - 2:i]); fname = "/".join(parts[i + 2:])
                    repo = hub.repos.get((rtype, rid))
                    if repo is None or fname not in repo["files"]:
                        return self._send(404, {"error": "Entry not found"}, {"X-Error-Code": "EntryNotFound"})
                    data = repo["files"][fname]
                    if hub.corrupt == fname: data = data[:-1] + bytes([data[-1] ^ 1])
                    head = {"X-Repo-Commit": repo["commit"], "ETag": f'"{sha(data)}"', "Content-Type": "application/octet-stream"}
                    rng = self.headers.get("Range")
                    if rng and self.command == "GET":
                        start = int(rng.split("=")[1].split("-")[0])
                        return self._send(206, headers={**head, "Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}"}, body=data[start:])
                    return self._send(200, headers=head, body=data)
                return self._send(404, {"error": f"unexpected {self.command} {path}"})

            do_GET = do_POST = do_HEAD = do_PUT = _handle

        self.corrupt = None
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self): self.server.shutdown(); self.server.server_close()


@pytest.fixture
def fake_hub(tmp_path):
    h = FakeHub()
    env = {"HF_ENDPOINT": h.url, "HF_TOKEN": FAKE_TOKEN, "HF_HUB_OFFLINE": "0", "HF_HOME": str(tmp_path / "hf-home"),
           "HF_HUB_DISABLE_TELEMETRY": "1", "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
    yield h, env
    h.close()


def test_real_client_requests(cli, tmp_path, fake_hub, gguf_folder, dataset_folder):
    hub, env = fake_hub
    before, after = reports(tmp_path)
    r = cli("push", gguf_folder, "me/agent-gguf", "--online", "--card", "--after", after, "--before", before,
            "--message", "DPO round 1", env=env, check=True)
    outputs = [r.stdout + r.stderr]
    r = cli("push", dataset_folder, "me/prefs", "--type", "dataset", "--online", env=env, check=True)
    outputs.append(r.stdout + r.stderr)

    creates = [q for q in hub.requests if q["path"] == "/api/repos/create"]
    assert [json.loads(q["body"]) for q in creates] == [
        {"name": "agent-gguf", "organization": "me", "visibility": "private", "type": "model"},
        {"name": "prefs", "organization": "me", "visibility": "private", "type": "dataset"}]
    pre = [q for q in hub.requests if "/preupload/" in q["path"]]
    assert [q["path"] for q in pre] == ["/api/models/me/agent-gguf/preupload/main", "/api/datasets/me/prefs/preupload/main"]
    assert sorted(f["path"] for f in json.loads(pre[0]["body"])["files"]) == ["README.md", "agent-Q4_K_M.gguf", "agent-f16.gguf", "manifest.json"]
    commits = [q for q in hub.requests if "/commit/" in q["path"]]
    assert [q["path"] for q in commits] == ["/api/models/me/agent-gguf/commit/main", "/api/datasets/me/prefs/commit/main"]
    assert json.loads(commits[0]["body"].splitlines()[0]) == {"key": "header", "value": {"summary": "DPO round 1", "description": ""}}
    assert hub.repos[("model", "me/agent-gguf")]["files"]["agent-f16.gguf"] == (gguf_folder / "agent-f16.gguf").read_bytes()
    for q in creates + pre + commits:               # the client authenticates every write ...
        assert q["headers"].get("authorization") == f"Bearer {FAKE_TOKEN}"

    out = tmp_path / "pulled"
    r = cli("pull", "me/agent-gguf", "--online", "--out", out, env=env, check=True)
    outputs.append(r.stdout + r.stderr)
    assert r.stdout.count("sha256 ok") == 2
    assert (out / "agent-f16.gguf").read_bytes() == (gguf_folder / "agent-f16.gguf").read_bytes()
    gets = [q for q in hub.requests if q["method"] in ("HEAD", "GET") and "/resolve/" in q["path"]]
    assert {q["path"] for q in gets} >= {"/me/agent-gguf/resolve/main/manifest.json", "/me/agent-gguf/resolve/main/agent-f16.gguf"}

    # a download interrupted in an earlier run resumes with a Range request
    blob = (gguf_folder / "agent-f16.gguf").read_bytes()
    (tmp_path / "pulled3").mkdir()
    (tmp_path / "pulled3/agent-f16.gguf.incomplete").write_bytes(blob[:5000])
    n = len(hub.requests)
    r = cli("pull", "me/agent-gguf", "--online", "--out", tmp_path / "pulled3", "--file", "agent-f16.gguf", env=env, check=True)
    outputs.append(r.stdout + r.stderr)
    assert [q["headers"].get("range") for q in hub.requests[n:] if q["method"] == "GET" and q["path"].endswith("agent-f16.gguf")] == ["bytes=5000-"]
    assert (tmp_path / "pulled3/agent-f16.gguf").read_bytes() == blob and "sha256 ok, resumed at 5000 B" in r.stdout
    assert not (tmp_path / "pulled3/agent-f16.gguf.incomplete").exists()

    hub.corrupt = "agent-Q4_K_M.gguf"               # the server hands out a corrupted file
    r = cli("pull", "me/agent-gguf", "--online", "--out", tmp_path / "pulled2", env=env)
    outputs.append(r.stdout + r.stderr)
    assert r.returncode == 1 and "agent-Q4_K_M.gguf [sha256]: sha256 mismatch" in r.stderr
    assert not (tmp_path / "pulled2/agent-Q4_K_M.gguf").exists()

    r = cli("push", dataset_folder, "me/leaky", "--online", env=env)   # an error echoing the token is scrubbed
    outputs.append(r.stdout + r.stderr)
    assert r.returncode == 1 and "Hub upload failed" in r.stderr and "forbidden for Bearer ***" in r.stderr

    # ... and the token is never in our output or in any file we wrote
    assert all(FAKE_TOKEN not in o for o in outputs)
    for folder in (gguf_folder, dataset_folder, out):
        for p in folder.rglob("*"):
            if p.is_file(): assert FAKE_TOKEN.encode() not in p.read_bytes(), p
    assert FAKE_TOKEN.encode() not in hub.repos[("model", "me/agent-gguf")]["files"]["README.md"]


# ---------------------------------------------------------------- the previous stage's output, end to end

def test_convert_output_push_pull_registry(cli, tmp_path, tiny_model_dir):
    "specter-lab convert -> push --card -> pull -> registry on the pulled GGUF (verification off: no llama.cpp eval)."
    out, hub = tmp_path / "gguf", tmp_path / "hub"
    cli("convert", tiny_model_dir, "--output", out, "--quant", "q8_0", "--name", "tiny", "--no-verify",
        "--base-model", "HuggingFaceTB/SmolLM2-135M-Instruct", check=True)
    r = cli("push", out, "me/tiny-gguf", "--local-root", hub, "--card", check=True)
    assert "not verified against the trained model" in r.stderr
    card = (out / "README.md").read_text()
    assert "base_model: HuggingFaceTB/SmolLM2-135M-Instruct" in card and "| tiny-Q8_0.gguf | Q8_0 |" in card
    r = cli("pull", "me/tiny-gguf", "--out", tmp_path / "phone", "--local-root", hub, check=True)
    assert r.stdout.count("sha256 ok") == 2
    from specter_lab.registry import gguf_spec, recommend_quant
    spec = gguf_spec(tmp_path / "phone/tiny-Q8_0.gguf")
    assert (spec["arch"], spec["quant"], spec["n_layers"]) == ("llama", "Q8_0", 2)
    assert recommend_quant(tmp_path / "phone/tiny-Q8_0.gguf", 0.5)["quant"] == "Q8_0"

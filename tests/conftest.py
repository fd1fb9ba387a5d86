"""Shared pytest fixtures: the tiny model is built once, the real model is loaded once per session."""
import os, shutil, subprocess, sys
from pathlib import Path
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "specter_lab"]


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    "A random 2-layer llama with the embedded tokenizer, saved as a HF folder (built once)."
    from specter_lab.model import tiny_llama
    d = tmp_path_factory.mktemp("tiny-llama")
    tiny_llama(d)
    return d


@pytest.fixture(scope="session")
def embedded_gguf():
    from specter_lab.model import embedded_gguf
    return embedded_gguf()


@pytest.fixture(scope="session")
def real_llama(embedded_gguf):
    "The embedded model in llama.cpp, loaded once for the whole session."
    from specter_lab.model import load_llama
    return load_llama(embedded_gguf, n_ctx=2048)


def run_cli(*args, cwd=None, env=None, check=False, timeout=600):
    "Run `specter-lab ARGS` in a subprocess; return the CompletedProcess (text)."
    e = {**os.environ, **(env or {})}
    r = subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, cwd=cwd or ROOT, env=e, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError(f"specter-lab {' '.join(map(str, args))} exited {r.returncode}\n{r.stdout}\n{r.stderr}")
    return r


@pytest.fixture
def cli():
    return run_cli

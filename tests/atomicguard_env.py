"""The real AtomicGuard 2.39.1 in its own Python 3.12 venv, built once and cached (tests and benchmarks use it).

AtomicGuard needs Python >= 3.12; this machine has it at /root/.pyenv/versions/3.12.1 (or $SPECTER_LAB_PY312).
Its wheel declares heavy agent dependencies (openhands-ai, pydantic-ai, ...) that its artifact store and
`export_training` never import; the venv gets the real `atomicguard==2.39.1` wheel with `--no-deps` plus `rich`,
the one third-party module those imports need. First build: a few seconds from the pip cache.
"""
from __future__ import annotations
import fcntl, os, shutil, subprocess
from pathlib import Path

VERSION = "2.39.1"
PY312 = Path(os.environ.get("SPECTER_LAB_PY312", "/root/.pyenv/versions/3.12.1/bin/python"))
CHECK = f"import importlib.metadata as m, atomicguard.tools.export_training, atomicguard.infrastructure.persistence.filesystem; assert m.version('atomicguard') == '{VERSION}'"


def venv_dir() -> Path:
    from specter_lab.config import cache_dir
    return cache_dir()/f"atomicguard-{VERSION}-venv"


def atomicguard_python() -> Path:
    "The python of a venv holding AtomicGuard 2.39.1 (built on first use, under a lock)."
    if not PY312.exists(): raise FileNotFoundError(f"Python 3.12 not found at {PY312}")
    d = venv_dir(); py = d/"bin"/"python"
    ok = lambda: py.exists() and subprocess.run([py, "-c", CHECK], capture_output=True).returncode == 0
    if ok(): return py
    with open(str(d) + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if ok(): return py
        shutil.rmtree(d, ignore_errors=True)
        subprocess.run([PY312, "-m", "venv", d], check=True)
        for args in (["--no-deps", f"atomicguard=={VERSION}"], ["rich"]):
            r = subprocess.run([py, "-m", "pip", "install", "-q", *args], capture_output=True, text=True)
            if r.returncode != 0: break
        if r.returncode != 0 or not ok():
            raise RuntimeError(f"could not install atomicguard=={VERSION} into {d}:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
    return py

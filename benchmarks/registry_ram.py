"""RAM estimate of specter_lab.registry vs what llama.cpp allocates, on the embedded GGUF.

For each context length, a fresh process loads the embedded model in llama.cpp (verbose), evaluates one
token (so the mapped weights are paged in), and reports its RSS (after loading only, when the evaluation
crashes: exit code -4 is SIGILL from a llama.cpp build that uses instructions the VM refuses); llama.cpp's own log gives the sizes of
its model, KV-cache and compute buffers. Those are compared with `ram_needed`'s components.

Run: flock /tmp/specter-cpu.lock .venv/bin/python benchmarks/registry_ram.py
Writes benchmarks/results/registry_ram.json.
"""
import json, platform, re, subprocess, sys
from pathlib import Path

CHILD = r"""
import json, sys, psutil
from llama_cpp import Llama
from specter_lab.model import embedded_gguf
p = psutil.Process(); r0 = p.memory_info().rss
llm = Llama(model_path=str(embedded_gguf()), n_ctx=int(sys.argv[1]), n_threads=2, n_batch=512, verbose=True)
r1 = p.memory_info().rss
print("LOADED " + json.dumps({"rss_before": r0, "rss_loaded": r1}), flush=True)
llm.eval([llm.token_bos()])
r2 = p.memory_info().rss
print("RESULT " + json.dumps({"rss_before": r0, "rss_loaded": r1, "rss_after_eval": r2}), flush=True)
"""

MIB = 2**20


def llama_buffers(log: str) -> dict:
    "Buffer sizes (MiB) that llama.cpp logs while loading a model."
    pats = {"model": r"CPU_Mapped model buffer size =\s*([\d.]+) MiB", "kv_cache": r"CPU KV buffer size =\s*([\d.]+) MiB",
            "compute": r"CPU compute buffer size =\s*([\d.]+) MiB", "output": r"CPU\s+output buffer size =\s*([\d.]+) MiB"}
    return {k: float(m.group(1)) for k, pat in pats.items() if (m := re.search(pat, log))}


def main():
    from specter_lab.model import embedded_gguf
    from specter_lab.registry import ram_needed
    rows = []
    for n_ctx in (512, 2048, 8192):
        r = subprocess.run([sys.executable, "-c", CHILD, str(n_ctx)], capture_output=True, text=True, timeout=300)
        buf = llama_buffers(r.stderr)
        res = next((json.loads(l[7:]) for l in r.stdout.splitlines() if l.startswith("RESULT ")), None)
        loaded = next((json.loads(l[7:]) for l in r.stdout.splitlines() if l.startswith("LOADED ")), None)
        est = ram_needed(embedded_gguf(), n_ctx)
        row = {"n_ctx": n_ctx, "exit_code": r.returncode, "llama_cpp_MiB": buf,
               "estimate_MiB": {k: round(est[k] / MIB, 2) for k in ("weights", "kv_cache", "compute", "fixed", "total")}}
        if loaded and not res:   # the evaluation crashed (see exit_code): RSS after loading only
            row["rss_loaded_growth_MiB"] = round((loaded["rss_loaded"] - loaded["rss_before"]) / MIB, 1)
        if res:
            row["rss_MiB"] = {k: round(v / MIB, 1) for k, v in res.items()}
            row["rss_growth_MiB"] = round((res["rss_after_eval"] - res["rss_before"]) / MIB, 1)
            row["estimate_total_over_rss_growth"] = round(est["total"] / (res["rss_after_eval"] - res["rss_before"]), 3)
        llama_total = sum(buf.values())
        row["estimate_total_over_llama_buffers"] = round(est["total"] / MIB / llama_total, 3) if llama_total else None
        rows.append(row)
        print(json.dumps(row))
    out = {"model": str(embedded_gguf().name), "machine": platform.processor() or platform.machine(), "rows": rows}
    p = Path(__file__).parent / "results" / "registry_ram.json"
    p.parent.mkdir(exist_ok=True)
    p.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {p}")


if __name__ == "__main__":
    main()

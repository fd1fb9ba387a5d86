"""Prompt and generation tokens/s of llama.cpp (llama-cpp-python) on the embedded model.

Run: .venv/bin/python benchmarks/llama_tokens.py   (writes benchmarks/results/llama_tokens.json)
Prompt speed: a ~300-token multi-token prompt evaluated from an empty KV cache (the path whose native
build crashed with SIGILL); generation speed: 64 greedy tokens, one at a time.
"""
import json, os, platform, sys, time
from pathlib import Path
from specter_lab.model import embedded_gguf, load_llama
from specter_lab.files import write_json, sha256_file

def main(reps: int = 3):
    llm = load_llama(embedded_gguf(), n_ctx=2048)
    text = " ".join(f"Candidate {i} is a senior engineer at a stealth startup in fintech." for i in range(30))
    prompt = llm.tokenize(text.encode(), add_bos=True)
    pp, tg = [], []
    for _ in range(reps):
        llm.reset()
        t = time.perf_counter(); llm.eval(prompt); pp.append(len(prompt) / (time.perf_counter() - t))
        t = time.perf_counter(); n = 0
        for tok in llm.generate(prompt, temp=0.0, reset=True):
            n += 1
            if n == 64: break
        tg.append(64 / (time.perf_counter() - t))  # includes one prompt re-use (cached), dominated by 64 decode steps
    res = {"model": str(embedded_gguf().name), "prompt_tokens": len(prompt), "generated_tokens": 64,
           "prompt_tokens_per_s": round(max(pp), 1), "generation_tokens_per_s": round(max(tg), 1),
           "threads": os.cpu_count(), "cpu": platform.processor() or platform.machine(), "reps": reps,
           "cmake_args": os.popen(str(Path(__file__).parents[1] / "scripts" / "llama-cmake-args")).read().strip()}
    print(json.dumps(res, indent=2))
    write_json(Path(__file__).parent / "results" / "llama_tokens.json", res)
    return res

if __name__ == "__main__":
    main()

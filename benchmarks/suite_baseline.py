"""The bundled suites' baselines: the untuned embedded model's epsilon through llama.cpp, and the best constant answer.

The loop must lift epsilon from here (the untuned model gives almost no well-formed labelled answers). This checks that
the bundled deal-screening suite starts near 0 on held-out test phrasings and that a constant answer scores 0.5.

    python benchmarks/suite_baseline.py [--n 30]      -> benchmarks/results/suite_baseline.json
"""
import argparse, json, platform, sys, time
from pathlib import Path
from specter_lab.epsilon import best_constant, epsilon, failure_modes
from specter_lab.files import sha256_file, write_json
from specter_lab.model import EMBEDDED_NAME, embedded_gguf, load_llama
from specter_lab.suite import load_tasks, resolve_suite

OUT = Path(__file__).parent / "results" / "suite_baseline.json"


def run(llm, suite, n, max_tokens=48):
    tasks = load_tasks(suite, split="test")[:n]
    rows, t0, ntok = [], time.perf_counter(), 0
    for t in tasks:
        r = llm.create_chat_completion(t.messages, temperature=0.0, max_tokens=max_tokens, seed=0)
        out = r["choices"][0]["message"]["content"]
        ntok += r["usage"]["completion_tokens"]
        o = t.check(out)
        rows.append({"id": t.id, "label": t.label, "passed": o.passed, "feedback": o.feedback, "output": out,
                     "guard_result": o.to_dict()})
    dt = time.perf_counter() - t0
    eps = epsilon([r["passed"] for r in rows])
    const = best_constant([t.label for t in tasks])
    fm = failure_modes([r["guard_result"] for r in rows])
    starts = sum(r["output"].lstrip().startswith(("LIKE", "PASS")) for r in rows)
    print(f"{suite}: epsilon {eps['hat']:.3f} (95% CI {eps['ci95'][0]:.3f}-{eps['ci95'][1]:.3f}) on {len(rows)} test tasks; "
          f"best constant {const['share'] if const else None}; {len(rows)/dt:.2f} tasks/s")
    print(fm[["guard", "checked", "failed", "fail_rate"]].to_string(index=False))
    for r in rows[:3]: print("  ", repr(r["output"][:90]))
    return {"tasks": str(suite), "tasks_sha256": sha256_file(resolve_suite(suite)), "split": "test", "n": len(rows),
            "epsilon": eps, "best_constant": const, "answers_starting_with_LIKE_or_PASS": starts,
            "failure_modes": fm.drop(columns=["top_feedback"]).to_dict(orient="records"),
            "seconds": dt, "tasks_per_s": len(rows) / dt, "completion_tokens": ntok, "per_task": rows}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=30, help="test tasks per suite")
    p.add_argument("--threads", type=int, default=0, help="llama.cpp threads (0 = all cores)")
    p.add_argument("--out", default=str(OUT))
    a = p.parse_args(argv)
    llm = load_llama(embedded_gguf(), n_ctx=1024, seed=0, n_threads=a.threads)
    res = {"model": EMBEDDED_NAME, "gguf": embedded_gguf().name, "decoding": "greedy, max_tokens 48, seed 0",
           "machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count(), "threads": a.threads or __import__("os").cpu_count(),
                       "load_average_at_start": __import__("os").getloadavg()[0]},
           "suites": {s: run(llm, s, a.n) for s in ("deal_screening", "tool_calls")}}
    write_json(a.out, res)
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

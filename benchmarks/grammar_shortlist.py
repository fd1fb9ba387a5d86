"""What the grammar shortlist saves: the loop's first evaluation (the base model, greedy, within the suite's answer shape)
with a refused token picked again among the 256 most likely tokens first (`generate.GRAMMAR_SHORTLIST`), against
filtering the whole vocabulary each time (0, as before).

A base model writes prose where its answer shape wants JSON or a label, so llama.cpp's grammar refuses its pick at
many tokens, and each refusal filtered all 49k tokens of the vocabulary. For each suite this evaluates the base on the
test split as the loop's `eval_before` does (greedy, first attempts, the suite's `suite_shape`), once per setting on one
loaded model, and checks that every answer is the same text: the shortlist is exact, not an approximation.

    flock /tmp/specter-cpu.lock .venv/bin/python benchmarks/grammar_shortlist.py

Writes benchmarks/results/grammar_shortlist.json (block `grammar-shortlist` of benchmarks/README.md).
"""
from __future__ import annotations
import argparse, json, os, subprocess, sys, time
from pathlib import Path

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / 'benchmarks' / 'results' / 'grammar_shortlist.json'


def measure(gen, suite: str, shortlists=(0, 256)) -> dict:
    "Seconds of the base's greedy test evaluation within the suite's shape, per shortlist size; whether the answers agree."
    import specter_lab.generate as G
    from specter_lab.evaluate import evaluate
    row, texts, old = {'suite': Path(suite).stem, 'by_shortlist': {}}, {}, G.GRAMMAR_SHORTLIST
    try:
        for n in shortlists:
            G.GRAMMAR_SHORTLIST = n
            t0 = time.perf_counter()
            rep = evaluate(tasks=suite, split='test', rmax=0, generator=gen)
            row['by_shortlist'][str(n)] = {'seconds': round(time.perf_counter() - t0, 1), 'epsilon': rep['epsilon']['hat'],
                                           'generated_tokens': rep['timings']['completion_tokens']}
            row['shape'], row['test_tasks'] = rep['shape'] is not None, rep['n']
            texts[n] = [o['output'] for o in rep['outcomes']]
    finally:
        G.GRAMMAR_SHORTLIST = old
    row['same_answers'] = len({json.dumps(x) for x in texts.values()}) == 1
    return row


def table(res: dict) -> str:
    "The Markdown table of `res`: per suite, seconds with the whole vocabulary filtered and with the shortlist, and whether the answers agree."
    L = ['| suite | answer shape | test tasks | base ε | tokens generated | seconds: whole vocabulary → shortlist | same answers |',
         '|---|---|---|---|---|---|---|']
    for r in res['runs']:
        a, b = r['by_shortlist']['0'], r['by_shortlist']['256']
        L.append(f"| `{r['suite']}` | {'yes' if r['shape'] else 'no'} | {r['test_tasks']} | {a['epsilon']:.3f} | {a['generated_tokens']} | "
                 f"{a['seconds']:.1f} → {b['seconds']:.1f} ({a['seconds'] / max(b['seconds'], 1e-9):.2f}x) | {'yes' if r['same_answers'] else 'NO'} |")
    return '\n'.join(L)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--suites', default='incident_triage,payment_extraction,office_tools,runs/probe/parcel_status.jsonl',
                   help="comma-separated bundled suite names or suite files (runs/probe: benchmarks/probe_suites.py --write runs/probe)")
    p.add_argument('--results', default=str(OUT))
    a = p.parse_args()
    from specter_lab.config import Settings
    from specter_lab.generate import make_generator
    gen = make_generator(None, Settings())   # the embedded base, loaded once
    commit = subprocess.run(['git', 'rev-parse', 'HEAD'], cwd=ROOT, capture_output=True, text=True).stdout.strip() or None
    runs = []
    for suite in a.suites.split(','):
        r = measure(gen, suite) | {'commit': commit, 'load_average': os.getloadavg()[0]}
        runs.append(r); print(json.dumps(r), flush=True)
    res = {'runs': runs}
    Path(a.results).write_text(json.dumps(res, indent=1) + '\n')
    print(table(res))
    return 0 if all(r['same_answers'] for r in runs) else 1


if __name__ == '__main__':
    sys.exit(main())

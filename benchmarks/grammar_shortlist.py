"""What the grammar shortlist saves: the loop's first evaluation (the base model within the suite's answer shape) with a
refused token picked again among the 256 most likely tokens first (`generate.GRAMMAR_SHORTLIST`), against filtering the
whole vocabulary each time (0, as before).

A base model writes prose where its answer shape wants JSON or a label, so llama.cpp's grammar refuses its pick at
nearly every token, and each refusal filtered all 49k tokens of the vocabulary. For each suite this evaluates the base
on the test split as the loop's `eval_before` does (greedy, first attempts, the suite's `suite_shape`), and samples its
train split as the collect step does (`[eval] collect_temperature`, one answer per task), once per setting on one loaded
model, and checks that every answer is the same text: the shortlist is exact, not an approximation.

    flock /tmp/specter-cpu.lock .venv/bin/python benchmarks/grammar_shortlist.py
    flock /tmp/specter-cpu.lock .venv/bin/python benchmarks/grammar_shortlist.py --suites runs/probe/parcel_status.jsonl

Writes benchmarks/results/grammar_shortlist.json (block `grammar-shortlist` of benchmarks/README.md).
"""
from __future__ import annotations
import argparse, json, os, subprocess, sys, time
from pathlib import Path

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / 'benchmarks' / 'results' / 'grammar_shortlist.json'


def measure(gen, suite: str, shortlists=(0, 256)) -> dict:
    "Seconds of the base's test evaluation and train sampling within the suite's shape, per shortlist size; whether the answers agree."
    import specter_lab.generate as G
    from specter_lab.config import Settings
    from specter_lab.evaluate import evaluate
    from specter_lab.guarded import attempt_messages
    from specter_lab.shape import shape_grammar, suite_shape
    from specter_lab.suite import load_tasks, resolve_suite
    s = Settings()
    every = load_tasks(resolve_suite(suite))
    shape = suite_shape(every)
    train = [t for t in every if t.split == 'train']
    chats = [attempt_messages(t.messages, []) for t in train]
    grammars = [shape_grammar(shape, t.messages) for t in train] if shape else None
    budget = gen.fit_max_tokens([t.reference for t in train])
    row, texts = {'suite': Path(suite).stem, 'shape': bool(shape), 'test_tasks': None, 'train_tasks': len(train), 'by_shortlist': {}}, {}
    old = G.GRAMMAR_SHORTLIST
    try:
        for n in shortlists:
            G.GRAMMAR_SHORTLIST = n
            t0 = time.perf_counter()
            rep = evaluate(tasks=suite, split='test', rmax=0, generator=gen, settings=s)
            t_eval = time.perf_counter() - t0
            t0 = time.perf_counter()
            sampled = gen.generate(chats, temperature=s.eval.collect_temperature, seed=0, max_tokens=budget, grammars=grammars)
            t_collect = time.perf_counter() - t0
            row['test_tasks'] = rep['n']
            row['by_shortlist'][str(n)] = {'eval_seconds': round(t_eval, 1), 'collect_seconds': round(t_collect, 1),
                                           'epsilon': rep['epsilon']['hat'], 'generated_tokens': rep['timings']['completion_tokens']}
            texts[n] = ([o['output'] for o in rep['outcomes']], [g.text for g in sampled])
    finally:
        G.GRAMMAR_SHORTLIST = old
    first, *rest = texts.values()
    row['same_eval_answers'] = all(x[0] == first[0] for x in rest)
    row['same_sampled_answers'] = all(x[1] == first[1] for x in rest)
    return row


def table(res: dict) -> str:
    "The Markdown table of `res`: per suite, seconds with the whole vocabulary filtered and with the shortlist, and whether the answers agree."
    L = ['| suite | answer shape | base ε (test) | evaluation s: whole vocabulary → shortlist | sampling train s: whole → shortlist | same answers |',
         '|---|---|---|---|---|---|']
    for r in res['runs']:
        a, b = r['by_shortlist']['0'], r['by_shortlist']['256']
        L.append(f"| `{r['suite']}` | {'yes' if r['shape'] else 'no'} | {a['epsilon']:.3f} | {a['eval_seconds']:.1f} → {b['eval_seconds']:.1f} "
                 f"({a['eval_seconds'] / max(b['eval_seconds'], 1e-9):.1f}x) | {a['collect_seconds']:.1f} → {b['collect_seconds']:.1f} "
                 f"({a['collect_seconds'] / max(b['collect_seconds'], 1e-9):.1f}x) | "
                 f"{'yes' if r['same_eval_answers'] and r['same_sampled_answers'] else 'NO'} |")
    return '\n'.join(L)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--suites', default='incident_triage,payment_extraction,office_tools',
                   help="comma-separated bundled suite names or suite files")
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
    return 0 if all(r['same_eval_answers'] and r['same_sampled_answers'] for r in runs) else 1


if __name__ == '__main__':
    sys.exit(main())

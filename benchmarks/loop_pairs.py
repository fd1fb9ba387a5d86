"""Two versions of the loop, the same suite and seed, run by run, from two loop results files: what one change did.

    .venv/bin/python benchmarks/loop_pairs.py --before benchmarks/results/loop_shape.json --after benchmarks/results/loop_shape_collect.json \
        --results benchmarks/results/collect_shape.json
    .venv/bin/python benchmarks/loop_pairs.py --before benchmarks/results/loop_shape_collect.json --after benchmarks/results/loop_value_forms.json \
        --results benchmarks/results/value_forms.json
    .venv/bin/python benchmarks/loop_pairs.py --before benchmarks/results/loop_value_forms.json --after benchmarks/results/loop_collect_copies.json \
        --results benchmarks/results/collect_copies.json

Both files come from `benchmarks/loop_suites.py`, `--before` from commits without the change and `--after` from commits
with it (each row records its commit): collecting free (5b70e65) against collecting within the answer shape (936f24f on),
that shape without value forms against with them (8c3e4a9 on), and collecting within the whole shape against
collecting within it without its value forms (864c0c9, branch `exp/collect-copies`: 31e064b with that one change). For every suite and seed in both, it sets side by side
what the collect step gave and cost, round 1's dev ε and the best round's (the recipe's own judge: the test split is only
reported), the rounds the 20-minute budget let train, test ε after and whether every target was met. Writes `--results`
(a table of two results files: nothing is run); `benchmarks/readme_blocks.py --write` puts its table into the README.
"""
from __future__ import annotations
import argparse, json, sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import loop_suites   # noqa: E402


def side(run: dict) -> dict:
    "What one loop run's collect step gave and cost, and what training made of it."
    best = run['rounds'][run['best_round'] - 1]
    return {'commit': run['commit'], 'collect_seconds': run['seconds']['collect'], 'trace_pairs': run['trace_pairs'],
            'round1_dev_epsilon': run['rounds'][0]['dev_epsilon'], 'best_dev_epsilon': best['dev_epsilon'], 'rounds': len(run['rounds']),
            'best_round': run['best_round'], 'test_epsilon_after': run['epsilon_after']['hat'], 'targets_met': run['verdict']['passed'],
            'wall_minutes': run['wall_minutes']}


def pair(before: dict, after: dict) -> dict:
    "The rows of the suites and seeds both results files ran."
    f = {(r['suite'], r['seed']): r for r in before['runs'] if 'error' not in r}
    return {'runs': [{'suite': r['suite'], 'seed': r['seed'], 'before': side(f[(r['suite'], r['seed'])]), 'after': side(r)}
                     for r in sorted(after['runs'], key=lambda r: (r['suite'], r['seed'])) if (r['suite'], r['seed']) in f and 'error' not in r]}


def table(res: dict) -> str:
    "The README table: before -> after, per suite and seed."
    rows = ["| suite | seed | collect seconds | trace pairs | round 1 dev ε | best round's dev ε | rounds trained | test ε after | targets met |",
            "|---|---|---|---|---|---|---|---|---|"]
    for r in res['runs']:
        a, b = r['before'], r['after']
        rows.append(f"| `{r['suite']}` | {r['seed']} | {a['collect_seconds']:.0f} -> {b['collect_seconds']:.0f} | {a['trace_pairs']} -> {b['trace_pairs']} | "
                    f"{a['round1_dev_epsilon']:.3f} -> {b['round1_dev_epsilon']:.3f} | {a['best_dev_epsilon']:.3f} -> {b['best_dev_epsilon']:.3f} | "
                    f"{a['rounds']} -> {b['rounds']} | {a['test_epsilon_after']:.3f} -> {b['test_epsilon_after']:.3f} | "
                    f"{'yes' if a['targets_met'] else 'no'} -> {'yes' if b['targets_met'] else 'no'} |")
    return '\n'.join(rows + ([''] + [counts(res['runs'])] if len(res['runs']) > 1 else []))


def counts(runs: list) -> str:
    "The table in one sentence: how many runs rose and fell on test ε (with a sign test) and on the best round's dev ε, and how many met every target."
    from scipy.stats import binomtest
    def moved(k):
        d = [r['after'][k] - r['before'][k] for r in runs]
        return sum(x > 1e-9 for x in d), sum(x < -1e-9 for x in d)
    (up, down), (dup, ddown) = moved('test_epsilon_after'), moved('best_dev_epsilon')
    p = binomtest(up, up + down).pvalue if up + down else 1.0
    met = [sum(r[s]['targets_met'] for r in runs) for s in ('before', 'after')]
    return (f"Over these {len(runs)} runs, test ε after rose on {up} and fell on {down} (sign test, ties left out: p = {p:.2g}); "
            f"the best round's dev ε rose on {dup} and fell on {ddown}; {met[0]} of them met every target before, {met[1]} after.")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--before', required=True, nargs='+', help="loop results file(s) of the runs without the change (several: merged, a later file's run of a suite and seed wins)")
    p.add_argument('--after', required=True, nargs='+', help="loop results file(s) of the runs with it (several: merged as --before's)")
    p.add_argument('--suites', help="only these suites' runs (comma-separated names; default: every suite both sides ran)")
    p.add_argument('--results', required=True, help="the paired results file to write")
    a = p.parse_args()
    before, after = loop_suites.read_results(a.before), loop_suites.read_results(a.after)
    if a.suites: after['runs'] = [r for r in after['runs'] if r['suite'] in a.suites.split(',')]
    res = pair(before, after)
    Path(a.results).write_text(json.dumps(res, indent=1) + '\n')
    print(table(res))
    return 0


if __name__ == '__main__':
    sys.exit(main())

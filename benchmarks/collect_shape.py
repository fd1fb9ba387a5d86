"""Collecting within the answer shape against collecting free: the same suite and seed, run by run, from two loop results files.

    .venv/bin/python benchmarks/collect_shape.py --free benchmarks/results/loop_shape.json --shaped benchmarks/results/loop_shape_collect.json --readme README.md

Both files come from `benchmarks/loop_suites.py`: `--free` from commits whose collect step sampled free (every evaluation
already within the shape, 5b70e65), `--shaped` from commits whose collect step samples within it too (936f24f on). For every
suite and seed in both, it sets side by side what the collect step gave and cost, round 1's dev ε (the recipe's own
judge: the test split is only reported), the rounds the 20-minute budget let train, test ε after and whether every
target was met. Writes benchmarks/results/collect_shape.json, and with `--readme` the Markdown table generated from it
(a table of two results files: nothing is run).
"""
from __future__ import annotations
import argparse, json, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / 'benchmarks' / 'results' / 'collect_shape.json'


def side(run: dict) -> dict:
    "What one loop run's collect step gave and cost, and what training made of it."
    return {'commit': run['commit'], 'collect_seconds': run['seconds']['collect'], 'trace_pairs': run['trace_pairs'],
            'round1_dev_epsilon': run['rounds'][0]['dev_epsilon'], 'rounds': len(run['rounds']), 'best_round': run['best_round'],
            'test_epsilon_after': run['epsilon_after']['hat'], 'targets_met': run['verdict']['passed'], 'wall_minutes': run['wall_minutes']}


def pair(free: dict, shaped: dict) -> dict:
    "The rows of the suites and seeds both results files ran."
    f = {(r['suite'], r['seed']): r for r in free['runs']}
    return {'runs': [{'suite': r['suite'], 'seed': r['seed'], 'free': side(f[(r['suite'], r['seed'])]), 'shaped': side(r)}
                     for r in sorted(shaped['runs'], key=lambda r: (r['suite'], r['seed'])) if (r['suite'], r['seed']) in f]}


def table(res: dict) -> str:
    "The README table: free -> within the shape, per suite and seed."
    rows = ["| suite | seed | collect seconds | trace pairs | round 1 dev ε | rounds trained | test ε after | targets met |", "|---|---|---|---|---|---|---|---|"]
    for r in res['runs']:
        a, b = r['free'], r['shaped']
        rows.append(f"| `{r['suite']}` | {r['seed']} | {a['collect_seconds']:.0f} -> {b['collect_seconds']:.0f} | {a['trace_pairs']} -> {b['trace_pairs']} | "
                    f"{a['round1_dev_epsilon']:.3f} -> {b['round1_dev_epsilon']:.3f} | {a['rounds']} -> {b['rounds']} | "
                    f"{a['test_epsilon_after']:.3f} -> {b['test_epsilon_after']:.3f} | {'yes' if a['targets_met'] else 'no'} -> {'yes' if b['targets_met'] else 'no'} |")
    return '\n'.join(rows)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--free', required=True, help="loop results file whose runs collected free")
    p.add_argument('--shaped', required=True, help="loop results file whose runs collected within the shape")
    p.add_argument('--results', default=str(OUT))
    p.add_argument('--readme', help="also write the table into this README (between <!-- collect-shape --> markers)")
    a = p.parse_args()
    res = pair(*(json.loads(Path(x).read_text()) for x in (a.free, a.shaped)))
    Path(a.results).write_text(json.dumps(res, indent=1) + '\n')
    if a.readme:
        from specter_lab.loop import replace_block
        if not replace_block(a.readme, 'collect-shape', table(res)): sys.exit(f"{a.readme}: no <!-- collect-shape --> markers")
    print(table(res))
    return 0


if __name__ == '__main__':
    sys.exit(main())

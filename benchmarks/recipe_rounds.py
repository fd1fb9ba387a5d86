"""On-policy rounds with and without mirror pairs (`[data] mirror`): dev ε and lowest dev recall after each round.

    flock /tmp/specter-cpu.lock .venv/bin/python benchmarks/recipe_rounds.py [--suite ticket_routing] [--seed 0] [--work runs/recipe]

Runs `specter-lab loop --until train` twice on the same suite and seed (same first round: the traces' pairs and
the balanced contrast pairs), once per value of `[data] mirror`, three rounds at most; a folder whose train step
has finished is read, not rerun (`--mirror-run` / `--plain-run` name existing folders, e.g. of a whole loop).
Only the dev split is read. Writes benchmarks/results/recipe_rounds.json.
"""
from __future__ import annotations
import argparse, json, os, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / 'benchmarks' / 'results' / 'recipe_rounds.json'
KEEP = ('round', 'pairs', 'steps', 'train_seconds', 'dev_epsilon', 'dev_ci95', 'dev_min_recall')


def rounds(run: Path, suite: str, seed: int, mirror: bool) -> dict:
    "The train step's rounds of `run` (run up to the train step first when it has not finished)."
    step = run / '4_train' / 'step.json'
    if not step.is_file():
        r = subprocess.run([sys.executable, '-m', 'specter_lab', 'loop', '--tasks', suite, '--output', str(run), '--until', 'train',
                            '--set', f'data.seed={seed}', '--set', f'dpo.seed={seed}', '--set', f'data.mirror={str(mirror).lower()}',
                            '--set', 'dpo.rounds=3'], cwd=ROOT, capture_output=True, text=True)
        if r.returncode: return {'error': (r.stderr or r.stdout).strip().splitlines()[-1:]}
    t = json.loads(step.read_text())
    cfg = json.loads((run / 'loop.json').read_text())['settings']
    return {'run': str(run.resolve().relative_to(ROOT)) if run.resolve().is_relative_to(ROOT) else str(run), 'mirror': mirror, 'precision': cfg['dpo'].get('precision', 'fp32'), 'best_round': t['best_round'],
            'rounds': [{k: x.get(k) for k in KEEP} | {k: x.get('next', {}).get(k) for k in ('onpolicy_pairs', 'mirror_pairs', 'contrast_pairs')}
                       for x in t['rounds']]}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--suite', default='ticket_routing')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--work', default='runs/recipe')
    p.add_argument('--mirror-run', help="an existing run folder made with [data] mirror = true")
    p.add_argument('--plain-run', help="an existing run folder made with [data] mirror = false")
    a = p.parse_args(argv)
    w = ROOT / a.work
    res = {'suite': a.suite, 'seed': a.seed, 'load_average': os.getloadavg(),
           'mirror': rounds(Path(a.mirror_run) if a.mirror_run else w / f'{a.suite}-s{a.seed}-mirror', a.suite, a.seed, True),
           'plain': rounds(Path(a.plain_run) if a.plain_run else w / f'{a.suite}-s{a.seed}-plain', a.suite, a.seed, False)}
    OUT.write_text(json.dumps(res, indent=1) + '\n')
    print(json.dumps(res, indent=1))
    return 0


if __name__ == '__main__':
    sys.exit(main())

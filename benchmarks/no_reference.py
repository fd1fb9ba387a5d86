"""Learning without gold answers: the loop with the reference fallback switched off, per bundled suite.

    flock /tmp/specter-cpu.lock .venv/bin/python benchmarks/no_reference.py [--suites a,b] [--work runs/bench/noref]

Each run is `specter-lab loop --tasks SUITE --output WORK/SUITE --set data.reference=false`: the chosen side of every
pair is an accepted retry (self-repair with the guards' feedback), never a reference answer; no contrast pairs, no
on-policy rounds. (In a cycle, upstream answers from the serve log join them.) A finished run folder is resumed.
Writes benchmarks/results/no_reference.json: per suite ε before and after on the test split with intervals, Δε and
McNemar's p, the pairs the retries gave, and seconds; or the loop's error (e.g. no pair at all when the base model
never repairs an answer).
"""
from __future__ import annotations
import argparse, json, os, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / 'benchmarks' / 'results' / 'no_reference.json'


def run_one(suite: str, work: Path) -> dict:
    "One loop run without references (resumed when its folder exists): what moved, or why nothing could."
    out = work / suite
    t0 = time.time()
    r = subprocess.run([sys.executable, '-m', 'specter_lab', 'loop', '--tasks', suite, '--output', str(out), '--set', 'data.reference=false'],
                       cwd=ROOT, capture_output=True, text=True)
    if r.returncode != 0:
        return {'suite': suite, 'error': (r.stderr or r.stdout).strip().splitlines()[-1:], 'seconds': round(time.time() - t0, 1)}
    s = json.loads((out / 'summary.json').read_text())
    return {'suite': suite, 'before': s['epsilon_before'], 'after': s['epsilon_after'], 'compare': s['compare'], 'pairs': s['pairs'],
            'trace_pairs': s['trace_pairs'], 'baseline': s.get('baseline'), 'gguf': s['gguf'], 'seconds': s['seconds'], 'load_average': os.getloadavg()}


def main(argv=None) -> int:
    from specter_lab.suite import bundled_names
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--suites', default=','.join(n for n in bundled_names()), help="comma-separated suites (default: every bundled suite)")
    p.add_argument('--work', default=str(ROOT / 'runs' / 'bench' / 'noref'))
    a = p.parse_args(argv)
    runs = []
    for suite in [x.strip() for x in a.suites.split(',') if x.strip()]:
        runs.append(run_one(suite, Path(a.work)))
        print(json.dumps({k: runs[-1].get(k) for k in ('suite', 'error', 'pairs')} | ({'delta': runs[-1]['compare']['delta']} if 'compare' in runs[-1] else {})), flush=True)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({'command': 'benchmarks/no_reference.py --suites ' + a.suites, 'runs': runs}, indent=2, ensure_ascii=False) + '\n')
    print(f"-> {OUT}")
    return 0


if __name__ == '__main__':
    sys.exit(main())

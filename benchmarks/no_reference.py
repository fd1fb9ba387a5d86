"""Learning without gold answers: one cycle per bundled suite with the reference fallback switched off.

    flock /tmp/specter-cpu.lock .venv/bin/python benchmarks/no_reference.py [--suites a,b] [--work runs/bench/noref]

Each run is `specter-lab cycle --lab WORK/SUITE --tasks SUITE --set data.reference=false` on a new lab (v0 = the
embedded base as shipped): the chosen side of every pair is an accepted retry (self-repair with the guards' feedback,
all `[eval] rmax` retries), never a reference answer; no contrast pairs, no on-policy rounds. (In production, upstream
answers from the serve log join them through `--log`/`--dag`.) A finished lab is resumed, and every suite's result is
written as soon as it is known. Writes benchmarks/results/no_reference.json: per suite ε of v0 and of the candidate on
the test split with intervals, Δε with McNemar's p, the pairs the retries gave, the gate's decision, and seconds; or
the cycle's error (e.g. no pair at all when the base model never repairs an answer).
"""
from __future__ import annotations
import argparse, json, os, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / 'benchmarks' / 'results' / 'no_reference.json'


def _collect(step: Path) -> dict:
    "Tasks collected, first attempts passed, passed after retries, and seconds per attempt round, from the collect step."
    c = json.loads(step.read_text())
    return {k: c[k] for k in ('tasks', 'first_attempt_passed', 'passed_after_retries', 'seconds')} | {'round_seconds': [round(r['seconds'], 1) for r in c['rounds']]}


def run_one(suite: str, work: Path) -> dict:
    "One cycle without references (resumed when its lab has v1): what moved, or why nothing could."
    from specter_lab.evaluate import compare_reports, read_report
    lab = work / suite
    summ = lab / 'cycles' / 'v1' / 'summary.json'
    t0 = time.time()
    if not summ.is_file():
        r = subprocess.run([sys.executable, '-m', 'specter_lab', 'cycle', '--lab', str(lab), '--tasks', suite, '--set', 'data.reference=false'],
                           cwd=ROOT, capture_output=True, text=True)
        work.mkdir(parents=True, exist_ok=True)
        (work / f'{suite}.log').write_text(r.stdout + r.stderr)
        if r.returncode != 0:
            col = lab / 'cycles' / 'v1' / '2_collect' / 'step.json'   # what the retries gave, when collecting finished
            return {'suite': suite, 'error': (r.stderr or r.stdout).strip().splitlines()[-1:], 'seconds': round(time.time() - t0, 1),
                    'load_average': os.getloadavg()} | ({'collect': _collect(col)} if col.is_file() else {})
    s = json.loads(summ.read_text())
    ex = json.loads((lab / 'cycles' / 'v1' / '3_extract' / 'step.json').read_text())
    col = _collect(lab / 'cycles' / 'v1' / '2_collect' / 'step.json')
    c = compare_reports(read_report(lab / 'evals' / 'v0' / f'{suite}.test.json'), read_report(lab / 'evals' / 'v1' / f'{suite}.test.json'))
    return {'suite': suite, 'before': c['before'], 'after': c['after'], 'compare': {k: c[k] for k in ('delta', 'delta_ci95', 'mcnemar_p', 'paired')},
            'pairs': ex['pairs'], 'trace_pairs': ex['trace_pairs'], 'collect': col,
            'promoted': s['promoted'], 'reason': s['reason'], 'cycle_seconds': s['cycle_seconds'], 'seconds': s['seconds'],
            'load_average': os.getloadavg()}


def main(argv=None) -> int:
    from specter_lab.suite import bundled_names
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--suites', default=','.join(n for n in bundled_names()), help="comma-separated suites (default: every bundled suite)")
    p.add_argument('--work', default=str(ROOT / 'runs' / 'bench' / 'noref'))
    a = p.parse_args(argv)
    suites = [x.strip() for x in a.suites.split(',') if x.strip()]
    prev = {r['suite']: r for r in json.loads(OUT.read_text()).get('runs', [])} if OUT.is_file() else {}
    runs = []
    for suite in suites:
        runs.append(run_one(suite, Path(a.work)))
        print(json.dumps({k: runs[-1].get(k) for k in ('suite', 'error', 'pairs')} | ({'delta': runs[-1]['compare']['delta']} if 'compare' in runs[-1] else {})), flush=True)
        done = {r['suite'] for r in runs}
        # suites measured by an earlier invocation stay in the file
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(json.dumps({'command': 'benchmarks/no_reference.py', 'machine': {'cpus': os.cpu_count()},
                                   'runs': [*runs, *(r for n,r in prev.items() if n not in done)]}, indent=2, ensure_ascii=False, default=str) + '\n')
    print(f"-> {OUT}")
    return 0


if __name__ == '__main__':
    sys.exit(main())

"""Two release cycles on the embedded model, and a useless candidate the gate must reject (issue 15's targets).

    flock /tmp/specter-cpu.lock .venv/bin/python benchmarks/cycles.py [--first deal_screening] [--second ticket_routing] [--work runs/bench/cycles]

1. `specter-lab cycle --lab WORK/lab --tasks FIRST`: a new lab (v0 = the embedded base as shipped), one cycle on FIRST.
2. `specter-lab cycle --lab WORK/lab --tasks SECOND --regression FIRST`: trained from the shipped version; the gate
   asks for a better SECOND (McNemar p < 0.01) and a non-inferior FIRST (paired dev ε, margin 0.02).
3. `specter-lab cycle --lab WORK/lab --tasks SECOND --regression FIRST --set dpo.learning_rate=1e-9`: a candidate that
   learns nothing; the gate must reject it and the shipped version must stay.

Every cycle runs with the default recipe (settings.ini). A finished lab folder is resumed (a cycle whose version
exists is not rerun). Writes benchmarks/results/cycles.json: per cycle its summary (version, parent, decision and
reason, the gate's checks, test ε per suite with intervals, data per objective, seconds per step), the final
`specter-lab versions --json`, and the targets checked: cycle 2's Δε ≥ +0.30 with p < 0.01 on SECOND (test split,
against the version it started from) and non-inferior on FIRST; the useless candidate rejected with the pointer
unchanged; each cycle ≤ 12 minutes; and every promoted version recalls every label of each label suite (test split, ≥ 0.5):
the gate must not promote a collapse onto one label.
"""
from __future__ import annotations
import argparse, json, os, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / 'benchmarks' / 'results' / 'cycles.json'


def cycle(lab: Path, version: str, args: list[str]) -> dict:
    "One `specter-lab cycle` (skipped when `version` exists in the lab); its summary, exit code and wall seconds."
    summ = lab / 'cycles' / version / 'summary.json'
    if (lab / 'versions' / version / 'version.json').is_file() and summ.is_file():
        return {**json.loads(summ.read_text()), 'resumed': True}
    t0 = time.time()
    r = subprocess.run([sys.executable, '-m', 'specter_lab', 'cycle', '--lab', str(lab), *args], cwd=ROOT, capture_output=True, text=True)
    (lab.parent / f'{version}.log').write_text(r.stdout + r.stderr)   # what the cycle printed, for a failed one too
    if r.returncode != 0:
        return {'version': version, 'error': (r.stderr or r.stdout).strip().splitlines()[-1:], 'seconds': round(time.time() - t0, 1)}
    return {**json.loads(summ.read_text()), 'wall_seconds': round(time.time() - t0, 1), 'load_average': os.getloadavg()}


def test_delta(lab: Path, parent: str, version: str, suite: str) -> dict:
    "Δε on the test split of `suite`, `version` against `parent`, with McNemar's p (paired by task)."
    from specter_lab.evaluate import compare_reports, read_report
    c = compare_reports(read_report(lab / 'evals' / parent / f'{suite}.test.json'), read_report(lab / 'evals' / version / f'{suite}.test.json'))
    return {k: c[k] for k in ('delta', 'delta_ci95', 'mcnemar_p', 'paired', 'n_paired')} | {'before': c['before']['hat'], 'after': c['after']['hat']}


def answers(lab: Path, version: str) -> dict:
    "Per suite, from `version`'s test reports: the best constant answer's ε and how often each label was given (a collapse onto one label shows here)."
    out = {}
    for f in sorted((lab / 'evals' / version).glob('*.test.json')):
        r = json.loads(f.read_text())
        out[f.name.removesuffix('.test.json')] = {'epsilon': r['epsilon']['hat'], 'n': r['n'], 'best_constant': (r.get('baseline') or {}).get('epsilon'),
                                                  'labels_given': (r.get('labels') or {}).get('given'), 'min_recall': (r.get('labels') or {}).get('min_recall')}
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--first', default='deal_screening', help="suite of cycle 1 (the regression suite of cycles 2 and 3)")
    p.add_argument('--second', default='ticket_routing', help="target suite of cycles 2 and 3")
    p.add_argument('--work', default=str(ROOT / 'runs' / 'bench' / 'cycles'))
    a = p.parse_args(argv)
    lab = Path(a.work) / 'lab'
    # a resumed cycle keeps the wall seconds and load average its run recorded here
    prev = {c['version']: c for c in json.loads(OUT.read_text()).get('cycles', [])} if OUT.is_file() else {}
    runs,shipped = [],{}
    for v,args in (('v1', ['--tasks', a.first]), ('v2', ['--tasks', a.second, '--regression', a.first]),
                   ('v3', ['--tasks', a.second, '--regression', a.first, '--set', 'dpo.learning_rate=1e-9'])):
        if runs and 'error' in runs[-1]:   # a later cycle would start from another version than planned: stop
            runs.append({'version': v, 'error': [f"not run: {runs[-1]['version']} failed"]}); continue
        shipped[v] = json.loads((lab / 'shipped.json').read_text())['version'] if (lab / 'shipped.json').is_file() else None
        runs.append(cycle(lab, v, args))
        if runs[-1].get('resumed'): runs[-1] |= {k: prev[v][k] for k in ('wall_seconds', 'load_average') if k in prev.get(v, {})}
        print(json.dumps({k: runs[-1].get(k) for k in ('version', 'promoted', 'reason', 'cycle_seconds', 'error')}), flush=True)
    shipped_before = shipped.get('v3')
    shipped_after = json.loads((lab / 'shipped.json').read_text())['version'] if (lab / 'shipped.json').is_file() else None
    for r in runs:
        if 'error' not in r: r['answers'] = answers(lab, r['version'])
    vs = subprocess.run([sys.executable, '-m', 'specter_lab', 'versions', '--lab', str(lab), '--json'], cwd=ROOT, capture_output=True, text=True)
    versions = json.loads(vs.stdout) if vs.returncode == 0 else {'error': vs.stderr.strip()}
    c2 = runs[1]
    checks = {}
    if 'error' not in c2:
        d2 = test_delta(lab, c2['parent'], c2['version'], a.second)
        reg = next((c for c in c2['gate']['checks'] if c['suite'] == a.first), None)
        checks = {'cycle2_test_delta': d2, 'cycle2_improves_target': d2['delta'] >= 0.30 and d2['mcnemar_p'] < 0.01,
                  'cycle2_non_inferior_on_first': bool(reg and reg['passed']), 'cycle2_promoted': c2['promoted']}
    checks['useless_rejected'] = 'error' not in runs[2] and not runs[2]['promoted']
    checks['pointer_unchanged_by_useless'] = 'error' not in runs[2] and shipped_before == shipped_after
    # on the suites its gate judged (a version measured later on a suite it never learned, as the shipped one, does not count)
    checks['promoted_recall_every_label'] = all(x['min_recall'] is None or x['min_recall'] >= 0.5 for r in runs if r.get('promoted')
                                                for k in r['gate']['checks'] if (x := r['answers'].get(k['suite'])))
    checks['each_cycle_within_12_min'] = all('error' not in r and r['cycle_seconds'] <= 720 for r in runs)
    checks['cycle_minutes'] = [round(r['cycle_seconds'] / 60, 1) if 'cycle_seconds' in r else None for r in runs]
    res = {'command': f"benchmarks/cycles.py --first {a.first} --second {a.second}", 'machine': {'cpus': os.cpu_count()},
           'load_average_at_end': os.getloadavg(), 'cycles': runs, 'versions': versions, 'checks': checks, 'passed': all(v for k,v in checks.items() if isinstance(v, bool))}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(res, indent=2, ensure_ascii=False, default=str) + '\n')
    print(json.dumps(checks, indent=2, default=str))
    print(f"-> {OUT}")
    return 0


if __name__ == '__main__':
    sys.exit(main())

"""What the answer shape adds: each loop run's start model and shipped file evaluated once more, free or within the shape the code learns now.

    flock /tmp/specter-cpu.lock .venv/bin/python benchmarks/shape_effect.py --runs benchmarks/results/loop_shape.json
    flock /tmp/specter-cpu.lock .venv/bin/python benchmarks/shape_effect.py --variant forms --runs benchmarks/results/loop_shape_collect.json --suites office_tools,payment_extraction
    flock /tmp/specter-cpu.lock .venv/bin/python benchmarks/shape_effect.py --variant read --runs benchmarks/results/loop_collect_copies.json --suites payment_extraction
    flock /tmp/specter-cpu.lock .venv/bin/python benchmarks/shape_effect.py --variant digits --runs benchmarks/results/loop_digits_before.json

The loop evaluates everything within the suite's answer shape (chapter `shape`): its ε before and after are both decoded
that way. For every run of the loop results file (`--runs`; its run folders must exist, run from the folder they were
made in; `--suites` keeps some), this evaluates the start model and the shipped file once more on the same tasks, and
sets each new report against the run's own (`compare_reports`: ε, and the tasks lost and gained, McNemar's p):

- `--variant free` (the default): on the test split with `[eval] shape = false`; written to
  benchmarks/results/shape_effect.json, block `shape-effect` of benchmarks/README.md;
- `--variant forms`: within the shape `shape.suite_shape` learns now (with its value forms: the enum of a closed set,
  the pattern of values written alike), on the test split and, for the shipped file, on the dev split too: the split a
  recipe choice is made on; written to benchmarks/results/shape_forms.json, block `shape-forms`;
- `--variant read`: the same, from the commit where the shape reads numbers and dates from the request
  (`shape.read_paths`); written to benchmarks/results/shape_read.json, block `shape-read`;
- `--variant dates`: the same, from the commit where a date is read from numbers and a month name written together,
  each used once (`shape.request_dates`); benchmarks/results/shape_dates.json, block `shape-dates`;
- `--variant digits`: the same, from the commit where, of several JSON shapes, one whose copied value writes a digit in
  every train and dev answer (a time) is left out for a request that writes no digit (`shape.copied_digits`);
  benchmarks/results/shape_digits.json, block `shape-digits`;
- `phrases` (block `shape-phrases`, benchmarks/results/shape_phrases.json): the dates and span forms of branch
  exp/span-forms (`shape.span_forms`: a copied span in the form of the train and dev values at its path), measured by
  this script as that branch has it (`--variant phrases` there); here only its table is made.

Each row has the commit and load average of its invocation; `benchmarks/readme_blocks.py --write` puts the tables into
benchmarks/README.md.
"""
from __future__ import annotations
import argparse, json, os, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = {'free': {'shape': False, 'results': 'shape_effect.json'},
            'forms': {'shape': None, 'results': 'shape_forms.json'},
            'read': {'shape': None, 'results': 'shape_read.json'},
            'dates': {'shape': None, 'results': 'shape_dates.json'},
            'digits': {'shape': None, 'results': 'shape_digits.json'}}


def effect(run: dict, variant: str) -> dict:
    "One run's row: for the start model on test and the shipped file on test (and, for `forms`, on dev), ε of the run's report and of the new one, and their paired count."
    from specter_lab.evaluate import compare_reports, evaluate
    from specter_lab.files import read_json
    folder = Path(run['run'])
    before, after = read_json(folder / '1_eval_before' / 'step.json'), read_json(folder / '6_eval_after' / 'step.json')
    cases = [('before', before, 'test', folder / '1_eval_before' / 'report.json'), ('after', after, 'test', folder / '6_eval_after' / 'report.json')]
    if variant != 'free': cases.insert(1, ('after_dev', after, 'dev', folder / '6_eval_after' / f"{after['name']}.dev.json"))
    row = {'suite': run['suite'], 'seed': run['seed'], 'run': run['run'], 'shipped': run['gguf']}
    for key, st, split, stored in cases:
        old = read_json(stored)
        new = evaluate(st['model'], run['tasks'], split=split, rmax=0, adapter=st.get('adapter'), shape=VARIANTS[variant]['shape'],
                       output=stored.with_name(f"{stored.stem}-{variant}.json"))
        c = compare_reports(*((new, old) if variant == 'free' else (old, new)))   # (without, with): 'gained' are the tasks the shape, or the value forms, won
        row[key] = {'run': old['epsilon']['hat'], variant: new['epsilon']['hat'], 'n': new['n'], 'split': split,
                    'shape_on': old.get('shape') is not None, 'paired': c['paired'], 'mcnemar_p': c['mcnemar_p']}
    return row


def table(res: dict, variant: str) -> str:
    "The README table: per run, ε of the start model and of the shipped file in the run and evaluated anew."
    runs = sorted(res['runs'], key=lambda r: (r['suite'], r['seed']))
    if variant == 'free':
        rows = ["| suite | seed | start model, free | start model, within the shape | shipped file, free | shipped file, within the shape | shipped: tasks the shape won / lost (McNemar p) |",
                "|---|---|---|---|---|---|---|"]
        for r in runs:
            b, a = r['before'], r['after']
            rows.append(f"| `{r['suite']}` | {r['seed']} | {b['free']:.3f} | {b['run']:.3f} | {a['free']:.3f} | {a['run']:.3f} | "
                        f"{a['paired']['gained']} / {a['paired']['lost']} ({a['mcnemar_p']:.2g}) |")
        return '\n'.join(rows)
    won = {'forms': 'the value forms', 'read': 'reading numbers and dates', 'phrases': 'dates written together and span forms', 'dates': 'dates written together', 'digits': 'leaving out a shape whose copied value needs a digit'}[variant]
    rows = [f"| suite | seed | start model, test | shipped file, dev | shipped file, test | shipped, test: tasks {won} won / lost (McNemar p) |",
            "|---|---|---|---|---|---|"]
    for r in runs:
        b, d, a = r['before'], r['after_dev'], r['after']
        rows.append(f"| `{r['suite']}` | {r['seed']} | {b['run']:.3f} -> {b[variant]:.3f} | {d['run']:.3f} -> {d[variant]:.3f} | "
                    f"{a['run']:.3f} -> {a[variant]:.3f} | {a['paired']['gained']} / {a['paired']['lost']} ({a['mcnemar_p']:.2g}) |")
    return '\n'.join(rows)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--variant', choices=list(VARIANTS), default='free')
    p.add_argument('--runs', required=True, help="a loop results file (benchmarks/loop_suites.py --results) whose runs to evaluate anew")
    p.add_argument('--suites', help="comma-separated suites of --runs to evaluate (default: all)")
    p.add_argument('--results', help="the results file (default: benchmarks/results/ shape_effect.json or shape_forms.json, by --variant)")
    a = p.parse_args()
    v = VARIANTS[a.variant]
    results = Path(a.results or ROOT / 'benchmarks' / 'results' / v['results'])
    res = json.loads(results.read_text()) if results.is_file() else {'runs': []}
    commit = subprocess.run(['git', 'rev-parse', 'HEAD'], cwd=ROOT, capture_output=True, text=True).stdout.strip() or None
    keep = set(a.suites.split(',')) if a.suites else None
    for run in json.loads(Path(a.runs).read_text())['runs']:
        if keep and run['suite'] not in keep: continue
        row = effect(run, a.variant) | {'commit': commit, 'load_average': os.getloadavg()}
        res['runs'] = [r for r in res['runs'] if (r['suite'], r['seed']) != (row['suite'], row['seed'])] + [row]
        results.write_text(json.dumps(res, indent=1) + '\n')
        print(json.dumps({k: row[k] for k in ('suite', 'seed')} | {k: {x: row[k][x] for x in ('run', a.variant)} for k in ('before', 'after_dev', 'after') if k in row}), flush=True)
    print(table(res, a.variant))
    return 0


if __name__ == '__main__':
    sys.exit(main())

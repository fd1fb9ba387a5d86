"""What the answer shape adds: each loop run's start model and shipped file on its test split, decoded free and within the shape.

    flock /tmp/specter-cpu.lock .venv/bin/python benchmarks/shape_effect.py --runs benchmarks/results/loop_shape.json
    .venv/bin/python benchmarks/shape_effect.py --readme README.md     # the table, from the results file, into <!-- shape-effect -->

The loop evaluates everything within the suite's answer shape (chapter `shape`): its ε before and after are both decoded
that way. For every run of the loop results file (`--runs`; its run folders must exist, run from the folder they were
made in) this evaluates the start model and the shipped file once more on the same test tasks with `[eval] shape = false`,
and sets each free report against the run's own (`compare_reports`: ε, and the shipped file's tasks lost and gained
between free and shaped, McNemar's p). Writes benchmarks/results/shape_effect.json (one row per suite and seed, the
commit and load average of this invocation); `--readme` writes the Markdown table generated from it.
"""
from __future__ import annotations
import argparse, json, os, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / 'benchmarks' / 'results' / 'shape_effect.json'


def effect(run: dict) -> dict:
    "One run's row: ε of its start model and shipped file, free and within the shape, and the paired count of the shipped file's two."
    from specter_lab.evaluate import compare_reports, evaluate
    from specter_lab.files import read_json
    folder = Path(run['run'])
    row = {'suite': run['suite'], 'seed': run['seed'], 'run': run['run'], 'shipped': run['gguf']}
    for step, key in (('1_eval_before', 'before'), ('6_eval_after', 'after')):
        st = read_json(folder / step / 'step.json')
        shaped = read_json(folder / step / 'report.json')
        free = evaluate(st['model'], run['tasks'], split='test', rmax=0, adapter=st.get('adapter'), shape=False,
                        output=folder / step / 'report-free.json')
        c = compare_reports(free, shaped)
        row[key] = {'free': free['epsilon']['hat'], 'shape': shaped['epsilon']['hat'], 'n': free['n'], 'shape_on': shaped.get('shape') is not None,
                    'paired': c['paired'], 'mcnemar_p': c['mcnemar_p']}
    return row


def table(res: dict) -> str:
    "The README table: per run, ε of the start model and of the shipped file, free and within the shape."
    rows = ["| suite | seed | start model, free | start model, within the shape | shipped file, free | shipped file, within the shape | shipped: tasks the shape won / lost (McNemar p) |",
            "|---|---|---|---|---|---|---|"]
    for r in sorted(res['runs'], key=lambda r: (r['suite'], r['seed'])):
        b, a = r['before'], r['after']
        rows.append(f"| `{r['suite']}` | {r['seed']} | {b['free']:.3f} | {b['shape']:.3f} | {a['free']:.3f} | {a['shape']:.3f} | "
                    f"{a['paired']['gained']} / {a['paired']['lost']} ({a['mcnemar_p']:.2g}) |")
    return '\n'.join(rows)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--runs', help="a loop results file (benchmarks/loop_suites.py --results) whose runs to evaluate free")
    p.add_argument('--results', default=str(OUT))
    p.add_argument('--readme', help="write the table into this README (between <!-- shape-effect --> markers) and exit")
    a = p.parse_args()
    if a.readme:
        from specter_lab.loop import replace_block
        if not replace_block(a.readme, 'shape-effect', table(json.loads(Path(a.results).read_text()))): sys.exit(f"{a.readme}: no <!-- shape-effect --> markers")
        return 0
    if not a.runs: p.error("--runs or --readme")
    res = json.loads(Path(a.results).read_text()) if Path(a.results).is_file() else {'runs': []}
    commit = subprocess.run(['git', 'rev-parse', 'HEAD'], cwd=ROOT, capture_output=True, text=True).stdout.strip() or None
    for run in json.loads(Path(a.runs).read_text())['runs']:
        row = effect(run) | {'commit': commit, 'load_average': os.getloadavg()}
        res['runs'] = [r for r in res['runs'] if (r['suite'], r['seed']) != (row['suite'], row['seed'])] + [row]
        Path(a.results).write_text(json.dumps(res, indent=1) + '\n')
        print(json.dumps({k: row[k] for k in ('suite', 'seed')} | {k: {x: row[k][x] for x in ('free', 'shape')} for k in ('before', 'after')}), flush=True)
    print(table(res))
    return 0


if __name__ == '__main__':
    sys.exit(main())

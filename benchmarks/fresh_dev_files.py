"""Can a dev-side signal tell the shipped files apart? Every verified file of a loop run on its dev split, on its dev tasks
with fresh copied values, and on test.

    flock /tmp/specter-cpu.lock .venv/bin/python benchmarks/fresh_dev_files.py RUN [RUN ...]

The loop ships the smallest file whose dev ε is within `[gguf] max_epsilon_loss` of the float file's. When dev
saturates (every file at 1.000, as on `order_lines`), it cannot see a small loss that the test split then shows (the
verdict's `keeps_float_epsilon`). This evaluates each file of each run folder on `6_eval_after/dev_fresh_values.jsonl`
(`loop.fresh_dev`: the dev tasks with their copied values replaced by words the suite never uses), within the run's
`answer_shape.json`, reusing a report that exists, and sets it beside the file's recorded dev and test ε. Writes
benchmarks/results/fresh_dev_files.json (one row per run, the commit and load average of this invocation).
"""
from __future__ import annotations
import argparse, json, os, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / 'benchmarks' / 'results' / 'fresh_dev_files.json'


def files_row(run: Path) -> dict:
    "One run's files: dev, fresh-value dev and test ε each."
    from specter_lab.evaluate import evaluate
    from specter_lab.files import read_json
    after = run / '6_eval_after'
    shape = read_json(run / '5_convert' / 'answer_shape.json')
    rows = []
    for f in read_json(after / 'step.json')['files']:
        p = next((q for q in (after / f"{f['name']}.dev-fresh.json", after / f"{f['name']}.dev-fresh-all.json") if q.is_file()), None)
        rep = read_json(p) if p else evaluate(f['model'], str(after / 'dev_fresh_values.jsonl'), split='dev', rmax=0, adapter=f['adapter'],
                                                         shape=shape, output=after / f"{f['name']}.dev-fresh-all.json")
        rows.append({'name': f['name'], 'type': f['type'], 'role': f['role'], 'dev': f['dev']['epsilon'], 'fresh_dev': rep['epsilon']['hat'],
                     'test': f['test']['epsilon']})
    return {'run': str(run), 'loop': read_json(run / 'loop.json')['tasks'], 'files': rows}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('runs', nargs='+', help="loop run folders (with 5_convert/answer_shape.json and 6_eval_after/dev_fresh_values.jsonl)")
    p.add_argument('--results', default=str(OUT))
    a = p.parse_args()
    commit = subprocess.run(['git', 'rev-parse', 'HEAD'], cwd=ROOT, capture_output=True, text=True).stdout.strip() or None
    res = json.loads(Path(a.results).read_text()) if Path(a.results).is_file() else {'runs': []}
    for run in a.runs:
        row = files_row(Path(run)) | {'commit': commit, 'load_average': os.getloadavg()}
        res['runs'] = [r for r in res['runs'] if r['run'] != row['run']] + [row]
        Path(a.results).write_text(json.dumps(res, indent=1) + '\n')
        print(row['run'], ' '.join(f"{f['type']}: dev {f['dev']:.3f} fresh {f['fresh_dev']:.3f} test {f['test']:.3f}" for f in row['files']), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())

"""Can a dev-side signal tell the shipped files apart? Every verified file of a loop run on its dev split, on its dev tasks
with fresh copied values and with fresh cue words, and on test.

    flock /tmp/specter-cpu.lock .venv/bin/python benchmarks/fresh_dev_files.py RUN [RUN ...]

The loop ships the smallest file whose dev ε is within `[gguf] max_epsilon_loss` of the float file's. When dev
saturates (every file at 1.000, as on `order_lines`), it cannot see a small loss that the test split then shows (the
verdict's `keeps_float_epsilon`); and a dev split whose cue words the model already knows cannot see the test words it
has to look up in the rule. This evaluates each file of each run folder on `6_eval_after/dev_fresh_values.jsonl` and
`dev_fresh_cues.jsonl` (`loop.fresh_dev`: the dev tasks with their copied values, or a cue word in the request and the
rule, replaced by words the suite never uses; made with the run's settings where the run predates them), within the
run's `answer_shape.json` (a JSON suite's), reusing a report that exists, and sets it beside the file's recorded dev and test ε. Writes
benchmarks/results/fresh_dev_files.json (one row per run, the commit and load average of this invocation).
"""
from __future__ import annotations
import argparse, json, os, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / 'benchmarks' / 'results' / 'fresh_dev_files.json'


def suite_file(run: Path, tasks: str) -> str:
    "The run's suite file: as recorded, else relative to a folder above the run (a benchmark's worktree)."
    for d in [Path.cwd(), *run.resolve().parents]:
        if (d / tasks).is_file(): return str(d / tasks)
    return tasks   # a bundled suite's name


def fresh_report(after: Path, name: str, kind: str) -> Path | None:
    "File `name`'s report on a run's fresh dev tasks of `kind` (`dev-fresh`, `dev-fresh-cues`) in its `6_eval_after`: the loop's (the shipped file's) or this benchmark's (`-all`); None when neither exists."
    return next((p for p in (after / f"{name}.{kind}.json", after / f"{name}.{kind}-all.json") if p.is_file()), None)


def files_row(run: Path) -> dict:
    "One run's files: dev, fresh-value dev, fresh-cue dev and test ε each (None where the suite has no such tasks)."
    from specter_lab.config import Settings
    from specter_lab.evaluate import evaluate
    from specter_lab.files import read_json
    from specter_lab.loop import FRESH_KEY, Loop, config_diff, fresh_dev
    after, rec = run / '6_eval_after', read_json(run / 'loop.json')
    diff = [(k, v) for k, _, v in config_diff(Settings().to_dict(), rec['settings'])]   # where the run differs from today's defaults
    s = Settings()
    for k, v in diff: s.override(k, v)
    loop = Loop(run, s, suite_file(run, rec['tasks']), rec['base'])   # its steps' recorded paths move with the run folder (`Loop.result`)
    made = {k: after / f"dev_fresh_{k}.jsonl" for k in FRESH_KEY}
    if not all(p.is_file() for p in made.values()):   # a run from before fresh cue words: made as its loop would have, with its settings
        made = {k: Path(p) for k, p in fresh_dev(loop).items()}
    shape = read_json(run / '5_convert' / 'answer_shape.json') if (run / '5_convert' / 'answer_shape.json').is_file() else False   # label suites: none
    rows = []
    for f in loop.need('eval_after')['files']:
        eps = {}
        for k, tasks in made.items():
            if not tasks.is_file(): continue
            name = FRESH_KEY[k].replace('_', '-')
            p = fresh_report(after, f['name'], name)
            rep = read_json(p) if p else evaluate(f['model'], str(tasks), split='dev', rmax=0, adapter=f['adapter'],
                                                  shape=shape, output=after / f"{f['name']}.{name}-all.json")
            eps[k] = rep['epsilon']['hat']
        rows.append({'name': f['name'], 'type': f['type'], 'role': f['role'], 'dev': f['dev']['epsilon'], 'fresh_dev': eps.get('values'),
                     'fresh_cue_dev': eps.get('cues'), 'test': f['test']['epsilon']})
    sets = ([f"base={rec['base']}"] if rec['base'] != Settings().model.base else []) + \
           [f"{k}={v}" for k, v in diff if k.rpartition('.')[2] not in ('seed', 'tasks', 'base')]
    return {'run': str(run), 'loop': rec['tasks'], 'settings': sets, 'files': rows}


def table(res: dict) -> str:
    "The Markdown table of `res`: each run's files, their dev, fresh dev (copied values, cue words) and test ε (the shipped file in bold)."
    fmt = lambda x: '–' if x is None else f"{x:.3f}"
    L = ['| suite | seed | settings | file | dev | dev, fresh copied values | dev, fresh cue words | test |', '|---|---|---|---|---|---|---|---|']
    for r in res['runs']:
        suite, _, seed = Path(r['run']).name.rpartition('-s')
        sets = ' '.join(f"`{x}`" for x in r.get('settings') or []) or ('default' if 'settings' in r else '–')
        L += [f"| `{suite}` | {seed} | {sets} | {f['type']} ({f['role']}) | {fmt(f['dev'])} | {fmt(f.get('fresh_dev'))} | "
              f"{fmt(f.get('fresh_cue_dev'))} | {fmt(f['test'])} |" for f in r['files']]
    return '\n'.join(L)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('runs', nargs='+', help="loop run folders")
    p.add_argument('--results', default=str(OUT))
    a = p.parse_args()
    commit = subprocess.run(['git', 'rev-parse', 'HEAD'], cwd=ROOT, capture_output=True, text=True).stdout.strip() or None
    res = json.loads(Path(a.results).read_text()) if Path(a.results).is_file() else {'runs': []}
    for run in a.runs:
        row = files_row(Path(run)) | {'commit': commit, 'load_average': os.getloadavg()}
        res['runs'] = [r for r in res['runs'] if r['run'] != row['run']] + [row]
        Path(a.results).write_text(json.dumps(res, indent=1) + '\n')
        fmt = lambda x: '–' if x is None else f"{x:.3f}"
        print(row['run'], ' '.join(f"{f['type']}: dev {f['dev']:.3f} fresh values {fmt(f['fresh_dev'])} fresh cues {fmt(f['fresh_cue_dev'])} test {f['test']:.3f}"
                                   for f in row['files']), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())

"""The recipe on the JSON suites: dev ε after each round, and which leaf the failures got wrong.

    flock /tmp/specter-cpu.lock .venv/bin/python benchmarks/recipe_json.py [--suites office_tools,payment_extraction] [--seed 0] [--work runs/recipe]

Runs `specter-lab loop --until train` per suite with the default recipe (a folder whose train step has finished is
read, not rerun; `--set` passes settings on, and `--name` keeps such a variant apart; `--reuse NAME` starts a variant
from the first three steps of variant NAME, which do not depend on the training settings; under a `data.` setting
the pairs are extracted again). Only the dev split is read.
For comparison it reads the same suites' rounds under the previous recipe from the committed
`benchmarks/results/loop_suites.json` at commit 38726ba (contrast pairs that changed a random leaf to another
reference's value; a fixed answer budget of 48 tokens). Failures are sorted by what is wrong: not JSON, other keys,
or the first leaf (in the reference's order) whose value differs. Writes benchmarks/results/recipe_json.json.
"""
from __future__ import annotations
import argparse, json, os, subprocess, sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / 'benchmarks' / 'results' / 'recipe_json.json'
PREVIOUS = '38726ba'
KEEP = ('round', 'pairs', 'steps', 'train_seconds', 'dev_epsilon', 'dev_ci95', 'dev_min_recall')


def failures(report_path: str, suite: str) -> dict:
    "Counts of evaluate's `wrong_leaf` over the failed first attempts of a dev report."
    from specter_lab.evaluate import wrong_leaf
    from specter_lab.suite import load_tasks
    refs = {t.id: t.reference for t in load_tasks(suite, 'dev')}
    rep = json.loads(Path(report_path).read_text())
    return dict(Counter(wrong_leaf(refs[o['id']], o['output']) or 'other guards' for o in rep['outcomes'] if not o['passed']).most_common())


def recall(report_path: str) -> dict|None:
    "Recall of each label (or tool) in a dev report, None without labels."
    labels = json.loads(Path(report_path).read_text()).get('labels')
    return labels and {k: round(v['hat'], 3) for k, v in labels['recall'].items()}


def template_counts(report_path: str, suite: str) -> dict:
    "[passes, tasks] of a dev report per task template (`meta.template`): the clusters of `epsilon.cluster_interval`."
    from specter_lab.evaluate import epsilon_by_meta
    df = epsilon_by_meta(json.loads(Path(report_path).read_text()), suite)
    return {r.value: [int(r.passes), int(r.n)] for r in df[df.key == 'template'].itertuples()}


def current(suite: str, seed: int, run: Path, sets: list[str], reuse: Path|None = None) -> dict:
    "The rounds of the train step of `run` (run up to train first when it has not finished; steps 1-3 copied from `reuse`)."
    step = run / '4_train' / 'step.json'
    if reuse is not None and not step.is_file():
        # their step.json names the files of `reuse`, which stay where they are; the pairs are made again under a [data] setting
        for d in ('1_eval_before', '2_collect') + (() if any(x.startswith('data.') for x in sets) else ('3_extract',)):
            (run / d).mkdir(parents=True, exist_ok=True)
            r = json.loads((reuse / d / 'step.json').read_text())
            r.pop('folder', None)   # its paths stay where they are (a step.json with a folder is moved along with it)
            (run / d / 'step.json').write_text(json.dumps(r))
    if not step.is_file():
        cmd = [sys.executable, '-m', 'specter_lab', 'loop', '--tasks', suite, '--output', str(run), '--until', 'train',
               '--set', f'data.seed={seed}', '--set', f'dpo.seed={seed}'] + [x for s in sets for x in ('--set', s)]
        r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        if r.returncode: return {'error': (r.stderr or r.stdout).strip().splitlines()[-1:]}
    t = json.loads(step.read_text())
    ex = json.loads((run / '3_extract' / 'step.json').read_text())
    return {'run': str(run.resolve().relative_to(ROOT)) if run.resolve().is_relative_to(ROOT) else str(run), 'settings': sets,
            'best_round': t['best_round'], 'pairs': {k: ex.get(k) for k in ('pairs', 'trace_pairs', 'contrast_pairs', 'swapped_pairs', 'moved_pairs', 'fresh_pairs', 'fresh_value_pairs') if k in ex},
            'rounds': [{k: x.get(k) for k in KEEP} | {k: x.get('next', {}).get(k) for k in ('onpolicy_pairs', 'contrast_pairs')}
                       | {'dev_failures': failures(x['dev_report'], suite), 'dev_recall': recall(x['dev_report']),
                          'dev_by_template': template_counts(x['dev_report'], suite)} for x in t['rounds']]}


def previous(suite: str, seed: int) -> dict|None:
    "The suite's rounds in the committed loop_suites.json of the previous recipe."
    r = subprocess.run(['git', 'show', f'{PREVIOUS}:benchmarks/results/loop_suites.json'], cwd=ROOT, capture_output=True, text=True)
    if r.returncode: return None
    row = next((x for x in json.loads(r.stdout)['runs'] if x['suite'] == suite and x['seed'] == seed), None)
    return row and {'commit': PREVIOUS, 'best_round': row['best_round'], 'rounds': [{k: x.get(k) for k in KEEP} for x in row['rounds']]}


def main(argv=None):
    from specter_lab.cycle import suite_name
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--suites', default='office_tools,payment_extraction', help="bundled suite names or suite files")
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--work', default='runs/recipe')
    p.add_argument('--name', default='default', help="the variant's name in the results file")
    p.add_argument('--set', dest='sets', action='append', default=[], metavar='KEY=VALUE', help="settings for this variant")
    p.add_argument('--reuse', metavar='NAME', help="start from the first three steps of this variant's run")
    a = p.parse_args(argv)
    res = json.loads(OUT.read_text()) if OUT.is_file() else {}
    for s in a.suites.split(','):
        key = suite_name(s)   # a suite file is named by its stem
        row = res.setdefault(key, {}).setdefault(str(a.seed), {})
        row['previous'] = previous(key, a.seed)
        run = lambda name: ROOT / a.work / f"{key}-s{a.seed}-{name}"
        ran = not (run(a.name) / '4_train' / 'step.json').is_file()   # else read: the load average stays the one of the run
        load = os.getloadavg() if ran else (row.get(a.name) or {}).get('load_average')
        row[a.name] = current(s, a.seed, run(a.name), a.sets, a.reuse and run(a.reuse)) | {'load_average': load}
        OUT.write_text(json.dumps(res, indent=1) + '\n')
        print(json.dumps({key: row}, indent=1))
    return 0


if __name__ == '__main__':
    sys.exit(main())

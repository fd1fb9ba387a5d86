"""Recipe variants of the training rounds: dev ε and lowest dev recall after each round, per variant.

    flock /tmp/specter-cpu.lock .venv/bin/python benchmarks/recipe_rounds.py [--suite ticket_routing] [--seed 0] [--work runs/recipe]
        [--variant NAME[:section.key=value,...]]... [--run NAME=FOLDER]... [--results FILE]

Runs `specter-lab loop --until train` once per variant on the same suite and seed, the variant's `--set` overrides on
top of the default recipe, three rounds at most; a folder whose train step has finished is read, not rerun (`--run`
names an existing folder for a variant, e.g. of a whole loop). Only the dev split is read. The default variants
measure `[data] mirror` (`mirror` and `plain`) into benchmarks/results/recipe_rounds.json. The epochs a round were
measured (before `[dpo] first_epochs` existed: round 1 then trained `[dpo] epochs` too) with

    recipe_rounds.py --suite deal_screening --seed 1 --variant epochs1:dpo.epochs=1 --variant epochs2:dpo.epochs=2 \\
        --results benchmarks/results/recipe_epochs.json

and `[dpo] warmup` (rounds that continue an adapter start at the full learning rate; `lowest_chosen_logp` and
`max_grad_norm` per round, from its trainer log, show the jolt) with, steps 1-3 of the second variant hard-linked from the first's,

    recipe_rounds.py --suite deal_screening --seed 0 --variant default:model.base=gemma3-270m,dpo.budget_minutes=40 \
        --variant warm:model.base=gemma3-270m,dpo.budget_minutes=40,dpo.warmup=0.25 \
        --results benchmarks/results/recipe_warmup/gemma3-270m_deal_screening-s0.json
    recipe_rounds.py --suite ticket_routing --seed 1 --variant default: --variant warm:dpo.warmup=0.25 \
        --results benchmarks/results/recipe_warmup/ticket_routing-s1.json
    recipe_rounds.py --suite deal_screening --seed 1 --variant default: --variant warm:dpo.warmup=0.25 \
        --results benchmarks/results/recipe_warmup/deal_screening-s1.json

and `[dpo] continue_warmup` on Gemma, from two whole loop runs (benchmarks/README.md, *a continued adapter eased in*),

    recipe_rounds.py --suite payment_extraction --seed 0 --variant default:model.base=gemma3-270m,dpo.budget_minutes=40 \
        --variant continue:model.base=gemma3-270m,dpo.budget_minutes=40,dpo.continue_warmup=0.25 \
        --run default=RUN --run continue=RUN2 --results benchmarks/results/gemma_continue_rounds.json

and round 1 of Gemma on a label suite (benchmarks/README.md, *round 1 of a label suite*), every variant from the
default run's traces (`--from-run`), the learning rate over three rounds and the rest over round 1 alone:

    recipe_rounds.py --suite deal_screening --seed 0 --from-run RUN --run default=RUN \
        --variant default:model.base=gemma3-270m,dpo.budget_minutes=40 \
        --variant lr5e-4:model.base=gemma3-270m,dpo.budget_minutes=40,dpo.learning_rate=5e-4 \
        --variant lr2e-4:model.base=gemma3-270m,dpo.budget_minutes=40,dpo.learning_rate=2e-4 \
        --variant fp32:model.base=gemma3-270m,dpo.budget_minutes=40,dpo.rounds=1,dpo.precision=fp32 \
        --variant all:model.base=gemma3-270m,dpo.budget_minutes=40,dpo.rounds=1,dpo.lora_layers=all \
        --variant ep4:model.base=gemma3-270m,dpo.budget_minutes=40,dpo.rounds=1,dpo.first_epochs=4 \
        --results benchmarks/results/gemma_round1.json

`table` makes the README block of such a file (`benchmarks/readme_blocks.py`).
"""
from __future__ import annotations
import argparse, csv, json, os, shutil, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / 'benchmarks' / 'results' / 'recipe_rounds.json'
KEEP = ('round', 'pairs', 'steps', 'train_seconds', 'dev_epsilon', 'dev_ci95', 'dev_min_recall')
DEFAULT_VARIANTS = ['mirror:data.mirror=true', 'plain:data.mirror=false']


def parse_variant(v: str) -> tuple[str, list[str]]:
    "'NAME:section.key=value,...' -> (NAME, the `--set` overrides)."
    name, _, sets = v.partition(':')
    return name, [s for s in sets.split(',') if s]


def jolt(metrics_csv: str | None) -> dict:
    "From a round's trainer log: the lowest mean log-probability of the chosen answers and the largest gradient norm over its steps."
    p = Path(metrics_csv or '')
    if not p.is_file(): return {'lowest_chosen_logp': None, 'max_grad_norm': None}
    rows = list(csv.DictReader(p.open()))
    col = lambda k: [float(r[k]) for r in rows if r.get(k)]
    return {'lowest_chosen_logp': min(col('logps/chosen'), default=None), 'max_grad_norm': max(col('grad_norm'), default=None)}


def start_from(src: Path, run: Path):
    "Start the new folder `run` with the steps before training of the run folder `src`, copied (the loop moves their paths)."
    from specter_lab.loop import STEPS
    for i, step in enumerate(STEPS[:STEPS.index('train')]):
        shutil.copytree(src / f'{i + 1}_{step}', run / f'{i + 1}_{step}', symlinks=True)


def rounds(run: Path, suite: str, seed: int, sets: list[str]) -> dict:
    "The train step's rounds of `run` (run up to the train step first, with the overrides `sets`, when it has not finished)."
    step = run / '4_train' / 'step.json'
    if not step.is_file():
        r = subprocess.run([sys.executable, '-m', 'specter_lab', 'loop', '--tasks', suite, '--output', str(run), '--until', 'train',
                            '--set', f'data.seed={seed}', '--set', f'dpo.seed={seed}', '--set', 'dpo.rounds=3',
                            *[x for s in sets for x in ('--set', s)]], cwd=ROOT, capture_output=True, text=True)
        if r.returncode: return {'error': (r.stderr or r.stdout).strip().splitlines()[-1:]}
    t = json.loads(step.read_text())
    loop = json.loads((run / 'loop.json').read_text())
    cfg = loop['settings']
    return {'run': str(run.resolve().relative_to(ROOT)) if run.resolve().is_relative_to(ROOT) else str(run), 'overrides': sets,
            'base': loop['base'], 'warmup': cfg['dpo'].get('warmup', 0.0), 'mirror': cfg['data'].get('mirror'), 'epochs': cfg['dpo'].get('epochs'), 'first_epochs': cfg['dpo'].get('first_epochs', cfg['dpo'].get('epochs')),
            'precision': cfg['dpo'].get('precision', 'fp32'), 'best_round': t['best_round'],
            'rounds': [{k: x.get(k) for k in KEEP} | {k: x.get('next', {}).get(k) for k in ('onpolicy_pairs', 'mirror_pairs', 'contrast_pairs')}
                       | jolt(x.get('metrics_csv')) for x in t['rounds']]}


def table(res: dict) -> str:
    "A Markdown table of the results `res`: per variant and round, its steps, dev ε, lowest dev recall and the jolt (`jolt`)."
    f = lambda x, d=3: '–' if x is None else f"{x:.{d}f}"
    rows = ['| variant | settings | round | steps | dev ε | lowest dev recall | lowest chosen log-prob | largest gradient norm |',
            '|---|---|---|---|---|---|---|---|']
    for name, v in res.items():
        if not isinstance(v, dict) or 'rounds' not in v: continue
        for x in v['rounds']:
            rows.append(f"| {name} | {' '.join(f'`{o}`' for o in v['overrides']) or '(default)'} | {x['round']}{' (kept)' if x['round'] == v['best_round'] else ''} | {x['steps']} "
                        f"| {f(x['dev_epsilon'])} | {f(x['dev_min_recall'], 2)} | {f(x['lowest_chosen_logp'], 1)} | {f(x['max_grad_norm'], 1)} |")
    return '\n'.join(rows)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--suite', default='ticket_routing')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--work', default='runs/recipe')
    p.add_argument('--variant', action='append', help="NAME[:section.key=value,...] (repeatable; default: mirror and plain)")
    p.add_argument('--run', action='append', default=[], help="NAME=FOLDER: an existing run folder for variant NAME")
    p.add_argument('--from-run', metavar='FOLDER', help="a variant without a folder starts from this run's steps before training (the same traces and pairs)")
    p.add_argument('--results', default=str(OUT))
    a = p.parse_args(argv)
    runs = dict(r.split('=', 1) for r in a.run)
    res = {'suite': a.suite, 'seed': a.seed, 'load_average': os.getloadavg()}
    for name, sets in map(parse_variant, a.variant or DEFAULT_VARIANTS):
        run = Path(runs[name]) if name in runs else ROOT / a.work / f'{a.suite}-s{a.seed}-{name}'
        if a.from_run and not run.exists(): start_from(Path(a.from_run), run)
        res[name] = rounds(run, a.suite, a.seed, sets)
    Path(a.results).write_text(json.dumps(res, indent=1) + '\n')
    print(json.dumps(res, indent=1))
    return 0


if __name__ == '__main__':
    sys.exit(main())

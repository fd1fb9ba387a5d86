"""Early stopping of round 1 on the dev split: round 1's first-epoch checkpoint against its end (two epochs).

    flock /tmp/specter-cpu.lock .venv/bin/python benchmarks/recipe_early_stop.py RUN [RUN ...] [--test] [--work runs/early_stop]

For each finished loop run folder RUN: the trainer's checkpoint at the end of round 1's first epoch (it keeps
`checkpoint-S/2` of the S steps) becomes a LoRA GGUF and answers the dev split greedily with the base file, as the loop
measures a round; the round's own dev result (after both epochs) is read from the run. The recipe decision reads dev
only: `choice` is the epoch the loop's ranking of rounds (`_dev_key`: every label recalled, then ε, then balanced
accuracy) would keep. With `--test`, both adapters also answer the test split, for this report only. Outputs go to
WORK/<suite>-<base>-s<seed>/; results to benchmarks/results/recipe_early_stop.json (one row per run, replaced when rerun).
"""
from __future__ import annotations
import argparse, json, os, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / 'benchmarks' / 'results' / 'recipe_early_stop.json'


def summary(rep: dict) -> dict:
    lm = rep.get('labels')
    return {'epsilon': rep['epsilon']['hat'], 'ci95': rep['epsilon']['ci95'], 'n': rep['n'],
            'min_recall': lm and lm['min_recall'], 'balanced_accuracy': lm and lm['balanced_accuracy']}


def one_run(run: Path, work: Path, test: bool) -> dict:
    from specter_lab.config import load_settings
    from specter_lab.evaluate import evaluate
    from specter_lab.gguf import convert_adapter
    from specter_lab.loop import Loop, base_gguf, _dev_key
    cfg = json.loads((run / 'loop.json').read_text())
    s = load_settings()
    loop = Loop(run, s, cfg['tasks'], cfg['base'], log=lambda *a: None)
    r1 = run / '4_train' / 'round1'
    steps = json.loads((r1 / 'summary.json').read_text())['steps']
    ck = r1 / 'checkpoints' / f'checkpoint-{steps // 2}'
    if not (ck / 'adapter_config.json').is_file(): return {'run': str(run), 'error': f'no {ck.name}'}
    seed = cfg['settings']['data']['seed']
    out = work / f"{Path(cfg['tasks']).stem}-{cfg['base']}-s{seed}"
    out.mkdir(parents=True, exist_ok=True)
    lora1 = convert_adapter(ck, out / 'epoch1.gguf', outtype=s.gguf.adapter_type)
    lora2 = r1 / 'adapter.gguf'
    base = base_gguf(loop)
    ev = lambda split, lora, name: summary(evaluate(base, loop.suite, split=split, settings=s, rmax=0, adapter=str(lora), spread=True, output=out / name))
    row = {'run': str(run), 'suite': Path(cfg['tasks']).stem, 'base': cfg['base'], 'seed': seed, 'steps': steps, 'checkpoint': ck.name,
           'dev': {'epoch 1': ev('dev', lora1, 'epoch1.dev.json'), 'epoch 2': summary(json.loads((r1 / 'dev.json').read_text()))}}
    row['choice'] = max(('epoch 2', 'epoch 1'), key=lambda k: _dev_key(row['dev'][k]))   # ties keep epoch 2 (the recipe today)
    if test: row['test'] = {'epoch 1': ev('test', lora1, 'epoch1.test.json'), 'epoch 2': ev('test', lora2, 'epoch2.test.json')}
    return row


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('runs', nargs='+', type=Path)
    p.add_argument('--test', action='store_true', help="also answer the test split (for the report; the choice reads dev only)")
    p.add_argument('--work', type=Path, default=ROOT / 'runs' / 'early_stop')
    a = p.parse_args(argv)
    res = json.loads(OUT.read_text()) if OUT.is_file() else {'runs': []}
    for run in a.runs:
        t0 = time.time()
        row = one_run(run.resolve(), a.work, a.test) | {'seconds': None, 'load_average': os.getloadavg()}
        row['seconds'] = round(time.time() - t0, 1)
        res['runs'] = [x for x in res['runs'] if x['run'] != row['run']] + [row]
        OUT.write_text(json.dumps(res, indent=1) + '\n')
        print(json.dumps({k: row.get(k) for k in ('suite', 'base', 'seed', 'choice', 'dev', 'test', 'error')}))
    return 0


if __name__ == '__main__':
    sys.exit(main())

"""What quantization costs the trained model: greedy ε of each GGUF type made from one loop run's trained model.

    flock /tmp/specter-cpu.lock .venv/bin/python benchmarks/quant_epsilon.py [--run runs/latest]

Takes the loop run's float GGUF and its Q4_K_M (`5_convert/`), quantizes the float GGUF to the other types
llama.cpp offers for phones (Q5_K_M, Q8_0) into a temporary folder, and evaluates each with `specter-lab eval`
on the suite's test split, first attempt only (`--rmax 0`). Also evaluates the merged transformers model
(`4_train/merged`) when it is there. Writes benchmarks/results/quant_epsilon.json: per model, file size,
ε with its 95 % interval, the labels used (as the loop counts them), tasks/s.
"""
from __future__ import annotations
import argparse, json, os, subprocess, sys, tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

OUT = ROOT / 'benchmarks' / 'results' / 'quant_epsilon.json'


def evaluate(model: Path, tasks: str, suite: list, work: Path) -> dict:
    "ε of `model` on the test split, first attempt only, through the CLI."
    rep = work / f'{model.name}.report.json'
    subprocess.run([sys.executable, '-m', 'specter_lab', 'eval', '--model', str(model), '--tasks', tasks, '--rmax', '0',
                    '--output', str(rep)], check=True, stdout=subprocess.DEVNULL)
    r = json.loads(rep.read_text())
    size = model.stat().st_size if model.is_file() else sum(f.stat().st_size for f in model.glob('*.safetensors'))
    return {'model': model.name, 'mb': round(size / 2**20, 1), 'epsilon': r['epsilon']['hat'],
            'ci95': [round(x, 4) for x in r['epsilon']['ci95']], 'passes': r['epsilon']['passes'], 'n': r['n'],
            'labels_given': (r.get('labels') or {}).get('given'), 'tasks_per_s': r['timings']['tasks_per_s']}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--run', default='runs/latest', help="a finished `specter-lab loop` output folder")
    p.add_argument('--tasks', default='deal_screening')
    a = p.parse_args(argv)
    from specter_lab.gguf import quantize
    from specter_lab.suite import load_tasks
    run = Path(a.run)
    conv = run / '5_convert'
    floats = sorted(conv.glob('*-f16.gguf')) + sorted(conv.glob('*-f32.gguf'))
    if not floats: sys.exit(f"{conv}: no float GGUF (run the loop first)")
    res = {'run': str(run), 'tasks': a.tasks, 'split': 'test', 'load_avg_at_start': os.getloadavg(), 'models': []}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        models = [run / '4_train' / 'merged'] if (run / '4_train' / 'merged' / 'config.json').is_file() else []
        models += floats[:1] + sorted(conv.glob('*-Q*.gguf'))
        for q in ('Q5_K_M', 'Q8_0'):
            dst = work / floats[0].name.replace('-f16', f'-{q}').replace('-f32', f'-{q}')
            if not any(m.name == dst.name for m in models):
                quantize(floats[0], dst, q); models.append(dst)
        for m in models:
            r = evaluate(m, a.tasks, load_tasks(a.tasks, 'test'), work)
            res['models'].append(r); print(r, flush=True)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(res, indent=2) + '\n')
    print('wrote', OUT)


if __name__ == '__main__':
    main()

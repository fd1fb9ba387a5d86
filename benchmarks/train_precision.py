"""Seconds and CPU seconds per DPO step in float32 and in bf16 autocast (`[dpo] precision`), same pairs, same seed.

    flock /tmp/specter-cpu.lock .venv/bin/python benchmarks/train_precision.py [--data PAIRS.jsonl] [--pairs 24]

Default data: contrast pairs of the `ticket_routing` train split (its system prompt states the rule, ~150 tokens).
Writes benchmarks/results/train_precision.json with the load average and whether this CPU has hardware bf16.
"""
from __future__ import annotations
import argparse, json, os, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / 'benchmarks' / 'results' / 'train_precision.json'


def one(data: str, precision: str, pairs: int, tmp: Path) -> dict:
    from specter_lab.config import load_settings
    from specter_lab.train import train
    s = load_settings(overrides={'dpo.max_pairs': pairs, 'dpo.precision': precision, 'data.test_fraction': 0.0})
    c0 = time.process_time()
    r = train(data, base='embedded', output=tmp / precision, settings=s, progress=False)
    return {'precision': r['precision'], 'steps': r['steps'], 'setup_seconds': r['setup_seconds'],
            'seconds_per_step': round((r['train_seconds'] - r['setup_seconds']) / r['steps'], 2),
            'cpu_seconds': round(time.process_time() - c0, 1), 'final_loss': r['final_loss']}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--data')
    p.add_argument('--pairs', type=int, default=24)
    a = p.parse_args(argv)
    from specter_lab.config import cpu_has_bf16
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        data = a.data
        if not data:
            from specter_lab.files import write_jsonl
            from specter_lab.recipe import contrast_pairs
            from specter_lab.suite import load_tasks
            data = str(tmp / 'pairs.jsonl')
            write_jsonl(data, contrast_pairs(load_tasks('ticket_routing', 'train'))[:a.pairs])
        runs = [one(data, prec, a.pairs, tmp) for prec in ('fp32', 'bf16')]
    res = {'pairs': a.pairs, 'cpu_has_bf16': cpu_has_bf16(), 'runs': runs, 'load_average': os.getloadavg(),
           'cpu_speedup': round(runs[0]['cpu_seconds'] / runs[1]['cpu_seconds'], 2)}
    OUT.write_text(json.dumps(res, indent=1) + '\n')
    print(json.dumps(res, indent=1))
    return 0


if __name__ == '__main__':
    sys.exit(main())

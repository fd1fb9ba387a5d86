"""How far each shipped kind of file strays from the float file, and whether the dev split can see it.

    .venv/bin/python benchmarks/file_fidelity.py                       # every loop results file in benchmarks/results/
    .venv/bin/python benchmarks/file_fidelity.py --runs RUN [RUN ...]   # and, task by task, loop run folders

The loop ships the smallest file whose dev ε is within `[gguf] max_epsilon_loss` of the float GGUF's; its verdict's
`keeps_float_epsilon` then asks the same of the test split. Every loop run records each file's dev and test ε
(`files` in its results row), so the runs already made answer, per kind of file (Q8_0, the LoRA adapter on the base
file): how often it stays within the margin on dev, on test, and on dev but not on test (what no choice made on dev can
prevent); and its test ε against the float file's. A run recorded in more than one results file counts once.

With `--runs`, each run folder's reports are read task by task (`6_eval_after/*.dev.json`, `*.report.json`, and the
fresh dev tasks' reports where every file has one: `benchmarks/fresh_dev_files.py RUN` makes them): of the tasks the
float file passes and the other fails (`lost`) and the other way round (`gained`), on dev, fresh dev and test, and how
many answers differ at all; McNemar's p of the test pairs. Nothing is evaluated again, but with `--f16-base FOLDER`:
then each run's adapter is also evaluated on test applied to the embedded base converted to f16 (`FOLDER/base-f16.gguf`,
the same weights without llama.cpp's quantized kernels, which round each activation to 8 bits before a dot product).

Writes benchmarks/results/file_fidelity.json. Reads nothing of the test split to choose anything: a diagnosis, not a
recipe (`benchmarks/readme_blocks.py` makes the README's tables of it).
"""
from __future__ import annotations
import argparse, json, subprocess, sys
from pathlib import Path
from statistics import mean

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fresh_dev_files import fresh_report, suite_file   # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / 'benchmarks' / 'results' / 'file_fidelity.json'
KINDS = ('quantized', 'adapter')   # the roles a file other than the float one has


def runs_of(paths) -> list[dict]:
    "Every loop run of the results files `paths` with a float file and another file both evaluated on test, each once (the first file's copy)."
    seen, out = set(), []
    for p in paths:
        res = json.loads(Path(p).read_text())
        for r in res.get('runs', []) if isinstance(res, dict) else []:
            files = [f for f in r.get('files') or [] if f.get('test_epsilon') is not None and f.get('dev_epsilon') is not None]
            if not any(f['role'] == 'float' for f in files) or len(files) < 2: continue
            key = (r.get('base'), r['suite'], r['seed'], tuple(sorted((f['type'], round(f['test_epsilon'], 6), round(f['dev_epsilon'], 6)) for f in files)))
            if key in seen: continue
            seen.add(key)
            out.append({'results': Path(p).name, 'base': r.get('base') or 'embedded', 'suite': r['suite'], 'seed': r['seed'], 'commit': r.get('commit'),
                        'shipped': r.get('gguf'), 'files': [{k: f[k] for k in ('name', 'type', 'role', 'download_bytes', 'dev_epsilon', 'test_epsilon')} for f in files]})
    return out


def summary(runs: list[dict], max_loss: float = 0.02) -> list[dict]:
    "Per base and kind of file: runs, how often within `max_loss` of the float file on dev, on test, on dev but not test; test ε minus the float file's (mean, min, max)."
    rows, eps = [], 1e-9
    for base in sorted({r['base'] for r in runs}):
        for kind in KINDS:
            pairs = [(flt, f) for r in runs if r['base'] == base for flt in r['files'] if flt['role'] == 'float' for f in r['files'] if f['role'] == kind]
            if not pairs: continue
            dev_in = [f['dev_epsilon'] >= flt['dev_epsilon'] - max_loss - eps for flt, f in pairs]
            test_in = [f['test_epsilon'] >= flt['test_epsilon'] - max_loss - eps for flt, f in pairs]
            d = [f['test_epsilon'] - flt['test_epsilon'] for flt, f in pairs]
            rows.append({'base': base, 'kind': kind, 'type': pairs[0][1]['type'], 'runs': len(pairs), 'dev_within': sum(dev_in), 'test_within': sum(test_in),
                         'dev_within_test_not': sum(a and not b for a, b in zip(dev_in, test_in)),
                         'dev_equal_test_not': sum(f['dev_epsilon'] >= flt['dev_epsilon'] - eps and not b for (flt, f), b in zip(pairs, test_in)),
                         'test_delta_mean': mean(d), 'test_delta_min': min(d), 'test_delta_max': max(d)})
    return rows


def _paired(a: dict, b: dict) -> dict:
    "Report `b` against report `a`, task by task: tasks, answers that differ, passes lost and gained, McNemar's p."
    from specter_lab.evaluate import compare_reports
    c, answers = compare_reports(a, b), {(o['id'], o['trial']): o['output'] for o in a['outcomes']}
    return {'n': c['n_paired'], 'differ': sum(answers[(o['id'], o['trial'])] != o['output'] for o in b['outcomes']),
            'lost': c['paired']['lost'], 'gained': c['paired']['gained'], 'mcnemar_p': c['mcnemar_p']}


def f16_base(folder: Path) -> Path:
    "The embedded base GGUF's weights as an f16 GGUF in `folder` (made once): the weights the adapter is applied to, without the quantized kernels."
    from specter_lab.gguf import convert_hf
    from specter_lab.model import embedded_hf_dir
    out = folder / 'base-f16.gguf'
    return out if out.is_file() else convert_hf(embedded_hf_dir(), out, 'f16')


def adapter_on(run: Path, base: Path, folder: Path) -> dict:
    "Run folder `run`'s LoRA adapter GGUF applied to `base` on its test split (within its answer shape, as the loop evaluates), against its float file's test report, task by task."
    from specter_lab.evaluate import evaluate
    from specter_lab.files import read_json
    after, rec = run / '6_eval_after', read_json(run / 'loop.json')
    files = read_json(after / 'step.json')['files']
    flt, ad = (next(f for f in files if f['role'] == r) for r in ('float', 'adapter'))
    suite = run / 'suite.jsonl' if (run / 'suite.jsonl').is_file() else suite_file(run, rec['tasks'])   # the loop's copy (a dev split carved), else as recorded
    shape, out = run / '5_convert' / 'answer_shape.json', folder / f"{run.name}.{base.stem}.report.json"
    rep = read_json(out) if out.is_file() else evaluate(str(base), str(suite), split='test', rmax=0, adapter=str(run / '5_convert' / ad['name']),
                                                        shape=read_json(shape) if shape.is_file() else False, output=out)
    return {'base': base.name, 'epsilon': rep['epsilon']['hat'], **_paired(read_json(after / Path(flt['test']['report']).name), rep)}


def paired_row(run: Path) -> dict:
    "Run folder `run`'s every file against its float file, task by task, on dev, on the fresh dev tasks (where `fresh_dev_files.py` or the loop evaluated both) and on test: answers that differ, passes lost and gained, McNemar's p."
    from specter_lab.files import read_json
    from specter_lab.loop import FRESH_KEY
    after, rec = run / '6_eval_after', read_json(run / 'loop.json')
    files = read_json(after / 'step.json')['files']
    flt = next(f for f in files if f['role'] == 'float')
    out = []
    for f in files:
        if f is flt: continue
        row = {'name': f['name'], 'type': f['type'], 'role': f['role']}
        for split in ('dev', 'test'):   # the reports in the run folder, wherever the run was made from
            row[split] = _paired(*(read_json(after / Path(x[split]['report']).name) for x in (flt, f)))
        fresh = [_paired(*(read_json(p) for p in ps)) for k in FRESH_KEY.values()   # the fresh dev tasks, where both files were evaluated on them
                 if all(ps := [fresh_report(after, x['name'], k.replace('_', '-')) for x in (flt, f)])]
        row['fresh_dev'] = {k: sum(x[k] for x in fresh) for k in ('n', 'differ', 'lost', 'gained')} if fresh else None
        out.append(row)
    suite, _, seed = run.name.rpartition('-s')
    return {'run': str(run), 'suite': suite, 'seed': int(seed), 'tasks': rec['tasks'], 'files': out}


def table(res: dict) -> str:
    "The Markdown table of `res`'s summary: per base and kind of file, within the margin on dev and test, and test ε against the float file's."
    L = ['| base | file | runs | within 0.02 of float on dev | on test | on dev, not on test | equal or above float on dev, not within on test | test ε − float test ε: mean [min, max] |',
         '|---|---|---|---|---|---|---|---|']
    for s in res['summary']:
        L.append(f"| {s['base']} | {s['type']} ({s['kind']}) | {s['runs']} | {s['dev_within']} | {s['test_within']} | {s['dev_within_test_not']} | "
                 f"{s['dev_equal_test_not']} | {s['test_delta_mean']:+.3f} [{s['test_delta_min']:+.3f}, {s['test_delta_max']:+.3f}] |")
    return '\n'.join(L)


def paired_table(res: dict) -> str:
    "The Markdown table of `res`'s run folders read task by task: per file, answers differing from the float file's and passes lost/gained on dev, fresh dev and test (and the adapter on the f16 base, test only)."
    L = ['| suite | seed | file | dev: answers differing / tasks | dev: lost, gained | fresh dev: answers differing / tasks | fresh dev: lost, gained | '
         'test: answers differing / tasks | test: lost, gained | McNemar p (test) |', '|---|---|---|---|---|---|---|---|---|---|']
    fr = lambda p: f"{p['differ']} / {p['n']} | {p['lost']}, {p['gained']}" if p else '– | –'
    for r in res.get('paired', []):
        b = r.get('adapter_f16_base')
        for f in r['files'] + ([{'type': 'lora-f16', 'role': 'adapter on the base as f16', 'dev': None, 'fresh_dev': None, 'test': b}] if b else []):
            d, x, t = f['dev'], f.get('fresh_dev'), f['test']
            L.append(f"| `{r['suite']}` | {r['seed']} | {f['type']} ({f['role']}) | {fr(d)} | {fr(x)} | "
                     f"{t['differ']} / {t['n']} | {t['lost']}, {t['gained']} | {t['mcnemar_p']:.2g} |")
    return '\n'.join(L)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('results_files', nargs='*', help="loop results files (default: benchmarks/results/loop*.json)")
    p.add_argument('--runs', nargs='*', default=[], help="loop run folders to read task by task")
    p.add_argument('--f16-base', metavar='FOLDER', help="also evaluate each --runs folder's adapter on the base converted to f16 (made in FOLDER) on test")
    p.add_argument('--max-loss', type=float, default=0.02)
    p.add_argument('--results', default=str(OUT))
    a = p.parse_args()
    files = a.results_files or sorted(str(x) for x in (ROOT / 'benchmarks' / 'results').glob('loop*.json'))
    runs = runs_of(files)
    commit = subprocess.run(['git', 'rev-parse', 'HEAD'], cwd=ROOT, capture_output=True, text=True).stdout.strip() or None
    res = {'commit': commit, 'max_loss': a.max_loss, 'results_files': [Path(x).name for x in files], 'summary': summary(runs, a.max_loss),
           'runs': runs, 'paired': [paired_row(Path(r)) for r in a.runs]}
    if a.f16_base:
        Path(a.f16_base).mkdir(parents=True, exist_ok=True)
        base = f16_base(Path(a.f16_base))
        for r, row in zip(a.runs, res['paired']): row['adapter_f16_base'] = adapter_on(Path(r), base, Path(a.f16_base))
    Path(a.results).write_text(json.dumps(res, indent=1) + '\n')
    print(table(res))
    if res['paired']: print(); print(paired_table(res))
    return 0


if __name__ == '__main__':
    sys.exit(main())

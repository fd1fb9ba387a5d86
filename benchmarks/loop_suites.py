"""The loop on every bundled suite (or those named), over several seeds: spread of ε after per file type, targets, time.

    flock /tmp/specter-cpu.lock .venv/bin/python benchmarks/loop_suites.py [--suites a,b] [--seeds 0,1,2] [--work runs/bench]
    flock /tmp/specter-cpu.lock .venv/bin/python benchmarks/loop_suites.py --base gemma3-270m --suites incident_triage --seeds 0 \
        --work runs/gemma --results benchmarks/results/loop_gemma.json
    .venv/bin/python benchmarks/loop_suites.py --merge WORKTREE/runs/new.json   # runs made elsewhere with --results WORKTREE/runs/new.json

Each run is `specter-lab loop --tasks SUITE --output WORK/SUITE-sSEED --set data.seed=S --set dpo.seed=S` (and `--base B`
when given) with the default recipe (settings.ini), its output in WORK/SUITE-sSEED.log; a finished run folder is resumed, not rerun
(one that `specter-lab loop` finished there is recorded as it stands, without peak RSS or load average). The first step (greedy ε of the untrained
model on the test split) does not depend on the seed: later seeds reuse the first seed's. Writes benchmarks/results/loop_suites.json
(another base: `--results FILE`, so the embedded model's table is not mixed with another model's):
per run its summary (ε before/after with intervals, best constant, recall per label, the verdict and its reasons,
ε of every file on dev and test, rounds, seconds, and the shipped file's test ε per value of each task meta key: `by_meta`), the wall minutes of this invocation, the peak RSS of the run's process
tree (wait4's ru_maxrss: the largest single process) and the load average before and after, and per suite the mean, min and max over seeds of the shipped
file's test ε and of each file type's. `benchmarks/readme_blocks.py --write` puts the tables into the READMEs
(generated from the results file, never typed).
"""
from __future__ import annotations
import argparse, json, os, shutil, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / 'benchmarks' / 'results' / 'loop_suites.json'


def share_eval_before(src: Path, dst: Path) -> bool:
    "Copy run `src`'s finished first step into run `dst` (which has none), its recorded paths rewritten; whether it did."
    a, b = src / '1_eval_before', dst / '1_eval_before'
    if not (a / 'step.json').is_file() or (b / 'step.json').is_file(): return False
    shutil.copytree(a, b, dirs_exist_ok=True)
    (b / 'step.json').write_text((a / 'step.json').read_text().replace(str(src.resolve()), str(dst.resolve())))
    return True


def run_one(suite: str, seed: int, work: Path, first_seed: int | None = None, base: str | None = None, sets: list[str] = ()) -> dict:
    """One loop run (resumed when its folder exists; the first step shared with seed `first_seed`'s run; `sets` are
    `--set KEY=VALUE` settings on top of the default recipe); its summary with the base, the settings, what the
    registry's recipe for the base filled in under them (`recipe`), wall minutes of
    this invocation, peak RSS of its process tree and the load average before and after (`resumed` when steps had run
    before; a run that had finished before keeps what the invocation that finished it measured, from its
    measured.json; one finished by another command, `specter-lab loop --output` into this folder, is recorded as it
    stands: its minutes are its steps', and no peak RSS, load average or commit is claimed for it). `suite` is a
    bundled name or a suite file (its runs named by the file's stem)."""
    from specter_lab.config import find_settings, load_settings
    from specter_lab.cycle import suite_name
    from specter_lab.registry import recipe_used
    tasks, suite = suite, suite_name(suite)
    out = work / f"{suite}-s{seed}"
    started = any(out.glob('*/step.json'))   # a resumed run: its minutes and RSS here are of this invocation only
    finished = (out / 'summary.json').is_file()
    if first_seed is not None and first_seed != seed: share_eval_before(work / f"{suite}-s{first_seed}", out)
    work.mkdir(parents=True, exist_ok=True)
    measured = out / 'measured.json'         # what the invocation that finished the run measured, kept for later ones
    cmd = [sys.executable, '-m', 'specter_lab', 'loop', '--tasks', tasks, '--output', str(out),
           '--set', f'data.seed={seed}', '--set', f'dpo.seed={seed}'] + (['--base', base] if base else []) + [x for kv in sets for x in ('--set', kv)]
    s = load_settings(find_settings(ROOT), {'model.base': base or 'embedded', **dict(kv.split('=', 1) for kv in sets)})
    recipe = [f"{k}={v}" for k, v in recipe_used(s).items()]   # what the registry's recipe for the base filled in, under the run's own settings
    load0, t0 = os.getloadavg(), time.time()
    with open(work / f"{suite}-s{seed}.log", 'a') as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, text=True)
        _, status, ru = os.wait4(proc.pid, 0)   # this child's rusage: ru_maxrss is the largest process of its tree (KiB)
        proc.returncode = os.waitstatus_to_exitcode(status)
    meas = {'base': base or 'embedded', **({'settings': list(sets)} if sets else {}), **({'recipe': recipe} if recipe else {}), 'wall_minutes': round((time.time() - t0) / 60, 1), 'peak_rss_bytes': ru.ru_maxrss * 1024, 'peak_rss_gb': round(ru.ru_maxrss * 1024 / 1e9, 2),
            'load_average_start': load0, 'load_average': os.getloadavg()}
    if proc.returncode != 0:
        tail = (work / f"{suite}-s{seed}.log").read_text().strip().splitlines()[-1:]
        return {'suite': suite, 'seed': seed, 'error': tail, 'seconds': round(time.time() - t0, 1), **meas}
    if started and measured.is_file(): meas = json.loads(measured.read_text())   # finished before: its own measurements and commit, not this no-op's
    elif finished:   # finished by another command: nothing of this no-op's is its
        meas = {k: v for k, v in meas.items() if k in ('base', 'settings', 'recipe')} | {'recorded': True, 'commit': None}
        measured.write_text(json.dumps(meas))
    else:
        meas |= ({'resumed': True} if started else {}) | {'commit': subprocess.run(['git', 'rev-parse', 'HEAD'], cwd=ROOT, capture_output=True, text=True).stdout.strip() or None}
        measured.write_text(json.dumps(meas))
    s = json.loads((out / 'summary.json').read_text())
    return {'suite': suite, 'seed': seed, 'run': str(out.relative_to(ROOT)) if out.is_relative_to(ROOT) else str(out), **meas, **s,
            'by_meta': by_meta(out, tasks)}


def by_meta(run: Path, suite: str) -> list[dict]:
    "The shipped file's test ε per value of each task meta key (`epsilon_by_meta`): on which forms of input the run fails."
    from specter_lab.evaluate import epsilon_by_meta, read_report
    rep = next(Path(run).glob('*_eval_after/report.json'), None)
    return epsilon_by_meta(read_report(rep), suite).to_dict('records') if rep else []


def spread(runs: list[dict]) -> dict:
    "Per suite: mean/min/max over seeds of the shipped file's test ε, of each file type's, and how many runs met the targets."
    out = {}
    for suite in sorted({r['suite'] for r in runs}):
        rs = [r for r in runs if r['suite'] == suite and 'error' not in r]
        if not rs: out[suite] = {'runs': 0}; continue
        agg = lambda xs: {'mean': sum(xs) / len(xs), 'min': min(xs), 'max': max(xs)}
        types = sorted({f['type'] for r in rs for f in r['files']})
        out[suite] = {'runs': len(rs), 'seeds': [r['seed'] for r in rs], 'targets_met': sum(r['verdict']['passed'] for r in rs),
                      'before': agg([r['epsilon_before']['hat'] for r in rs]), 'shipped': agg([r['epsilon_after']['hat'] for r in rs]),
                      'best_constant': rs[0]['baseline']['epsilon'] if rs[0].get('baseline') else None,
                      'min_recall': agg([r['labels']['after']['min_recall'] for r in rs]) if rs[0]['labels']['after'] else None,
                      'by_type': {t: agg([f['test_epsilon'] for r in rs for f in r['files'] if f['type'] == t]) for t in types},
                      'minutes': agg([sum(r['seconds'].values()) / 60 for r in rs]),
                      **({'peak_rss_gb': agg([r['peak_rss_gb'] for r in rs])} if all('peak_rss_gb' in r for r in rs) else {}),
                      **({'load_average': agg([r['load_average'][0] for r in rs])} if all(r.get('load_average') for r in rs) else {}),
                      'shipped_files': sorted({r['gguf'] for r in rs})}
    return out


def table(res: dict) -> str:
    "The README's Markdown table of the spread (with peak RSS and load average columns when every suite's runs recorded them), and which runs had settings on top of the default recipe (their own `--set`, their base's recipe from the registry)."
    f3 = lambda x: '–' if x is None else f"{x:.3f}"
    done = [a for a in res['spread'].values() if a['runs']]
    mem = bool(done) and all('peak_rss_gb' in a and 'load_average' in a for a in done)
    rows = ["| suite | runs | ε before | ε after (shipped): mean [min, max] | best constant | lowest recall (min) | targets met | minutes (max) |"
            + (" peak RSS GB (max) | load average (max) |" if mem else ''), "|---|---|---|---|---|---|---|---|" + ('---|---|' if mem else '')]
    for suite, a in res['spread'].items():
        if not a['runs']: continue
        sh, rec = a['shipped'], a['min_recall']
        rows.append(f"| `{suite}` | {a['runs']} | {a['before']['mean']:.3f} | {sh['mean']:.3f} [{sh['min']:.3f}, {sh['max']:.3f}] | "
                    f"{f3(a['best_constant'])} | {f3(rec and rec['min'])} | {a['targets_met']}/{a['runs']} | {a['minutes']['max']:.1f} |"
                    + (f" {a['peak_rss_gb']['max']:.2f} | {a['load_average']['max']:.2f} |" if mem else ''))
    sets = [f"`{r['suite']}` seed {r['seed']} (" + '; '.join(([' '.join(f"`--set {kv}`" for kv in r['settings'])] if r.get('settings') else [])
                                                        + ([f"the registry's recipe for `{r['base']}`: " + ' '.join(f"`{kv}`" for kv in r['recipe'])] if r.get('recipe') else [])) + ")"
            for r in sorted(res['runs'], key=lambda r: (r['suite'], r['seed'])) if r.get('settings') or r.get('recipe')]
    if sets: rows += ['', "Runs with settings on top of the default recipe: " + ', '.join(sets) + '.']
    return '\n'.join(rows)


def why_table(res: dict) -> str:
    "For every run that missed a target: the verdict's reasons (and, for runs that measured the start model on dev, whether the shipped file is worth deploying), its shipped file's test ε over its test templates resampled whole where the tasks name them, and its test ε per value of each task meta key (`by_meta`): the README's 'why' block."
    from specter_lab.loop import why_text
    rows = []
    for r in sorted(res['runs'], key=lambda r: (r['suite'], r['seed'])):
        if 'error' in r or r['verdict']['passed']: continue
        rows += [f"`{r['suite']}` seed {r['seed']}: " + why_text(r['verdict']['why'] + ([r['not_worth_deploying'] + '.'] if r.get('not_worth_deploying') else [])), '']
        if not r.get('by_meta'): continue
        tp = [(m['passes'], m['n']) for m in r['by_meta'] if m['key'] == 'template']
        if len(tp) >= 2:   # tasks of one template pass or fail together: ε rests on the templates (chapter epsilon)
            from specter_lab.epsilon import cluster_interval
            lo, hi = cluster_interval(*zip(*tp)); e = r['epsilon_after']
            rows += [f"Its shipped file's test ε {e['hat']:.3f} lies in [{lo:.3f}, {hi:.3f}] over its {len(tp)} test templates resampled whole "
                     f"(`cluster_interval`), in [{e['ci95'][0]:.3f}, {e['ci95'][1]:.3f}] over its {e['n']} tasks.", '']
        rows += ["| task meta | value | test tasks | ε of the shipped file [95% CI] | most often wrong |", "|---|---|---|---|---|"]
        rows += [f"| {m['key']} | {m['value']} | {m['n']} | {m['epsilon']:.3f} [{m['ci95_low']:.3f}, {m['ci95_high']:.3f}] | {m['most_wrong'] or '–'} |"
                 for m in r['by_meta']] + ['']
    return '\n'.join(rows).strip() or 'Every run met the targets.'


def read_results(files: list) -> dict:
    "The runs of one results file, or of several merged (`merge`: a later file's run of a suite and seed wins)."
    files = [Path(f) for f in files]
    return json.loads(files[0].read_text()) if len(files) == 1 else merge(files[0], files[1:])


def merge(results: Path, sources: list[Path]) -> dict:
    "Runs of `sources` (results files written elsewhere, e.g. in a worktree) merged into `results`: a source's run replaces the same suite and seed."
    res = json.loads(results.read_text()) if results.is_file() else {'runs': []}
    for src in sources:
        try: runs = json.loads(Path(src).read_text())['runs']
        except (OSError, ValueError, KeyError) as e: sys.exit(f"{src}: not a results file of this benchmark ({type(e).__name__}: {e})")
        keys = {(r['suite'], r['seed']) for r in runs}
        res['runs'] = [x for x in res['runs'] if (x['suite'], x['seed']) not in keys] + runs
    res['runs'].sort(key=lambda r: (r['suite'], r['seed']))
    res['spread'] = spread(res['runs'])
    return res


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--suites', help="comma-separated bundled suite names or suite files (default: every bundled suite)")
    p.add_argument('--seeds', default='0,1,2')
    p.add_argument('--work', default='runs/bench')
    p.add_argument('--base', help="base model of every run (default: [model] base, the embedded model)")
    p.add_argument('--results', default=str(OUT), help="results file (default: benchmarks/results/loop_suites.json)")
    p.add_argument('--set', action='append', default=[], metavar='KEY=VALUE', help="a setting on top of the default recipe, for every run (repeatable; use its own --results and --work)")
    p.add_argument('--merge', nargs='+', metavar='FILE', help="merge the runs of these results files into --results (same suite and seed: the file's run wins), rewrite the spread and exit")
    p.add_argument('--by-meta', action='store_true', help="(re)compute each recorded run's ε per task meta value from its run folder (where it still exists) and exit")
    a = p.parse_args(argv)
    if a.by_meta:
        res = json.loads(Path(a.results).read_text())
        for r in res['runs']:
            if 'run' in r and (ROOT / r['run']).is_dir(): r['by_meta'] = by_meta(ROOT / r['run'], r.get('tasks') or r['suite']); print(r['suite'], r['seed'], len(r['by_meta']), 'rows')
        Path(a.results).write_text(json.dumps(res, indent=1, ensure_ascii=False) + '\n')
        return 0
    if a.merge:
        res = merge(Path(a.results), [Path(f) for f in a.merge])
        Path(a.results).write_text(json.dumps(res, indent=1, ensure_ascii=False) + '\n')
        print(table(res))
        return 0
    from specter_lab.suite import bundled_names
    suites = a.suites.split(',') if a.suites else bundled_names()
    out = Path(a.results)
    res = json.loads(out.read_text()) if out.is_file() else {'runs': []}
    for suite in suites:
        seeds = list(map(int, a.seeds.split(',')))
        for seed in seeds:
            r = run_one(suite, seed, ROOT / a.work, seeds[0], a.base, a.set)
            res['runs'] = [x for x in res['runs'] if (x['suite'], x['seed']) != (r['suite'], seed)] + [r]
            res['spread'] = spread(res['runs'])
            out.write_text(json.dumps(res, indent=1, ensure_ascii=False) + '\n')
            print(json.dumps({k: r.get(k) for k in ('suite', 'seed', 'epsilon_after', 'verdict', 'error')}, ensure_ascii=False)[:600], flush=True)
    print(table(res))
    return 0


if __name__ == '__main__':
    sys.exit(main())

"""The training-data export at scale: extraction + DPO export of a 1,000,000-artifact DAG (time, peak RSS), and the time ratio
against AtomicGuard 2.39.1's own `export_training` on a 100,000-artifact DAG.

    flock /tmp/specter-cpu.lock .venv/bin/python benchmarks/extract_million.py

Writes benchmarks/results/extract_million.json. The synthetic DAGs are written with `ArtifactDAG.put` (the
guarded loop's writer) once and cached under --work (default /tmp/specter_bench); generation is not timed.
Each export runs as its own `specter-lab export` process; peak RSS is its ru_maxrss (largest process of its tree),
and the tree's summed RSS is sampled too (shared pages of forked workers counted once per process: an upper bound).

Page cache: this machine's kernel (DAMON reclaim) evicts file pages left untouched for 30 s, so the 1M DAG (4 GB on
disk, one 4 KB block per object) is read from disk on every run. On the 100k DAG ours runs first (cold), then
AtomicGuard and ours alternate --repeats times, all warm (the files were read seconds earlier): `speedup` compares the
median warm runs; `speedup_paired` is the median ratio of each AtomicGuard run to our run right after it (the VM's
speed drifts by 10-20% over a minute, which pairing cancels).
`floors` measures what any reader pays on the 1M DAG: the index load, a bare os.open/os.read/os.close loop over the
object files one after the other, the same reads through `ArtifactDAG.read_ahead` (64 files asked of the disk ahead
with posix_fadvise; then again, warm), and decoding (msgspec to dicts; `_typed`, straight into the dataclasses); it runs last, 45 s
after the exports, on a cold cache.
"""
from __future__ import annotations
import argparse, json, os, platform, resource, statistics, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'tests'))
from specter_lab.artifact import ArtifactDAG, Artifact, Context, GuardResult, Status, Source
from specter_lab.files import write_json

APS = ('g_screen', 'g_summary', 'g_plan', 'g_coder')
SYSTEM = "You screen deal profiles for a seed fund. Answer 'LIKE - <reason>' or 'PASS - <reason>' on one line."


def generate(out: Path, n: int, seed: int = 0) -> dict:
    "A synthetic DAG of about `n` artifacts in chains of 1..7 attempts (mean 4); 1 in 10 chains fails, half of those get a human answer."
    import random
    rng = random.Random(seed)
    done = out/'.complete'
    if done.exists() and json.loads(done.read_text()).get('n') == n: return json.loads(done.read_text())
    if out.exists():
        import shutil; shutil.rmtree(out)
    t0, stored, chains, c = time.time(), 0, 0, 0
    with ArtifactDAG(out) as dag:
        while stored < n:
            length = min(1 + c % 7, n - stored)
            ap, wf = APS[c % len(APS)], f'wf-{c // 1000:06d}'
            spec = f"Evaluate: founder profile {c}: {rng.choice(['ex-Google', 'YC W24', 'Series D', 'solo'])} " + 'background ' * 12
            fails = c % 10 == 9 and length > 1
            prev, history = None, []
            for j in range(length):
                last = j == length - 1
                human = fails and last and c % 20 == 19
                ok = (last and not fails) or human
                content = (f"LIKE - reason {c}" if ok else f"attempt {j} of task {c}: maybe like it") + ' because' * 8
                aid = f"{rng.getrandbits(32):08x}-{j:04x}-4000-8000-{c:012x}"   # random prefix: 256 object folders, as with UUIDs
                g = GuardResult(ok, '' if ok else f"must start with 'LIKE - ' or 'PASS - ' (attempt {j + 1})", guard_name='format')
                a = Artifact(aid, wf, content, prev, None, ap, f"2026-11-{1 + c % 28:02d}T{j % 24:02d}:00:00+00:00", j + 1,
                             Status.ACCEPTED if ok else Status.REJECTED, None if human else g,
                             Context(wf, spec, SYSTEM, list(history)), {}, Source.HUMAN if human else Source.GENERATED)
                dag.put(a); stored += 1
                if not ok: history.append({'artifact_id': aid, 'feedback': g.feedback})
                prev = aid
            chains += 1; c += 1
    info = {'n': stored, 'chains': chains, 'generate_s': round(time.time() - t0, 1)}
    done.write_text(json.dumps(info))
    return info


def run(cmd) -> dict:
    "Run `cmd`: wall time, peak RSS of its largest process (ru_maxrss from wait4), and peak RSS summed over its process tree (sampled every 0.1 s)."
    import psutil, tempfile
    with tempfile.TemporaryFile('w+') as out, tempfile.TemporaryFile('w+') as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(list(map(str, cmd)), stdout=out, stderr=err, text=True)
        ps, tree_peak = psutil.Process(proc.pid), 0
        while True:
            pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
            if pid: break
            try: tree_peak = max(tree_peak, sum(p.memory_info().rss for p in [ps, *ps.children(recursive=True)]))
            except psutil.Error: pass
            time.sleep(0.1)
        s = time.perf_counter() - t0
        out.seek(0); err.seek(0); o, e = out.read(), err.read()
    if os.waitstatus_to_exitcode(status) != 0: raise SystemExit(f"{' '.join(map(str, cmd))} failed ({status}):\n{o[-3000:]}\n{e[-3000:]}")
    return {'s': s, 'cpu_s': ru.ru_utime + ru.ru_stime, 'rss_kb': ru.ru_maxrss, 'tree_rss_mb': tree_peak / 2**20, 'out': o}


def floors(dag: Path) -> dict:
    "The floors under an export of `dag`: index load, bare cold reads (one file after the other on the first 200k objects; with `read_ahead`'s queue of asked-for files on the rest), decoding."
    import msgspec
    from specter_lab.artifact import _read_bytes, _typed
    t0 = time.process_time(); d = ArtifactDAG(dag, create=False); index_cpu = time.process_time() - t0
    ids = d.ids()
    out = {'index_cpu_seconds': round(index_cpu, 2)}
    for name,chunk,read in (('read_one_by_one', ids[:200_000], lambda ch: (_read_bytes(d._object_file(a)) for a in ch)),
                            ('read_ahead', ids[200_000:], lambda ch: (r for _,r in d.read_ahead(ch)))):
        t0, c0 = time.perf_counter(), os.times()
        n = sum(map(len, read(chunk)))
        s, c1 = time.perf_counter() - t0, os.times()
        out[name] = {'files': len(chunk), 'seconds': round(s, 2), 'us_per_file': round(s / len(chunk) * 1e6, 1),
                     'user_s': round(c1.user - c0.user, 2), 'sys_s': round(c1.system - c0.system, 2), 'bytes': n}
    t0 = time.perf_counter(); sum(len(r) for _,r in d.read_ahead(ids[-100_000:]))   # read seconds ago: from the page cache
    out['read_ahead_warm'] = {'files': 100_000, 'us_per_file': round((time.perf_counter() - t0) / 100_000 * 1e6, 1)}
    raws = [_read_bytes(d._object_file(a)) for a in ids[:100_000]]
    for name,dec in (('msgspec_decode_us_per_object', msgspec.json.Decoder().decode), ('typed_decode_us_per_object', _typed)):
        t0 = time.process_time()
        for r in raws: dec(r)
        out[name] = round((time.process_time() - t0) / len(raws) * 1e6, 2)
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--n', type=int, default=1_000_000)
    p.add_argument('--ag-n', type=int, default=100_000)
    p.add_argument('--work', default='/tmp/specter_bench')
    p.add_argument('--skip-atomicguard', action='store_true')
    p.add_argument('--repeats', type=int, default=5, help="warm runs of each export on the 100k DAG, alternating; the medians are compared")
    p.add_argument('--skip-million', action='store_true', help="only the 100k comparison (keeps the million results already in --out)")
    p.add_argument('--skip-floors', action='store_true', help="do not measure the read and decode floors on the 1M DAG")
    p.add_argument('--out', default=str(ROOT/'benchmarks'/'results'/'extract_million.json'))
    a = p.parse_args(argv)
    work = Path(a.work); work.mkdir(parents=True, exist_ok=True)
    cli = [sys.executable, '-m', 'specter_lab', 'export', '--no-progress']
    # Bytecode for our modules, as AtomicGuard's pip install has for its own: the editable install never gets any where
    # PYTHONDONTWRITEBYTECODE is set (as on these machines), and compiling them costs each run ~30 ms.
    import compileall; compileall.compile_dir(ROOT/'specter_lab', quiet=1)
    res = json.loads(Path(a.out).read_text()) if a.skip_million and Path(a.out).exists() else {}
    res['machine'] = {'cpus': os.cpu_count(), 'python': platform.python_version(), 'load_avg_at_start': os.getloadavg()}

    for fmt in () if a.skip_million else ('dpo', 'sft'):
        big = generate(work/'dag-1m', a.n)
        r = run([*cli, '--dag-path', work/'dag-1m', '--format', fmt, '--output', work/f'1m.{fmt}.jsonl', '--summary', work/f'1m.{fmt}.summary.json'])
        s = json.loads((work/f'1m.{fmt}.summary.json').read_text())
        res[f'million_{fmt}'] = {'artifacts': big['n'], 'chains': big['chains'], 'records': s['written'], 'seconds': round(r['s'], 2),
                                 'cpu_seconds': round(r['cpu_s'], 2),
                                 'peak_rss_mb': round(r['rss_kb'] / 1024, 1),
                                 'peak_tree_rss_mb': round(r['tree_rss_mb'], 1), 'target_seconds': 60, 'target_rss_mb': 1536}
        print(f"1M {fmt}: {s['written']} records in {r['s']:.1f} s, peak RSS {r['rss_kb'] / 1024:.0f} MB "
              f"(process tree, shared pages counted per process: {r['tree_rss_mb']:.0f} MB)", flush=True)

    if not a.skip_atomicguard:
        from atomicguard_env import atomicguard_python
        small = generate(work/'runs'/'bench'/'artifact_dags'/'dag-100k', a.ag_n, seed=1)
        dag = work/'runs'/'bench'/'artifact_dags'/'dag-100k'
        prompts = {ap: {'role': 'You are a careful assistant.', 'constraints': SYSTEM, 'task': 'Task:\n{specification}'} for ap in APS}
        write_json(work/'prompts.json', prompts)
        ours_cmd = [*cli, '--dag-path', dag, '--format', 'sft', '--filter', 'refinement', '--prompt-template', work/'prompts.json',
                    '--output', work/'100k.ours.jsonl']
        ag_cmd = [atomicguard_python(), '-m', 'atomicguard.tools', 'export-training', '--runs-dir', work/'runs', '--ap-context',
                  work/'prompts.json', '--filter', 'refinement', '--output', work/'100k.ag.jsonl']
        cold = run(ours_cmd)
        ags, ourss = [], []
        for _ in range(a.repeats):   # alternating, so that a slow spell of the VM hits both
            ags.append(run(ag_cmd)); ourss.append(run(ours_cmd))
        med = lambda rs: sorted(rs, key=lambda r: r['s'])[len(rs) // 2]
        ag, ours = med(ags), med(ourss)
        same = sorted((work/'100k.ours.jsonl').read_text().splitlines()) == sorted((work/'100k.ag.jsonl').read_text().splitlines())
        res['atomicguard_100k'] = {'artifacts': small['n'], 'ours_cold_seconds': round(cold['s'], 2),
                                   'ours_seconds': round(ours['s'], 2), 'ours_cpu_seconds': round(ours['cpu_s'], 2),
                                   'ours_peak_rss_mb': round(ours['rss_kb'] / 1024, 1), 'atomicguard_seconds': round(ag['s'], 2),
                                   'atomicguard_cpu_seconds': round(ag['cpu_s'], 2), 'atomicguard_peak_rss_mb': round(ag['rss_kb'] / 1024, 1),
                                   'speedup': round(ag['s'] / ours['s'], 2), 'goal_speedup': 5, 'same_examples': same,
                                   'speedup_paired': round(statistics.median(g['s'] / o['s'] for g,o in zip(ags, ourss)), 2),
                                   'runs': a.repeats, 'ours_runs_seconds': [round(r['s'], 2) for r in ourss],
                                   'atomicguard_runs_seconds': [round(r['s'], 2) for r in ags],
                                   'examples': len((work/'100k.ours.jsonl').read_text().splitlines())}
        print(f"100k SFT refinement: ours {ours['s']:.2f} s ({ours['cpu_s']:.1f} s CPU; {cold['s']:.1f} s cold), AtomicGuard export_training {ag['s']:.2f} s "
              f"({ag['cpu_s']:.1f} s CPU) -> {ag['s'] / ours['s']:.2f}x; "
              f"same examples: {same}", flush=True)
    if not a.skip_million and not a.skip_floors:   # last, in its own process (ru_maxrss survives fork/exec), on a cold cache
        time.sleep(45)
        code = f"import sys, json; sys.path.insert(0, {str(ROOT/'benchmarks')!r}); import extract_million as e; print(json.dumps(e.floors(e.Path({str(work/'dag-1m')!r}))))"
        res['floors_1m'] = json.loads(subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout)
        print('1M floors:', json.dumps(res['floors_1m']), flush=True)
    write_json(a.out, res)
    print(json.dumps(res, indent=2))


if __name__ == '__main__': main()

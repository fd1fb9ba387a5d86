"""Fuzz every reader of user input with >= 10,000 generated malformed inputs (issue 18); write benchmarks/results/fuzz.json.

    flock /tmp/specter-cpu.lock .venv/bin/python benchmarks/fuzz.py [--cases 12000]

The cases are those of tests/fuzzing.py (the CI runs a few hundred of them in tests/test_fuzz.py): each reader gets
hostile mutations of a valid file (invalid by construction: it must be refused with a SpecterError naming the file)
and random ones (read, or refused that way). Counted per reader: refused, read, and the failures the issue asks to be
zero: crashes (any other exception), hangs (over the per-case limit), silently accepted hostile inputs, errors that do
not name the file, and files left behind by a failed export.
"""
from __future__ import annotations
import argparse, collections, os, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'tests'))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--cases', type=int, default=12_000)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--out', default=str(ROOT/'benchmarks'/'results'/'fuzz.json'))
    a = p.parse_args(argv)
    import fuzzing as F
    from specter_lab.files import write_json
    work = Path(tempfile.mkdtemp(prefix='fuzz-'))/'case'
    rs = F.readers(); F.check_bases(rs, work)
    per = {r[0]: collections.Counter() for r in rs}
    failures, slowest = [], (0.0, None)
    t0 = time.perf_counter()
    for i in range(a.cases):
        r = rs[i % len(rs)]
        seed = a.seed * 1_000_003 + i
        must, data = F.case(r, seed)
        t = time.perf_counter()
        verdict, detail = F.run_case(r, data, must, work)
        dt = time.perf_counter() - t
        if dt > slowest[0]: slowest = (dt, f"{r[0]} seed {seed}")
        per[r[0]][('hostile ' if must else 'random ') + verdict] += 1
        if verdict not in ('ok', 'refused'): failures.append({'reader': r[0], 'seed': seed, 'verdict': verdict, 'detail': detail[:500]})
    total = collections.Counter()
    for c in per.values():
        for k,v in c.items(): total[k.split(' ', 1)[1]] += v
    res = {'cases': a.cases, 'readers': len(rs), 'seconds': round(time.perf_counter() - t0, 1), 'limit_s': F.LIMIT,
           'slowest_case_s': round(slowest[0], 3), 'slowest_case': slowest[1], 'load_avg_at_start': os.getloadavg(),
           'hostile_cases': sum(v for c in per.values() for k,v in c.items() if k.startswith('hostile')),
           'crashes': total['crash'], 'hangs': total['hang'], 'silently_accepted': total['accepted'],
           'unnamed_file': total['unnamed'], 'left_behind': total['leftover'], 'refused': total['refused'], 'read': total['ok'],
           'per_reader': {k: dict(sorted(c.items())) for k,c in per.items()}, 'failures': failures[:50]}
    write_json(a.out, res)
    print({k: res[k] for k in ('cases', 'seconds', 'crashes', 'hangs', 'silently_accepted', 'unnamed_file', 'left_behind', 'refused', 'read', 'slowest_case_s')})
    for f in failures[:10]: print(f)
    return 0 if not failures else 1


if __name__ == '__main__':
    raise SystemExit(main())

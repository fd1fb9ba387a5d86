"""The per-object costs behind the training-data export, on the 100,000-artifact DAG of extract_million.py (warm page cache).

    flock /tmp/specter-cpu.lock .venv/bin/python benchmarks/extract_micro.py

Writes benchmarks/results/extract_micro.json, in µs per object (best of 3 passes over 50,000 objects, GC paused as in
an export's shards):
- reading: `ArtifactDAG.read_ahead` against a plain os.open/os.read/os.close loop, both from the page cache;
- decoding: `get` (msgspec straight into the dataclasses: `_typed`, then the index checks) against `get` with that fast
  path off (msgspec to a dict, then `artifact_from_dict`, as every object went before), and the careful decode alone;
- formatting: an SFT record's JSON line by msgspec (`export._line`) against `json.dumps(r, ensure_ascii=False)`.
"""
from __future__ import annotations
import argparse, gc, json, os, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def best(f, items, reps:int=3) -> float:
    "µs per item of `f(item)` over `items`, results dropped as a stream drops them; best of `reps` passes."
    out = []
    for _ in range(reps):
        t = time.perf_counter()
        for x in items: f(x)
        out.append((time.perf_counter() - t) / len(items) * 1e6)
    return round(min(out), 2)


def careful(f):
    "`f()` with `get`'s fast path turned off: every object through msgspec-to-dict and `artifact_from_dict`, as before it."
    import specter_lab.artifact as A
    typed, A._typed = A._typed, lambda raw: None
    try: return f()
    finally: A._typed = typed


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--dag', default='/tmp/specter_bench/runs/bench/artifact_dags/dag-100k', help="made by extract_million.py")
    p.add_argument('--n', type=int, default=50_000)
    p.add_argument('--out', default=str(ROOT/'benchmarks'/'results'/'extract_micro.json'))
    a = p.parse_args(argv)
    import msgspec
    from specter_lab.artifact import ArtifactDAG, _read_bytes, artifact_from_dict
    from specter_lab.export import _line
    from specter_lab.trace import walk, make_trace, sft_record
    d = ArtifactDAG(a.dag, create=False)
    ids = d.ids()[:a.n]
    paths = [d._object_file(i) for i in ids]
    raws = [r for _,r in d.read_ahead(ids)]   # also warms the page cache
    dec = msgspec.json.Decoder().decode
    recs = [sft_record(make_trace(x, prior)) for x,prior in walk(d, ids=ids) if x.status == 'accepted' and prior]
    gc.disable()
    res = {'dag': a.dag, 'objects': len(ids), 'load_avg_at_start': os.getloadavg(),
           'read_ahead_us': round(best(lambda _: sum(len(r) for _,r in d.read_ahead(ids)), [0]) / len(ids), 2),
           'plain_read_us': best(_read_bytes, paths),
           'get_us': best(lambda ir: d.get(*ir), list(zip(ids, raws))),
           'careful_decode_us': best(lambda r: artifact_from_dict(dec(r)), raws),
           'get_careful_us': careful(lambda: best(lambda ir: d.get(*ir), list(zip(ids, raws)))),
           'records': len(recs),
           'line_msgspec_us': best(_line, recs),
           'line_json_dumps_us': best(lambda r: (json.dumps(r, ensure_ascii=False) + '\n').encode(), recs)}
    gc.enable()
    Path(a.out).write_text(json.dumps(res, indent=2) + '\n')
    print(json.dumps(res, indent=2))


if __name__ == '__main__': main()

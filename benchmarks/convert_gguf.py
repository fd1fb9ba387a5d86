"""Benchmark: HF -> f16 GGUF with specter_lab.gguf against llama.cpp's convert_hf_to_gguf.py.

Converts the embedded SmolLM2-135M-Instruct (its cached float32 safetensors folder, `embedded_hf_dir()`)
with both converters, alternately, `--repeats` times each, in fresh processes; reports the best wall
time of each and their ratio (goal: ours <= 1.0x), each one's peak RSS against the model's size on disk
(goal: ours <= 2x), and whether the two f16 files hold identical tensors (names, types, shapes, bytes).
Writes benchmarks/results/convert_gguf.json. Run it under the CPU lock:

    flock /tmp/specter-cpu.lock .venv/bin/python benchmarks/convert_gguf.py --llama-cpp /path/to/llama.cpp

`--llama-cpp` is a llama.cpp source tree with convert_hf_to_gguf.py, conversion/ and gguf-py/ (never
committed here). The folder given to both converters is the cached folder with `quantization_config`
removed from config.json: transformers leaves that GGUF marker in the config of a dequantized model and
llama.cpp's converter refuses it ("Quant method is not yet supported: 'gguf'").
"""
import argparse, json, os, platform, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def run(cmd, env=None):
    "Run `cmd`; return (wall seconds, peak RSS bytes of that process)."
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, **(env or {})})
    _, status, ru = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t0
    err = p.stderr.read().decode(errors='replace'); p.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0: raise SystemExit(f"{cmd[:3]} failed:\n{err[-2000:]}")
    return dt, ru.ru_maxrss * 1024


def clean_copy(src: Path, dst: Path) -> Path:
    "Symlink the model folder's files into `dst`, with config.json minus `quantization_config`."
    dst.mkdir(parents=True)
    for f in src.iterdir():
        if f.name != 'config.json': (dst/f.name).symlink_to(f.resolve())
    cfg = json.loads((src/'config.json').read_text()); cfg.pop('quantization_config', None)
    (dst/'config.json').write_text(json.dumps(cfg, indent=2))
    return dst


def compare(a: Path, b: Path) -> dict:
    "Tensor-by-tensor and key-by-key comparison of two GGUF files."
    import numpy as np
    from gguf import GGUFReader
    ra, rb = GGUFReader(a), GGUFReader(b)
    ta, tb = {t.name: t for t in ra.tensors}, {t.name: t for t in rb.tensors}
    differ = [n for n in sorted(set(ta) & set(tb)) if ta[n].tensor_type != tb[n].tensor_type
              or list(ta[n].shape) != list(tb[n].shape) or not np.array_equal(np.asarray(ta[n].data), np.asarray(tb[n].data))]
    def val(f):
        v = f.contents()
        return v if not isinstance(v, list) or len(v) < 20 else f"<{len(v)} items, hash {hash(tuple(map(str, v)))}>"
    fa = {k: val(f) for k, f in ra.fields.items() if not k.startswith('GGUF.')}
    fb = {k: val(f) for k, f in rb.fields.items() if not k.startswith('GGUF.')}
    return dict(tensors=len(ta), tensors_only_ours=sorted(set(ta) - set(tb)), tensors_only_llama_cpp=sorted(set(tb) - set(ta)),
                tensors_differing=differ, tensors_identical=not differ and set(ta) == set(tb),
                keys_only_ours=sorted(set(fa) - set(fb)), keys_only_llama_cpp=sorted(set(fb) - set(fa)),
                keys_differing={k: [str(fa[k])[:80], str(fb[k])[:80]] for k in sorted(set(fa) & set(fb)) if fa[k] != fb[k]})


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--llama-cpp', required=True, help="llama.cpp source tree (convert_hf_to_gguf.py, conversion/, gguf-py/)")
    ap.add_argument('--repeats', type=int, default=3)
    ap.add_argument('--out', default=str(ROOT/'benchmarks'/'results'/'convert_gguf.json'))
    a = ap.parse_args(argv)
    script = Path(a.llama_cpp)/'convert_hf_to_gguf.py'
    if not script.is_file(): raise SystemExit(f"{script}: not found")
    from specter_lab.model import embedded_hf_dir
    from specter_lab.files import write_json
    src = embedded_hf_dir()
    model_bytes = sum(f.stat().st_size for f in src.glob('*.safetensors'))
    with tempfile.TemporaryDirectory(prefix='bench-gguf-') as t:
        t = Path(t)
        model = clean_copy(src, t/'SmolLM2-135M-Instruct')
        ours_out, ref_out = t/'ours-f16.gguf', t/'llama-cpp-f16.gguf'
        ours_cmd = [sys.executable, '-c', f"from specter_lab.gguf import convert_hf; convert_hf({str(model)!r}, {str(ours_out)!r}, 'f16')"]
        ref_cmd = [sys.executable, str(script), str(model), '--outtype', 'f16', '--outfile', str(ref_out)]
        times = {'ours': [], 'llama_cpp': []}; rss = {'ours': [], 'llama_cpp': []}
        run(ours_cmd)  # warm the page cache and both import caches once, unmeasured
        run(ref_cmd)
        for i in range(a.repeats):
            for k, cmd in (('ours', ours_cmd), ('llama_cpp', ref_cmd)):
                dt, r = run(cmd); times[k].append(round(dt, 3)); rss[k].append(r)
                print(f"run {i+1} {k:<9} {dt:6.2f} s  peak RSS {r/2**20:7.1f} MiB", flush=True)
        cmp = compare(ours_out, ref_out)
        sizes = {'ours': ours_out.stat().st_size, 'llama_cpp': ref_out.stat().st_size}
    best = {k: min(v) for k, v in times.items()}
    res = dict(
        model='SmolLM2-135M-Instruct (embedded, float32 safetensors)', model_bytes=model_bytes, outtype='f16', repeats=a.repeats,
        seconds=times, best_seconds=best, time_ratio=round(best['ours'] / best['llama_cpp'], 3),
        peak_rss_bytes={k: max(v) for k, v in rss.items()},
        peak_rss_over_model={k: round(max(v) / model_bytes, 3) for k, v in rss.items()},
        gguf_bytes=sizes, comparison=cmp,
        goals=dict(time_ratio_le_1=best['ours'] <= best['llama_cpp'], rss_le_2x_model=max(rss['ours']) <= 2 * model_bytes,
                   identical_f16_tensors=cmp['tensors_identical']),
        llama_cpp_converter=str(script), machine=dict(cpus=os.cpu_count(), python=platform.python_version()),
        command=' '.join(['flock /tmp/specter-cpu.lock .venv/bin/python benchmarks/convert_gguf.py --llama-cpp', a.llama_cpp]),
        date=time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()))
    write_json(a.out, res)
    print(json.dumps({k: res[k] for k in ('best_seconds', 'time_ratio', 'peak_rss_over_model', 'goals')}, indent=1))
    print(f"tensors: {cmp['tensors']} identical={cmp['tensors_identical']}; keys only ours {cmp['keys_only_ours']}, "
          f"only llama.cpp {cmp['keys_only_llama_cpp']}, differing {list(cmp['keys_differing'])}")
    print(f"wrote {a.out}")


if __name__ == '__main__':
    main()

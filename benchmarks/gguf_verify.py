"""Benchmark: the convert stage on the real model, end to end, with its verification numbers.

Converts the embedded SmolLM2-135M-Instruct (float32 safetensors, `embedded_hf_dir()`) to f16 and
quantizes it (Q4_K_M, Q5_K_M, Q8_0 by default) with `specter_lab.gguf.convert`, then records per file:
size, conversion/quantization seconds, greedy agreement with transformers on 20 prompts x 16 tokens
(against the f16-rounded and the float32 model), the largest logit difference, perplexity on the
default held-out text and its ratio to f16, and ε on the first `--epsilon` test tasks of the
deal_screening suite when the suite chapter is installed. Writes benchmarks/results/gguf_verify.json.

    flock /tmp/specter-cpu.lock .venv/bin/python benchmarks/gguf_verify.py
"""
import argparse, json, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--quant', default='q4_k_m,q5_k_m,q8_0')
    ap.add_argument('--prompts', type=int, default=20)
    ap.add_argument('--tokens', type=int, default=16)
    ap.add_argument('--epsilon', type=int, default=40, help="test tasks for ε (0 = skip)")
    ap.add_argument('--out', default=str(ROOT/'benchmarks'/'results'/'gguf_verify.json'))
    a = ap.parse_args(argv)
    from specter_lab.files import write_json
    from specter_lab.gguf import convert
    from specter_lab.model import EMBEDDED_NAME, embedded_hf_dir
    src = embedded_hf_dir()
    with tempfile.TemporaryDirectory(prefix='bench-gguf-verify-') as d:
        t0 = time.time()
        m = convert(src, d, a.quant.split(','), 'f16', EMBEDDED_NAME, 'apache-2.0', f'HuggingFaceTB/{EMBEDDED_NAME}',
                    prompts=a.prompts, max_tokens=a.tokens, epsilon_limit=a.epsilon)
        total = time.time() - t0
    rows = []
    for f in m['files']:
        v = f.get('verification', {})
        g, g32 = v.get('greedy', {}), v.get('greedy_vs_f32')
        rows.append(dict(file=f['name'], type=f['type'], bytes=f['bytes'], seconds=f['seconds'], passed=v.get('passed'),
                         greedy_equal=g.get('equal'), greedy_ties=g.get('ties'), prompts=g.get('prompts'),
                         tokenizer_equal=g.get('tokenizer_equal'), max_logit_diff=g.get('max_logit_diff'),
                         greedy_equal_vs_f32=g32 and g32['equal'], max_logit_diff_vs_f32=g32 and g32['max_logit_diff'],
                         eos_matches=g.get('eos_matches'), chat_template=g.get('chat_template'),
                         perplexity=v.get('perplexity'), perplexity_tokens=v.get('tokens'), perplexity_ratio=v.get('perplexity_ratio'),
                         epsilon=v.get('epsilon'), mismatches=g.get('mismatches')))
    res = dict(model=f'{EMBEDDED_NAME} (embedded, float32 safetensors)', prompts=a.prompts, tokens=a.tokens, passed=m['passed'],
               total_seconds=round(total, 1), files=rows,
               command='flock /tmp/specter-cpu.lock .venv/bin/python benchmarks/gguf_verify.py' + (f' --quant {a.quant}' if a.quant != 'q4_k_m,q5_k_m,q8_0' else ''),
               date=time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()))
    write_json(a.out, res)
    for r in rows:
        eps = r['epsilon'] or {}
        print(f"{r['file']:<42} {r['bytes']/1e6:7.1f} MB  {'PASS' if r['passed'] else 'FAIL'}  greedy {r['greedy_equal']}/{r['prompts']} "
              f"(ties {r['greedy_ties']})  max|Δlogit| {r['max_logit_diff']:.4f}  ppl {r['perplexity']:.3f}"
              + (f" ({r['perplexity_ratio']:.3f}x)" if r['perplexity_ratio'] else '') + (f"  ε {eps['epsilon']:.3f}" if 'epsilon' in eps else ''))
    print(f"wrote {a.out}")


if __name__ == '__main__':
    main()

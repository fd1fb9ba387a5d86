"""Benchmark: our HF -> f16 GGUF converter against llama.cpp's on a tiny model of each family.

For each family the lab trains (llama as Llama 3.2: Llama 3 rotary scaling and untied embeddings; qwen2;
qwen3; gemma3), builds `specter_lab.model.tiny_model(family)` (real tokenizers: Llama 3's and Qwen2's
from llama.cpp's vocabulary GGUFs, the embedded SmolLM2 one for gemma3), converts it with both converters,
alternately, `--repeats` times each in fresh processes (llama.cpp's is the copy kept at install from the
llama-cpp-python source, `specter_lab.gguf.llama_cpp_script`), and reports the best wall time of each,
whether the two files hold identical tensors (names, types, shapes, bytes) and which metadata keys differ,
and greedy parity of our file with transformers (tokens, tokenization, chat template, EOS).
Writes benchmarks/results/convert_families.json. Run it under the CPU lock:

    flock /tmp/specter-cpu.lock .venv/bin/python benchmarks/convert_families.py
"""
import argparse, platform, sys, tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT/'benchmarks')]
from convert_gguf import compare, run   # one home: the timing and comparison of the SmolLM2 benchmark


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--families', default='llama,qwen2,qwen3,gemma3')
    ap.add_argument('--repeats', type=int, default=3)
    ap.add_argument('--output', '--out', default=str(ROOT/'benchmarks'/'results'/'convert_families.json'))
    a = ap.parse_args(argv)
    from specter_lab.files import write_json
    from specter_lab.gguf import VERIFY_PROMPTS, compare_greedy, hf_reference, llama_cpp_script, round_weights
    from specter_lab.model import FAMILY_VOCABS, tiny_model
    script = llama_cpp_script()
    out = dict(llama_cpp=(script.parent/'VERSION').read_text().strip() if (script.parent/'VERSION').is_file() else '',
               outtype='f16', repeats=a.repeats, machine=dict(cpus=__import__('os').cpu_count(), python=platform.python_version()), families={})
    with tempfile.TemporaryDirectory(prefix='bench-families-') as t:
        for fam in a.families.split(','):
            d = Path(t)/fam
            model, tok = tiny_model(fam, d)
            ours_out, ref_out = Path(t)/f'{fam}-ours.gguf', Path(t)/f'{fam}-llama-cpp.gguf'
            ours_cmd = [sys.executable, '-c', f"from specter_lab.gguf import convert_hf; convert_hf({str(d)!r}, {str(ours_out)!r}, 'f16')"]
            ref_cmd = [sys.executable, str(script), str(d), '--outtype', 'f16', '--outfile', str(ref_out)]
            secs = dict(ours=[], llama_cpp=[])
            for _ in range(a.repeats):
                secs['ours'].append(round(run(ours_cmd)[0], 3)); secs['llama_cpp'].append(round(run(ref_cmd)[0], 3))
            cmp = compare(ours_out, ref_out)
            g = compare_greedy(ours_out, hf_reference(round_weights(model, 'f16'), tok, VERIFY_PROMPTS[:8], 8), tok)
            best = {k: min(v) for k,v in secs.items()}
            r = dict(config=model.config.architectures[0] if model.config.architectures else type(model).__name__,
                     params=sum(p.numel() for p in model.parameters()), layers=model.config.num_hidden_layers,
                     tokenizer=FAMILY_VOCABS.get(fam, 'embedded SmolLM2-135M-Instruct'), seconds=secs, best_seconds=best,
                     time_ratio=round(best['ours'] / best['llama_cpp'], 3), comparison=cmp,
                     greedy={k: g[k] for k in ('prompts', 'equal', 'ties', 'tokenizer_equal', 'chat_template', 'eos_matches', 'max_logit_diff', 'passed')})
            out['families'][fam] = r
            print(f"{fam:7} ours {best['ours']:6.2f} s  llama.cpp {best['llama_cpp']:6.2f} s  ratio {r['time_ratio']:.3f}  "
                  f"tensors identical {cmp['tensors_identical']} ({cmp['tensors']})  keys only ours {cmp['keys_only_ours']}  "
                  f"only llama.cpp {cmp['keys_only_llama_cpp']}  differing {cmp['keys_differing']}  greedy {g['equal']}+{g['ties']}/{g['prompts']} passed {g['passed']}", flush=True)
    out['all_tensors_identical'] = all(r['comparison']['tensors_identical'] for r in out['families'].values())
    out['ours_faster_everywhere'] = all(r['time_ratio'] < 1 for r in out['families'].values())
    write_json(a.output, out)
    print(f"wrote {a.output}")


def table(res: dict) -> str:
    "The README's table of a results file: per family, both converters' best seconds, whether the tensors are identical and greedy parity."
    rows = ['| family | model | parameters | tokenizer | ours, best s | llama.cpp, best s | ours / llama.cpp | tensors identical | metadata values that differ (ours / llama.cpp) | greedy parity of ours (equal + ties / prompts) | chat template, EOS |',
            '|---|---|---|---|---|---|---|---|---|---|---|']
    for fam, r in res['families'].items():
        c, g, b = r['comparison'], r['greedy'], r['best_seconds']
        keys = '; '.join(f"`{k}`: {a} / {z}" for k, (a, z) in c['keys_differing'].items() if k != 'general.name') or '–'
        rows.append(f"| {fam} | `{r['config']}` | {r['params']:,} | {r['tokenizer']} | {b['ours']:.2f} | {b['llama_cpp']:.2f} | {r['time_ratio']:.3f} | "
                    f"{'yes' if c['tensors_identical'] else 'no'} ({c['tensors']}) | {keys} | {g['equal']} + {g['ties']} / {g['prompts']} | "
                    f"{'yes' if g['chat_template'] and g['eos_matches'] else 'no'} |")
    return '\n'.join(rows) + f"\n\nllama.cpp's converter: the one kept from the source of llama-cpp-python {res['llama_cpp'] or '(version unknown)'}; {res['repeats']} runs of each, alternately, in fresh processes."


if __name__ == '__main__':
    main()

"""Every generated block of the READMEs and the results file it is generated from: `--check` fails on a block that is not
what its results file gives (a number typed by hand, or a table not regenerated after a run), `--write` regenerates them.

    .venv/bin/python benchmarks/readme_blocks.py --check     # tests/test_readme.py runs this
    .venv/bin/python benchmarks/readme_blocks.py --write

A block stands between `<!-- name -->` and `<!-- /name -->`. `BLOCKS` says, per Markdown file, which results file each
block is generated from and by which benchmark's table: `loop_suites.py` (a loop table, and its `-why` block where the
file has one), `loop_pairs.py` (two versions of the loop, run by run), `recipe_rounds.py` (the rounds of training variants), `shape_effect.py` (files evaluated anew), `convert_families.py`
(the two converters per family), `file_fidelity.py` (each file against the float file, and task by task) or
`grammar_shortlist.py` (greedy decoding within a grammar, with and without the shortlist).
"""
from __future__ import annotations
import argparse, json, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'benchmarks'))
import convert_families, file_fidelity, fresh_dev_files, grammar_shortlist, loop_pairs, loop_suites, recipe_rounds, shape_effect   # noqa: E402
from specter_lab.loop import read_block, replace_block   # noqa: E402

R = 'benchmarks/results/'
BLOCKS = {  # file: {block: (kind, results file, or files whose runs are merged: a later file's run of a suite and seed wins)}
    'README.md': {
        'loop-suites': ('loop', (R + 'loop_suites.json', R + 'loop_collect_copies.json', R + 'loop_read.json',
                                R + 'loop_dates.json', R + 'loop_digits.json')),
        'loop-unseen': ('loop', (R + 'loop_unseen_free.json', R + 'loop_unseen.json', R + 'loop_unseen_read.json',
                                 R + 'loop_unseen_more.json')),
        'loop-gemma': ('loop', (R + 'loop_gemma.json', R + 'loop_gemma_shape.json', R + 'loop_gemma_first_epochs.json',
                                R + 'loop_gemma_office.json', R + 'loop_gemma_payment.json', R + 'loop_gemma_recipe.json'))},
    'benchmarks/README.md': {
        'loop-unseen-free': ('loop', R + 'loop_unseen_free.json'),
        'loop-shape': ('loop', R + 'loop_shape.json'),
        'shape-effect': ('shape-free', R + 'shape_effect.json'),
        'collect-shape': ('pairs', R + 'collect_shape.json'),
        'loop-shape-collect': ('loop', R + 'loop_shape_collect.json'),
        'shape-forms': ('shape-forms', R + 'shape_forms.json'),
        'value-forms': ('pairs', R + 'value_forms.json'),
        'loop-value-forms': ('loop', R + 'loop_value_forms.json'),
        'collect-copies': ('pairs', R + 'collect_copies.json'),
        'loop-collect-copies': ('loop', R + 'loop_collect_copies.json'),
        'shape-read': ('shape-read', R + 'shape_read.json'),
        'shape-dates': ('shape-dates', R + 'shape_dates.json'),
        'loop-dates': ('loop', R + 'loop_dates.json'),
        'gemma-continue-rounds': ('rounds', R + 'gemma_continue_rounds.json'),
        'gemma-continue-warmup': ('pairs', R + 'gemma_continue_warmup.json'),
        'gemma-deal-warmup': ('loop', R + 'loop_gemma_shape_warmup.json'),
        'gemma-round1': ('rounds', R + 'gemma_round1.json'),
        'gemma-first-epochs': ('loop', R + 'loop_gemma_first_epochs.json'),
        'home-before-narrowing': ('loop', R + 'loop_home_tools_before_narrowing.json'),
        'home-before-reads': ('loop', R + 'loop_home_tools_before_reads.json'),
        'home-reads': ('loop', R + 'loop_home_tools_reads.json'),
        'shape-phrases': ('shape-phrases', R + 'shape_phrases.json'),
        'fresh-cue-dev': ('fresh-dev', R + 'fresh_cue_dev.json'),
        'fresh-cue-vocab': ('fresh-dev', R + 'fresh_cue_vocab.json'),
        'claim-framed': ('loop', R + 'loop_claim_framed.json'),
        'convert-families': ('convert', R + 'convert_families.json'),
        'gemma-claim': ('loop', R + 'loop_gemma_claim.json'),
        'shape-digits': ('shape-digits', R + 'shape_digits.json'),
        'copied-digits': ('pairs', R + 'copied_digits.json'),
        'loop-digits': ('loop', R + 'loop_digits.json'),
        'gemma-office': ('loop', R + 'loop_gemma_office.json'),
        'gemma-recipe': ('loop', (R + 'loop_gemma_office.json', R + 'loop_gemma_payment.json', R + 'loop_gemma_recipe.json')),
        'gemma-unseen': ('loop', R + 'loop_gemma_unseen.json'),
        'loop-probe': ('loop', R + 'loop_probe.json'),
        'probe-gate-before': ('loop', R + 'loop_probe_gate_before.json'),
        'probe-round-key': ('loop', R + 'loop_probe_round_key.json'),
        'closing-label': ('pairs', R + 'closing_label.json'),
        'probe-agent-before': ('loop', R + 'loop_probe_agent_before.json'),
        'agent-chat': ('pairs', R + 'agent_chat.json'),
        'file-fidelity': ('fidelity', R + 'file_fidelity.json'),
        'file-fidelity-paired': ('fidelity-paired', R + 'file_fidelity.json'),
        'loop-activations': ('loop', R + 'loop_activations.json'),
        'activation-rounding': ('pairs', R + 'activation_rounding.json'),
        'activation-same-code': ('pairs', R + 'activation_same_code.json'),
        'loop-json-rounding': ('loop', R + 'loop_json_rounding.json'),
        'json-rounding-bundled': ('pairs', R + 'json_rounding_bundled.json'),
        'json-rounding': ('pairs', R + 'json_rounding.json'),
        'grammar-shortlist': ('shortlist', R + 'grammar_shortlist.json'),
        'listed-pairs': ('pairs', R + 'listed_pairs.json'),
        'listed': ('pairs', R + 'listed.json'),
        'loop-listed': ('loop', R + 'loop_listed.json'),
        'listed-dev': ('pairs', R + 'listed_dev.json'),
        'loop-listed-dev': ('loop', R + 'loop_listed_dev.json'),
        'listed-dev-words': ('pairs', R + 'listed_dev_words.json'),
        'uniform': ('pairs', R + 'uniform.json')}}


def generated(kind: str, res: dict) -> dict:
    "The blocks (`''` for the block itself, `'-why'` for its why block) that `kind`'s table makes of the results `res`."
    if kind == 'loop': return {'': loop_suites.table(res), '-why': loop_suites.why_table(res)}
    if kind == 'pairs': return {'': loop_pairs.table(res)}
    if kind == 'rounds': return {'': recipe_rounds.table(res)}
    if kind == 'fresh-dev': return {'': fresh_dev_files.table(res)}
    if kind == 'convert': return {'': convert_families.table(res)}
    if kind == 'fidelity': return {'': file_fidelity.table(res)}
    if kind == 'fidelity-paired': return {'': file_fidelity.paired_table(res)}
    if kind == 'shortlist': return {'': grammar_shortlist.table(res)}
    return {'': shape_effect.table(res, kind.split('-', 1)[1])}


def sources(results) -> tuple[str, ...]: return (results,) if isinstance(results, str) else results


def results_of(results, root: Path = ROOT) -> dict | None:
    "The results a block is generated from: one file's, or the runs of several merged (`loop_suites.merge`); None when a file is missing."
    files = [root / f for f in sources(results)]
    if not all(f.is_file() for f in files): return None
    return loop_suites.read_results(files)


def read_texts(root: Path = ROOT) -> dict:
    "The Markdown of every file of `BLOCKS`."
    return {f: (root / f).read_text(encoding='utf-8') for f in BLOCKS}


def expected(texts: dict, root: Path = ROOT) -> list[tuple[str, str, str | None]]:
    "(file, block, text) of every block of `BLOCKS` (and each `-why` block `texts`, file -> its Markdown, hold), generated from its results (text None when a results file is missing)."
    out = []
    for f, blocks in BLOCKS.items():
        text = texts[f]
        for name, (kind, results) in blocks.items():
            if (res := results_of(results, root)) is None: out.append((f, name, None)); continue
            for suffix, t in generated(kind, res).items():
                if suffix == '' or read_block(text, name + suffix) is not None: out.append((f, name + suffix, t))
    return out


def stale(texts: dict, root: Path = ROOT) -> list[str]:
    "One line per block of `texts` (file -> its Markdown) that is missing or not what its results file gives."
    def why(f, name, t):
        results = ' + '.join(sources(BLOCKS[f][name.removesuffix('-why')][1]))
        if t is None: return f"a results file of {results} is missing"
        return 'not in the file' if read_block(texts[f], name) is None else f"not what {results} gives"
    return [f"{f}: block <!-- {name} -->: {why(f, name, t)}" for f, name, t in expected(texts, root) if t is None or read_block(texts[f], name) != t]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument('--check', action='store_true', help="exit 1 naming every block that is not what its results file gives")
    g.add_argument('--write', action='store_true', help="regenerate every block from its results file")
    a = p.parse_args(argv)
    if a.write:
        for f, name, t in expected(read_texts()):
            if t is None: sys.exit(f"{f}: block <!-- {name} -->: a results file of {' + '.join(sources(BLOCKS[f][name][1]))} is missing")
            if not replace_block(ROOT / f, name, t): sys.exit(f"{f}: no <!-- {name} --> markers")
        return 0
    bad = stale(read_texts())
    for line in bad: print(line, file=sys.stderr)
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())

"Numbers in the READMEs are generated from results files, never typed: every generated block is what its results file gives."
import importlib.util, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "readme_blocks.py"


def blocks_module():
    spec = importlib.util.spec_from_file_location("readme_blocks", SCRIPT)
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    return mod


def test_every_readme_block_is_generated_from_its_results_file():
    r = subprocess.run([sys.executable, SCRIPT, "--check"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stderr


def test_a_typed_number_or_a_missing_block_is_named():
    rb = blocks_module()
    texts = rb.read_texts()
    f, name, t = rb.expected(texts)[0]
    row = next(l for l in t.splitlines() if l.startswith("| `"))
    texts[f] = texts[f].replace(row, row.replace(" | ", " | 9", 1), 1)   # a digit typed into one cell
    assert rb.stale(texts) == [f"{f}: block <!-- {name} -->: not what {' + '.join(rb.sources(rb.BLOCKS[f][name][1]))} gives"]
    texts[f] = texts[f].replace(f"<!-- {name} -->\n{t}\n", f"<!-- {name} -->\n")   # an emptied block
    assert rb.stale(texts) == [f"{f}: block <!-- {name} -->: not what {' + '.join(rb.sources(rb.BLOCKS[f][name][1]))} gives"]
    texts[f] = texts[f].replace(f"<!-- /{name} -->", "")
    assert rb.stale(texts) == [f"{f}: block <!-- {name} -->: not in the file"]

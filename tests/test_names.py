"One name, one meaning: no public name (in a module's `__all__`) is defined in two modules of the package."
import ast, collections, importlib, pkgutil
from pathlib import Path
import specter_lab

# Names still defined twice, each with who renames it; the test fails once an entry is no longer needed, so the list only shrinks.
PENDING = {}


def top_level_definitions(path:Path) -> set[str]:
    "Names a module's source defines at top level (def, class, assignment), not those it imports."
    out = set()
    for n in ast.parse(path.read_text(encoding='utf-8')).body:
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)): out.add(n.name)
        elif isinstance(n, ast.Assign): out |= {t.id for t in n.targets if isinstance(t, ast.Name)}
        elif isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name): out.add(n.target.id)
    return out


def public_definitions() -> dict[str, list[str]]:
    "{public name: the modules that define it}, over every module of the package."
    where = collections.defaultdict(list)
    for m in pkgutil.iter_modules(specter_lab.__path__):
        if m.name.startswith('_'): continue
        mod = importlib.import_module(f'specter_lab.{m.name}')
        defined = top_level_definitions(Path(mod.__file__))
        for name in getattr(mod, '__all__', []):
            if name in defined: where[name].append(m.name)
    return where


def test_no_public_name_defined_twice():
    twice = {k: v for k, v in public_definitions().items() if len(v) > 1}
    new = {k: v for k, v in twice.items() if k not in PENDING}
    assert not new, f"public names defined in more than one module (rename one to what it does): {new}"
    done = sorted(set(PENDING) - set(twice))
    assert not done, f"no longer defined twice, remove from PENDING: {done}"


def test_the_check_sees_definitions_not_imports(tmp_path):
    p = tmp_path/'m.py'
    p.write_text("from os import path\nimport json\nX = 1\nY: int = 2\ndef f(): pass\nclass C: pass\n")
    assert top_level_definitions(p) == {'X', 'Y', 'f', 'C'}

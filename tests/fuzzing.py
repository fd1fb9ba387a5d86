"""The fuzz harness shared by tests/test_fuzz.py (a fast sample in CI) and benchmarks/fuzz.py (>= 10,000 cases).

Every reader of user input gets a small valid file (`BASES`) and mutations of it:
- *hostile* mutations are invalid by construction (NaN, Infinity, 1e400, a duplicate key, a lone surrogate, nesting
  deeper than the readers allow, a bad UTF-8 byte, a BOM, a truncated file, a value out of its declared range, a
  CSV cell over the csv module's limit, ...): the reader must refuse them with a `SpecterError` naming the file;
- *random* mutations (bytes flipped, inserted, deleted, lines swapped) may or may not stay valid: the reader must
  either accept them or refuse them with a `SpecterError` naming the file.
Any other exception is a crash; a case over `LIMIT` seconds is a hang; a hostile case that is read is silently accepted.
"""
from __future__ import annotations
import importlib, json, os, random, signal, shutil, tempfile, time, traceback
from pathlib import Path

LIMIT = 10.0   # seconds one case may take
BASE_DAG = None  # the valid DAG the DAG cases damage a copy of (made by `readers`)


class Hang(Exception): pass


def _alarm(signum, frame): raise Hang()


# ---------------------------------------------------------------- valid bases, one per reader

def _suite_text() -> str:
    from specter_lab.suite import deal_screening, tool_calls
    tasks = deal_screening(n_train=2, n_test=2)[:2] + tool_calls(n_train=5, n_test=5)[:1]
    return ''.join(json.dumps(t.to_dict(), ensure_ascii=False) + '\n' for t in tasks)


def _report() -> dict:
    from specter_lab.evaluate import REPORT_SCHEMA_ID
    outcomes = [{'id': f't{i}', 'trial': 0, 'label': 'LIKE', 'passed': i < 3, 'output': 'LIKE - ok', 'feedback': '', 'failed_guards': [],
                 'finish_reason': 'stop', 'attempts': 1, 'passed_after_retries': True, 'human_reference_stored': False} for i in range(4)]
    return {'schema': REPORT_SCHEMA_ID, 'created_at': '2025-01-01T00:00:00+00:00',
            'model': {'spec': 'embedded', 'kind': 'gguf', 'path': 'm.gguf', 'sha256': 'a' * 64, 'bytes': 10},
            'tasks': {'path': 'deal_screening', 'sha256': 'b' * 64}, 'split': 'test', 'n': 4, 'trials': 1, 'rmax': 0,
            'epsilon': {'hat': 0.75, 'ci95': [0.3, 0.95], 'passes': 3, 'n': 4}, 'expected_attempts': 1.333, 'expected_retries': 0.333,
            'retries': {'mean_attempts': 1.0, 'passed_within_rmax': 0.75, 'human_fallbacks': 0},
            'failure_modes': [{'guard': 'label', 'checked': 4, 'failed': 1}], 'pass_at_k': None, 'baseline': None, 'outcomes': outcomes,
            'outcomes_sha256': 'c' * 64, 'timings': {'seconds': 1.0, 'tasks_per_s': 4.0, 'prompt_tokens': 100, 'completion_tokens': 20,
                                                     'tokens_per_s': 120.0}, 'settings': {'eval': {}, 'model': {}}, 'dag': None}


def _dag(d:Path):
    from specter_lab.artifact import ArtifactDAG, GuardResult, Status, new_artifact
    with ArtifactDAG(d) as dag:
        a = new_artifact("PASS - no", action_pair_id='g', workflow_id='w', specification='Evaluate: X', constraints='c',
                         status=Status.REJECTED, guard_result=GuardResult(False, 'wrong label'), metadata={'k': [1, 2]})
        b = new_artifact("LIKE - yes", action_pair_id='g', workflow_id='w', specification='Evaluate: X', constraints='c',
                         status=Status.ACCEPTED, guard_result=GuardResult(True), previous=a)
        dag.put(a); dag.put(b)


SFT = {'messages': [{'role': 'system', 'content': 'S'}, {'role': 'user', 'content': 'Evaluate: X'}, {'role': 'assistant', 'content': 'LIKE - a'}]}
DPO = {'prompt': [{'role': 'user', 'content': 'Evaluate: Y'}], 'chosen': [{'role': 'assistant', 'content': 'PASS - b'}],
       'rejected': [{'role': 'assistant', 'content': 'maybe'}]}
PRICES = ("name,kind,hardware,usd_per_request,usd_per_1k_input,usd_per_1k_output,usd_per_hour,usd_per_month,tasks_per_s,latency_s,purpose,source\n"
          "my-box,hardware,,,,,0.5,100,,,,me\nmy-model,local,my-box,,,,,,2.0,0.5,,me\nmy-api,api,,,0.001,0.002,,,,1.0,,me\n")
MODELS = ("id,hf_repo,arch,params,n_layers,n_embd,n_heads,n_kv_heads,head_dim,n_vocab,n_ctx_train,license,note\n"
          "tiny,me/tiny,llama,1000000,2,64,4,2,16,1000,2048,mit,test\n")
SETTINGS = "[model]\nbase = embedded\n\n[dpo]\nlearning_rate = 1e-3\nbeta = 0.1\n\n[data]\ntest_fraction = 0.1\n\n[eval]\nrmax = 3\ntemperature = 0.0\n"
POLICY = '[guards]\nmax_retries = 3\nnames = ["label", "json"]\n\n[keys]\nenv = "MY_API_KEY"\nweight = 0.5\n'
GUARDS = [{'kind': 'label', 'pattern': '(LIKE|PASS) - \\S', 'expected': 'LIKE'}, {'kind': 'regex', 'pattern': '^\\w+'},
          {'kind': 'json_schema', 'schema': {'type': 'object', 'properties': {'a': {'type': 'string', 'pattern': '^x'}}}}, {'kind': 'max_chars', 'limit': 50}]
TEMPLATES = {'action_pairs': {'g': {'role': 'You screen.', 'constraints': 'One line.', 'task': 'Evaluate {specification}'}}}
MANIFEST = {'model': 'm', 'files': [{'path': 'm-Q4_K_M.gguf', 'bytes': 10, 'sha256': 'a' * 64, 'verified': True},
                                    {'path': 'm-f16.gguf', 'bytes': 20, 'sha256': 'b' * 64}]}


# ---------------------------------------------------------------- the readers: (name, kind, file name, base text, read)

def _reader(module:str, name:str):
    "A reader calling `specter_lab.<module>.<name>(path)`, imported at the first call (importing this file stays cheap)."
    def read(p): return getattr(importlib.import_module(f'specter_lab.{module}'), name)(p)
    return read

def _read_dpo_data(p):
    from specter_lab.train import load_records
    return load_records(p, 'dpo', 0.1)

def _read_feedback(p):
    from specter_lab.feedback import feedback_pairs
    return list(feedback_pairs([p]))

def _read_dag(p):
    from specter_lab.artifact import ArtifactDAG
    return list(ArtifactDAG(p.parent, create=False))

def _read_export(p):
    from specter_lab.export import export
    return export(p.parent.parent/'out'/'sft.jsonl', [p.parent], 'sft', 'all_successes | refinement')

def _read_guards(p):
    from specter_lab.files import read_json
    from specter_lab.guard import parse_guards
    gs = parse_guards(read_json(p), p)
    return [g('LIKE - x' * 30) for g in gs]

def _read_templates(p):
    from specter_lab.trace import load_templates
    return load_templates(str(p))


def readers() -> list[tuple]:
    "(name, kind, file name, base bytes, read) for every reader the fuzz covers (each base is read once here: valid, and imports warm)."
    j = lambda o: json.dumps(o, indent=2, ensure_ascii=False).encode()
    jl = lambda *rs: ''.join(json.dumps(r, ensure_ascii=False) + '\n' for r in rs).encode()
    global BASE_DAG
    BASE_DAG = Path(tempfile.mkdtemp(prefix='fuzz-base-'))/'dag'; _dag(BASE_DAG)
    idx = (BASE_DAG/'index.json').read_bytes()
    obj = next((BASE_DAG/'objects').rglob('*.json')).read_bytes()
    return [('suite', 'jsonl', 'tasks.jsonl', _suite_text().encode(), _reader('suite', 'load_tasks')),
            ('sft_jsonl', 'jsonl', 'sft.jsonl', jl(SFT, SFT), _reader('trace', 'dataset_dict')),
            ('dpo_jsonl', 'jsonl', 'dpo.jsonl', jl(DPO, {**DPO, 'prompt': [{'role': 'user', 'content': 'Evaluate: Z'}]}), _read_dpo_data),
            ('feedback', 'jsonl', 'feedback.jsonl', jl({'prompt': 'p', 'chosen': 'a', 'rejected': 'b'},
                                                       {'prompt': 'q', 'response': 'x', 'feedback': 'like'}, {'prompt': 'q', 'response': 'y', 'feedback': 'dislike'}), _read_feedback),
            ('queries', 'jsonl', 'queries.jsonl', jl({'text': 'hello', 'category': 'simple'}, {'text': 'a contract', 'category': 'high'}), _reader('route', 'read_queries')),
            ('dag_index', 'json', 'index.json', idx, _read_dag),
            ('dag_object', 'json', 'object.json', obj, _read_dag),
            ('export_index', 'json', 'index.json', idx, _read_export),
            ('settings', 'ini', 'settings.ini', SETTINGS.encode(), _reader('config', 'load_settings')),
            ('prices', 'csv', 'prices.csv', PRICES.encode(), _reader('prices', 'read_registry')),
            ('models', 'csv', 'models.csv', MODELS.encode(), _reader('registry', 'load_models')),
            ('report_eval', 'json', 'report.json', j(_report()), _reader('evaluate', 'read_report')),
            ('report_cost', 'json', 'report.json', j(_report()), _reader('prices', 'report_for_cost')),
            ('report_card', 'json', 'report.json', j(_report()), _reader('hub', 'read_eval')),
            ('manifest', 'json', 'manifest.json', j(MANIFEST), _reader('hub', 'read_manifest')),
            ('guards', 'json', 'guards.json', j(GUARDS), _read_guards),
            ('policy', 'toml', 'policy.toml', POLICY.encode(), _reader('files', 'read_toml')),
            ('templates', 'json', 'prompts.json', j(TEMPLATES), _read_templates)]


def check_bases(rs, work:Path):
    "Every base must read without error (else the fuzz would measure nothing)."
    for r in rs:
        got = run_case(r, r[3], False, work)
        if got[0] != 'ok': raise AssertionError(f"base of {r[0]} does not read: {got}")


# ---------------------------------------------------------------- mutations

JSON_TOKENS = ['NaN', 'Infinity', '-Infinity', '1e400', '-1e999', '"\\ud800"', '"a\\udfffb"', '[' * 200 + ']' * 200, '{"a": ' * 200 + '1' + '}' * 200]
INI_BAD = [('[dpo]', 'learning_rate = inf'), ('[dpo]', 'learning_rate = nan'), ('[dpo]', 'beta = -1'), ('[data]', 'test_fraction = 1.5'),
           ('[data]', 'test_fraction = nan'), ('[eval]', 'rmax = 99999999999999'), ('[eval]', 'rmax 3'), ('[eval]', 'rmax: three'),
           ('[eval]', 'unknown_key = 1'), (None, '[DEFAULT]\nrmax = 1'), (None, '[nosection]'), ('[eval]', '  indented = 1'),
           ('[eval]', 'temperature = 1e400'), ('[dpo]', 'beta = 0.2'), ('[eval]', '=5'), ('[eval]', 'n_ctx = 4\x0c'), (None, 'orphan = 1\n[model]')]
RANGE = {'report': [('hat', 5), ('hat', -1), ('ci95', [0.9, 0.1]), ('ci95', [0.1, 2]), ('passes', 99), ('passes', -3)],
         'manifest': [('sha256', 5), ('sha256', None), ('sha256', ['x']), ('sha256', 'xyz'), ('bytes', -1), ('path', '../../etc/passwd'), ('path', '/abs')]}


def _paths(o, at=()):
    "Every (path, value) in a JSON value."
    yield at, o
    if isinstance(o, dict):
        for k,v in o.items(): yield from _paths(v, at + (k,))
    elif isinstance(o, list):
        for i,v in enumerate(o): yield from _paths(v, at + (i,))


def _set(o, at, v):
    for k in at[:-1]: o = o[k]
    o[at[-1]] = v


def _json_hostile(text:str, rng:random.Random) -> str:
    "One JSON value's text made invalid: a hostile token at a random place, or a duplicate key."
    o = json.loads(text)
    spots = [p for p,_ in _paths(o) if p]
    dicts = [p for p,v in _paths(o) if isinstance(v, dict) and v]
    if dicts and rng.random() < 0.25:
        at = rng.choice(dicts); node = o
        for k in at: node = node[k]
        key = rng.choice(list(node)); node['\x00DUP\x00'] = 1
        return json.dumps(o, ensure_ascii=False).replace(json.dumps('\x00DUP\x00'), json.dumps(key, ensure_ascii=False))
    tok = rng.choice(JSON_TOKENS)
    if not spots: return tok
    _set(o, rng.choice(spots), '\x00HOLE\x00')
    return json.dumps(o, ensure_ascii=False).replace(json.dumps('\x00HOLE\x00'), tok)


def hostile(name:str, kind:str, base:bytes, rng:random.Random) -> bytes:
    "`base` made invalid by construction (the reader must refuse it)."
    r = rng.random()
    if r < 0.12: i = rng.randrange(len(base)); return base[:i] + rng.choice([b'\xff', b'\xc3', b'\xed\xa0\x80', b'\xe2\x82']) + base[i:]
    if r < 0.18: return b'\xef\xbb\xbf' + base
    text = base.decode()
    if kind == 'jsonl':
        lines = text.splitlines(); i = rng.randrange(len(lines))
        if r < 0.25: lines[i] = lines[i][:rng.randrange(1, len(lines[i]))]   # a line cut short
        else: lines[i] = _json_hostile(lines[i], rng)
        return ('\n'.join(lines) + '\n').encode()
    if kind == 'json':
        if r < 0.25: return base[:rng.randrange(1, len(base.rstrip()) - 1)]
        if name.startswith('report') and r < 0.45:
            o = json.loads(text); k,v = rng.choice(RANGE['report']); o['epsilon'][k] = v; return json.dumps(o).encode()
        if name == 'manifest' and r < 0.45:
            o = json.loads(text); k,v = rng.choice(RANGE['manifest']); o['files'][rng.randrange(2)][k] = v; return json.dumps(o).encode()
        return _json_hostile(text, rng).encode()
    lines = text.split('\n')
    if kind == 'ini':
        sec, bad = rng.choice(INI_BAD)
        key = bad.split('=')[0].split(':')[0].strip()
        if sec is None: lines.insert(rng.randrange(len(lines) + 1), bad)
        else:
            if bad != 'beta = 0.2': lines = [l for l in lines if not (key and l.split('=')[0].strip() == key)]   # the range, not "set twice"
            lines.insert(lines.index(sec) + 1, bad)
        return '\n'.join(lines).encode()
    if kind == 'csv':
        i = rng.randrange(1, len([l for l in lines if l]))
        cells = lines[i].split(',')
        c = rng.randrange(3, 10)   # a number column of either file
        if name == 'prices': cells[c] = rng.choice(['nan', 'inf', '-1', '1e400', 'x' * 200_000, '"open', 'a\x00b'])
        else: cells[c] = rng.choice(['nan', 'inf', 'x', '1e400', 'y' * 200_000, '"open', 'a\x00b'])
        lines[i] = ','.join(cells)
        return '\n'.join(lines).encode()
    if kind == 'toml':
        bad = rng.choice(['x = inf', 'x = nan', 'x = -inf', 'x = ', '[guards]', 'y = [' * 3000, 'z = "open',
                          'w = 1979-05-27T07:32:00Z99', '= 1', 'a.b = 1\na = 2'])
        lines.insert(rng.randrange(1, len(lines)), bad)
        return '\n'.join(lines).encode()
    raise ValueError(kind)


def random_mutation(base:bytes, rng:random.Random) -> bytes:
    "`base` with a few random edits: bytes flipped, inserted or deleted, a slice repeated or cut."
    b = bytearray(base)
    for _ in range(rng.randint(1, 4)):
        op, i = rng.random(), rng.randrange(len(b) + 1)
        if op < 0.3 and b: b[min(i, len(b) - 1)] = rng.randrange(256)
        elif op < 0.55: b[i:i] = bytes([rng.choice(b'{}[]",:\\\n\r\t 0-9eE+.aNI\x00') if rng.random() < 0.8 else rng.randrange(256)])
        elif op < 0.75 and b: del b[i:i + rng.randint(1, 8)]
        elif op < 0.9: j = rng.randrange(len(b) + 1); b[i:i] = b[min(i, j):max(i, j)][:4096]
        else: del b[i:]
    return bytes(b)


# ---------------------------------------------------------------- one case

def place(work:Path, name:str, fname:str, data:bytes) -> tuple[Path, Path]:
    "Write the case's file where its reader looks for it (DAG cases: into a fresh valid DAG); return (path to read, file written)."
    if name in ('dag_index', 'dag_object', 'export_index'):
        shutil.copytree(BASE_DAG, work/'dag')
        f = next((work/'dag'/'objects').rglob('*.json')) if name == 'dag_object' else work/'dag'/'index.json'
        f.write_bytes(data)
        return work/'dag'/'index.json', f
    p = work/fname; p.write_bytes(data)
    return p, p


def run_case(reader:tuple, data:bytes, must_refuse:bool, work:Path) -> tuple[str, str]:
    "('ok'|'refused'|'crash'|'hang'|'accepted'|'unnamed', detail) of reading `data` with `reader`."
    from specter_lab.config import SpecterError
    name, kind, fname, base, read = reader
    if work.exists(): shutil.rmtree(work)
    work.mkdir(parents=True)
    p, target = place(work, name, fname, data)
    old = signal.signal(signal.SIGALRM, _alarm); signal.setitimer(signal.ITIMER_REAL, LIMIT)
    try:
        read(p)
    except Hang: return 'hang', f"over {LIMIT} s"
    except SpecterError as e:
        if not any(n in str(e) for n in (target.name, p.name, str(work))): return 'unnamed', str(e)[:300]
        out = work/'out'
        if out.exists() and any(out.rglob('*')): return 'leftover', str(list(out.rglob('*')))[:300]
        return 'refused', ''
    except BaseException as e:
        if isinstance(e, KeyboardInterrupt): raise
        return 'crash', f"{type(e).__name__}: {str(e)[:200]}\n{''.join(traceback.format_exc().splitlines(True)[-6:])}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0); signal.signal(signal.SIGALRM, old)
    return ('accepted', repr(data[:300])) if must_refuse else ('ok', '')


def case(reader, seed:int, hostile_share:float=0.7) -> tuple[bool, bytes]:
    "The bytes of case `seed` for `reader`: (must be refused, data)."
    rng = random.Random(seed)
    name, kind, _, base, _ = reader
    if rng.random() < hostile_share: return True, hostile(name, kind, base, rng)
    return False, random_mutation(base, rng)

"""Hostile input, everywhere: a fast fuzz sample over every reader (benchmarks/fuzz.py runs >= 10,000 cases), the
traversal, symlink and key cases of issue 18, and every CLI stage given hostile input."""
import datetime, json, os, re, shutil, threading
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
import fuzzing as F
from specter_lab.cli import main
from specter_lab.config import SpecterError

FAST = dict(deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


@lru_cache(None)
def readers():
    rs = F.readers()
    return rs


@pytest.fixture(scope='module')
def work(tmp_path_factory):
    w = tmp_path_factory.mktemp('fuzz')/'case'
    F.check_bases(readers(), w)
    return w


def _verdict(reader, must, data, work):
    st_, detail = F.run_case(reader, data, must, work)
    assert st_ in ('ok', 'refused'), f"{reader[0]}: {st_}: {detail}"


@settings(max_examples=300, **FAST)
@given(k=st.integers(0, 10**6), seed=st.integers(0, 2**32 - 1))
def test_fuzz_sample(work, k, seed):
    "Hostile mutations are refused with a SpecterError naming the file; random ones are read or refused, never a crash or hang."
    r = readers()[k % len(readers())]
    must, data = F.case(r, seed)
    _verdict(r, must, data, work)


@settings(max_examples=60, **FAST)
@given(k=st.integers(0, 10**6), data=st.binary(max_size=600))
def test_fuzz_arbitrary_bytes(work, k, data):
    "Any bytes at all, in place of each reader's file."
    _verdict(readers()[k % len(readers())], False, data, work)


@settings(max_examples=60, **FAST)
@given(v=st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
                      lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4), max_leaves=30),
       k=st.integers(0, 10**6))
def test_fuzz_valid_json_of_any_shape(work, v, k):
    "Well-formed JSON of any shape where a JSON reader expects its own: read, or refused naming the field's file."
    rs = [r for r in readers() if r[1] in ('json', 'jsonl')]
    r = rs[k % len(rs)]
    text = json.dumps(v) if r[1] == 'json' else json.dumps({'x': v}) + '\n' + json.dumps(v) + '\n'
    _verdict(r, False, text.encode(), work)


WORD = st.from_regex(r'[A-Za-z_]{1,8}', fullmatch=True)


@settings(max_examples=300, **FAST)
@given(system=st.text(max_size=300) | st.lists(WORD | st.sampled_from([' ', ', ', '; ', '(', ')', ': ']), max_size=40).map(''.join),
       names=st.lists(WORD, min_size=1, max_size=5), a=WORD, b=WORD)
def test_rule_rewrites_on_any_system_message(system, names, a, b):
    "Any system message (a suite's rule we have not seen): its segments tile it from the preamble on, and exchanging two words twice gives it back."
    from specter_lab.recipe import rule_segments, swap_words
    segs = rule_segments(system, names)
    assert ''.join(segs.values()) == system or not segs
    assert all(k is None or k in names for k in segs)
    assert swap_words(swap_words(system, a, b), a, b) == system
    assert swap_words(system, a, b, ignore_case=True).lower() == swap_words(system.lower(), a.lower(), b.lower())



@settings(max_examples=150, **FAST)
@given(cues=st.lists(st.from_regex(r'c[a-z]{2,5}', fullmatch=True), min_size=2, max_size=9, unique=True),
       rows=st.lists(st.tuples(st.integers(0, 8), st.lists(st.from_regex(r'f[a-z]{1,5}', fullmatch=True), max_size=5), st.booleans()), min_size=2, max_size=12),
       preamble=st.text(max_size=60), words=st.lists(st.from_regex(r'[a-z]{4,8}', fullmatch=True), max_size=5))
def test_fresh_cue_tasks_on_any_label_suite(cues, rows, preamble, words):
    "Any label suite (a rule we have not seen that lists cue words per label; requests of any words, the cue word capitalised or not): every fresh-cue task keeps its decision and passes its own reference, the rule and the request name its new word, and where two labels' requests use cue words of their own, there are such tasks."
    from specter_lab.evaluate import expected_decision
    from specter_lab.recipe import fresh_cue_tasks
    from specter_lab.suite import Task
    labels = ['HIGH', 'LOW', 'MID']
    lab = {c: labels[i % 3] for i, c in enumerate(cues)}
    rule = preamble + ' ' + ' '.join(f"{L}: {', '.join(c for c in cues if lab[c] == L)}." for L in labels)
    tasks = []
    for i, (k, fill, cap) in enumerate(rows):
        c = cues[k % len(cues)]
        req = ' '.join(fill + [c.capitalize() if cap else c])
        tasks.append(Task(f"t{i}", 'dev', [{'role': 'system', 'content': rule}, {'role': 'user', 'content': req}],
                          [{'kind': 'label', 'pattern': '(HIGH|LOW|MID) - \\S', 'expected': lab[c]}], f"{lab[c]} - a {c}"))
    out = fresh_cue_tasks(tasks, words)
    for f in out:
        t = next(t for t in tasks if f.id == t.id + '/fresh-cue')
        assert expected_decision(f, None) == expected_decision(t, None) and f.check(f.reference).passed
        w = f.meta['fresh_cue'].lower()
        named = lambda m: re.search(rf'\b{w}\b', m['content'].lower()) is not None
        assert named(f.messages[0]) and named(f.messages[1]) and not named(t.messages[0])
    used = {lab[cues[k % len(cues)]] for k, _, _ in rows}
    assert out or len(used) < 2



DIGIT = st.sampled_from('0123456789٠١٢٣٤٥٦٧٨٩')   # ASCII digits and another script's
LEAF = (st.text(max_size=12) | st.tuples(DIGIT, st.sampled_from('-/.:\n'), DIGIT).map(''.join)
        | st.sampled_from(['a_tool', 'b_tool', 'Ana', "Ana's"]) | st.integers(-10**6, 10**9)
        | st.dates(datetime.date(1900, 1, 1), datetime.date(2099, 12, 31)).map(str))   # numbers and dates a request may write


@settings(max_examples=200, **FAST)
@given(rows=st.lists(st.tuples(st.text(max_size=40), st.dictionaries(st.sampled_from(['tool', 'day', 'who']), LEAF, min_size=1, max_size=3), st.booleans()),
                     min_size=1, max_size=12), dev=st.lists(st.dictionaries(st.sampled_from(['tool', 'day', 'who']), LEAF, min_size=1, max_size=3), max_size=4))
def test_every_answer_lies_inside_the_shape_learned_from_it(rows, dev):
    "Any suite's JSON answers (any strings: other scripts' digits, quotes, line breaks, numbers and dates, the request writing them or not): the value forms hold every train and dev value, the shape (with and without them) every train answer, and llama.cpp reads its grammar."
    from jsonschema import Draft202012Validator
    from specter_lab.shape import copied_paths, shape_grammar, shape_schema, suite_shape, value_forms, without_forms
    from specter_lab.suite import Task
    def task(i, split, req, ref): return Task(f't{i}', split, [{'role': 'user', 'content': req}], [{'kind': 'max_chars', 'limit': 400}], json.dumps(ref))
    rows = [(q + (' ' + ' '.join(map(str, r.values())) if writes else ''), r) for q, r, writes in rows]
    train = [task(i, 'train', q, r) for i, (q, r) in enumerate(rows)]
    devs = [task(100 + i, 'dev', 'a request', r) for i, r in enumerate(dev)]
    for path, form in value_forms(train, copied_paths(train, 3), others=devs).items():   # every value the splits hold fits its form
        for r in [*(r for _, r in rows), *dev]:
            if isinstance(r.get(path[0]), str): assert Draft202012Validator(form).is_valid(r[path[0]]), (path, form, r)   # a form holds strings
    shape = suite_shape(train + devs)
    if shape is None: return   # more shapes than a grammar holds: decoded free
    for sh in (shape, without_forms(shape)):   # the loop collects within the shape without its value forms
        for t in train:
            assert Draft202012Validator(shape_schema(sh, t.messages)).is_valid(json.loads(t.reference)), (t.reference, sh)
            shape_grammar(sh, t.messages)


WORD = st.text(min_size=1, max_size=8).filter(lambda w: w.split() == [w])   # any characters but whitespace: quotes, backslashes, control characters, other scripts


@settings(max_examples=80, **FAST)
@given(lits=st.lists(WORD, min_size=1, max_size=3), rows=st.lists(st.tuples(WORD, st.text(max_size=30)), min_size=1, max_size=8))
def test_answers_of_fixed_words_lie_inside_their_text_shape(real_llama, lits, rows):
    "Any suite whose answers are words (literal ones the same in every answer, one copied from the end of the request), in any characters: the text shape keeps the literals as they are and copies in all but a few answers, and llama.cpp parses its grammar for every request."
    import llama_cpp as lc
    from specter_lab.recipe import json_value
    from specter_lab.shape import request_spans, shape_grammar, suite_shape
    from specter_lab.suite import Task
    train = [Task(f't{i}', 'train', [{'role': 'user', 'content': f"{noise} {w}"}], [{'kind': 'max_chars', 'limit': 400}], ' '.join([*lits, w]))
             for i, (w, noise) in enumerate(rows)]
    shape = suite_shape(train)
    if shape is None: assert any(json_value(t.reference) is not None for t in train); return   # an answer that is JSON has a JSON shape or none
    words = shape['words']
    for i, lit in enumerate(lits): assert words[i] == {'literal': lit}
    outside = 0
    for t in train:
        w = t.reference.split(' ')
        assert all(x['literal'] == y for x, y in zip(words, w) if 'literal' in x)
        outside += any('copy' in x and y not in request_spans(t.messages[-1]['content'], 1) for x, y in zip(words, w))
        g = shape_grammar(shape, t.messages)
        smp = lc.llama_sampler_init_grammar(real_llama._model.vocab, g.encode(), b'root')
        assert smp, g
        lc.llama_sampler_free(smp)
    assert outside <= .05 * len(train)


AMOUNT = {'plain': str, 'comma': '{:,}'.format, 'dots': lambda n: f"{n:,}".replace(',', '.'), 'k': lambda n: f"{n / 1000}k", 'dollar': lambda n: f"${n:,}"}
DATE = {'iso': str, 'name': lambda d: f"{d:%B} {d.day}, {d.year}", 'abbr': lambda d: f"{d.day} {d:%b} {d.year}",
        'dmy': lambda d: f"{d.day}.{d.month}.{d.year}", 'mdy': lambda d: f"{d.month}/{d.day}/{d.year}"}


@settings(max_examples=150, **FAST)
@given(rows=st.lists(st.tuples(st.integers(0, 10**8), st.dates(datetime.date(1900, 1, 1), datetime.date(2099, 12, 31)),
                               st.sampled_from(list(AMOUNT)), st.sampled_from(list(DATE)), st.text(max_size=30)), min_size=1, max_size=12))
def test_numbers_and_dates_written_any_way_are_read(rows):
    "Amounts and dates a request writes in any of the usual ways (separators, a scale word, a month's name, the day or the month first) are read from it: the shape reads both leaves, and holds every train answer."
    from jsonschema import Draft202012Validator
    from specter_lab.shape import shape_schema, suite_shape, without_forms
    from specter_lab.suite import Task
    train = [Task(f't{i}', 'train', [{'role': 'user', 'content': f"{noise} paid {AMOUNT[a](n)} on {DATE[d](day)}."}], [{'kind': 'max_chars', 'limit': 400}],
                  json.dumps({'amount': n, 'date': str(day)})) for i, (n, day, a, d, noise) in enumerate(rows)]
    shape = suite_shape(train)
    read, copied = {tuple(r['path']): r['kind'] for r in shape['read']}, {tuple(c['path']) for c in shape['copied']}
    assert read.get(('amount',)) == 'number' and (read.get(('date',)) == 'date' or ('date',) in copied), shape   # every date written as in the answer: a span
    for sh in (shape, without_forms(shape)):
        for t in train: assert Draft202012Validator(shape_schema(sh, t.messages)).is_valid(json.loads(t.reference)), (t.messages, t.reference)


# ---------------------------------------------------------------- traversal, links, keys

def _export(dag, out, capsys):
    rc = main(['export', '--dag-path', str(dag), '--output', str(out), '--filter', 'all_successes | refinement'])
    return rc, capsys.readouterr()


@pytest.mark.parametrize('bad', ['../outside/a1.json', '/ABS/a1.json', '/dev/zero', 'objects/../../outside/a1.json'])
def test_dag_index_path_cannot_leave_objects(tmp_path, capsys, bad):
    F.readers()
    dag = tmp_path/'dag'; shutil.copytree(F.BASE_DAG, dag)
    outside = tmp_path/'outside'; outside.mkdir()
    obj = next((dag/'objects').rglob('*.json'))
    (outside/'a1.json').write_bytes(obj.read_bytes().replace(b'PASS - no', b'SECRET FROM OUTSIDE'))
    bad = bad.replace('/ABS', str(tmp_path))
    idx = dag/'index.json'
    rel = obj.relative_to(dag).as_posix()
    idx.write_text(idx.read_text().replace(f'"path": "{rel}"', f'"path": {json.dumps(bad)}'))
    rc, out = _export(dag, tmp_path/'o.jsonl', capsys)
    assert rc == 1 and 'unsafe path' in out.err and len(out.err.strip().splitlines()) == 1, out.err
    assert not (tmp_path/'o.jsonl').exists()


def test_dag_object_links_and_fifos_are_refused(tmp_path, capsys):
    F.readers()
    for kind in ('file', 'folder', 'fifo'):
        dag = tmp_path/kind/'dag'; shutil.copytree(F.BASE_DAG, dag)
        outside = tmp_path/kind/'outside'; outside.mkdir()
        obj = next((dag/'objects').rglob('*.json'))
        if kind == 'file': shutil.copy(obj, outside/obj.name); obj.unlink(); os.symlink(outside/obj.name, obj)
        elif kind == 'folder': shutil.copytree(obj.parent, outside/'d'); shutil.rmtree(obj.parent); os.symlink(outside/'d', obj.parent)
        else: obj.unlink(); os.mkfifo(obj)
        rc, out = _export(dag, tmp_path/kind/'o.jsonl', capsys)
        assert rc == 1 and len(out.err.strip().splitlines()) == 1 and 'Traceback' not in out.err, out.err
        assert any(w in out.err for w in ('symbolic link', 'leads out of', 'not a regular file')), out.err


def test_put_and_update_status_refuse_unsafe_ids(tmp_path):
    from specter_lab.artifact import ArtifactDAG, Status, new_artifact
    a = new_artifact('x', action_pair_id='g', workflow_id='w', specification='s')
    for bad in ('../../../x', '/etc/x', '..', 'a/b', 'a\\b', '.hidden', 'a\nb', ''):
        a.artifact_id = bad
        with pytest.raises(SpecterError, match='unsafe artifact id'): ArtifactDAG(tmp_path/'dag').put(a)
    with pytest.raises(SpecterError, match='not in the index'): ArtifactDAG(tmp_path/'dag').update_status('../../x', Status.ACCEPTED)
    assert not (tmp_path/'x.json').exists() and not list(tmp_path.parent.glob('x.json'))


def test_push_never_follows_links(tmp_path, capsys):
    folder = tmp_path/'data'; folder.mkdir()
    (folder/'sft.jsonl').write_text('{"messages": [{"role": "user", "content": "hi"}]}\n')
    (tmp_path/'token.txt').write_text('hf_supersecrettokenvalue\n')
    os.symlink(tmp_path/'token.txt', folder/'token.txt')
    os.symlink(tmp_path, folder/'up')
    rc = main(['push', str(folder), 'me/data', '--type', 'dataset', '--dry-run'])
    out = capsys.readouterr()
    assert rc == 0 and 'token.txt' not in out.out and 'a symbolic link, skipped' in out.err, (out.out, out.err)
    rc = main(['push', str(folder), 'me/data', '--type', 'dataset', '--local-root', str(tmp_path/'hub')])
    out = capsys.readouterr()
    assert rc == 0 and 'a symbolic link, skipped' in out.err
    sent = [p for p in (tmp_path/'hub').rglob('*') if p.is_file()]
    assert sent and not any('supersecret' in p.read_text(errors='replace') for p in sent), sent


class _Echo(BaseHTTPRequestHandler):
    "An OpenAI-compatible endpoint: answers, or (for a key containing 'fail') a 500 that echoes the request headers."
    def log_message(self, *a): pass
    def do_POST(self):
        n = int(self.headers.get('Content-Length') or 0); self.rfile.read(n)
        if 'fail' in (self.headers.get('Authorization') or ''):
            body = f"upstream error; request was: {dict(self.headers)}".encode(); code = 500
        else:
            body = json.dumps({'id': 'x', 'object': 'chat.completion', 'created': 0, 'model': 'm',
                               'choices': [{'index': 0, 'message': {'role': 'assistant', 'content': 'LIKE - seed stage'}, 'finish_reason': 'stop'}],
                               'usage': {'prompt_tokens': 10, 'completion_tokens': 5, 'total_tokens': 15}}).encode(); code = 200
        self.send_response(code); self.send_header('Content-Type', 'application/json'); self.send_header('Content-Length', str(len(body)))
        self.end_headers(); self.wfile.write(body)


@pytest.fixture
def endpoint():
    srv = ThreadingHTTPServer(('127.0.0.1', 0), _Echo)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()


def test_keys_never_reach_messages_or_reports(tmp_path, cli, endpoint):
    "An endpoint error that echoes the request headers, and a --model URL with credentials: no key or password reaches stderr or report.json."
    env = {'HF_HUB_OFFLINE': '0', 'SPECTER_LAB_API_KEY': 'sk-fail-0123456789abcdefSECRET'}   # huggingface_hub's offline mode blocks 127.0.0.1 too
    args = ['--tasks', 'deal_screening', '--limit', '2', '--rmax', '0', '--output', tmp_path/'r.json', '--quiet']
    r = cli('eval', '--model', f'http://{endpoint}/v1', *args, env=env)
    assert r.returncode == 1 and 'endpoint request failed' in r.stderr and '500' in r.stderr, r.stderr
    assert 'SECRET' not in r.stderr and '0123456789' not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not (tmp_path/'r.json').exists()
    env['SPECTER_LAB_API_KEY'] = 'sk-good-0123456789abcdef'
    r = cli('eval', '--model', f'http://bob:hunter2pass@{endpoint}/v1', *args, env=env)
    assert r.returncode == 0, r.stderr
    text = (tmp_path/'r.json').read_text()
    assert 'hunter2pass' not in text and 'bob' not in text and 'sk-good' not in text and f'http://{endpoint}/v1' in text


# ---------------------------------------------------------------- every stage: hostile input -> exit 1, one line

def _hostile_files(tmp):
    F.readers(); tmp.mkdir(parents=True)
    nan = '{"a": NaN}\n'
    (tmp/'suite.jsonl').write_text(nan)
    (tmp/'data.jsonl').write_text(nan)
    dag = tmp/'dag'; shutil.copytree(F.BASE_DAG, dag); (dag/'index.json').write_text('{"version": "1.0", "artifacts": {"x": ' + '[' * 5000 + '}}')
    r = json.loads(json.dumps(F._report())); r['epsilon']['hat'] = 5; (tmp/'report.json').write_text(json.dumps(r))
    (tmp/'settings.ini').write_bytes(b'[dpo]\nlearning_rate = inf\n')
    (tmp/'prices.csv').write_text(F.PRICES.replace('0.5,100', '0.5,' + 'x' * 200_000))
    (tmp/'models.csv').write_text(F.MODELS.replace('1000000', 'nan'))
    m = tmp/'model'; m.mkdir(); (m/'config.json').write_text('{"architectures": ["LlamaForCausalLM"], "x": 1e400}')
    f = tmp/'folder'; f.mkdir(); (f/'a.gguf').write_bytes(b'GGUF'); (f/'manifest.json').write_text(json.dumps({'files': [{'path': 'a.gguf', 'sha256': 5}]}))
    hub = tmp/'hub'/'models'/'me'/'m'; hub.mkdir(parents=True); (hub/'manifest.json').write_text('{"files": [{"path": "../../x", "sha256": "' + 'a' * 64 + '"}]}')
    return tmp


STAGE_CASES = {
    'export': lambda t, o: ['--dag-path', t/'dag', '--output', o/'x.jsonl'],
    'eval': lambda t, o: ['--tasks', t/'suite.jsonl', '--output', o/'r.json'],
    'compare': lambda t, o: [t/'report.json', t/'report.json', '--output', o/'c.json'],
    'cost': lambda t, o: ['--report', t/'report.json', '--out', o/'cost'],
    'train': lambda t, o: ['--data', t/'data.jsonl', '--output', o/'train'],
    'convert': lambda t, o: [t/'model', '--output', o/'gguf'],
    'push': lambda t, o: [t/'folder', 'me/m', '--local-root', o/'hub'],
    'pull': lambda t, o: ['me/m', '--local-root', t/'hub', '--out', o/'pulled'],
    'registry': lambda t, o: ['--extra', t/'models.csv'],
    'loop': lambda t, o: ['--settings', t/'settings.ini', '--out', o/'loop'],
    'cost-prices': lambda t, o: ['--registry', t/'prices.csv', '--out', o/'cost'],
    'suites': lambda t, o: [t/'suite.jsonl'],
    'serve': lambda t, o: ['--policy', t/'settings.ini', '--log', o/'log.db'],
    'monitor': lambda t, o: ['--log', t/'suite.jsonl', '--output', o/'m.json'],
    'versions': lambda t, o: ['--lab', t/'folder'],
    'promote': lambda t, o: ['--lab', t/'folder', 'v1'],
    'rollback': lambda t, o: ['--lab', t/'folder'],
    'cycle': lambda t, o: ['--lab', o/'lab', '--tasks', t/'suite.jsonl'],
}


@pytest.mark.parametrize('case', list(STAGE_CASES))
def test_every_stage_refuses_hostile_input_in_one_line(tmp_path, capsys, case):
    t = _hostile_files(tmp_path/'in'); o = tmp_path/'out'
    stage = case.split('-')[0]
    rc = main([stage, *map(str, STAGE_CASES[case](t, o))])
    out = capsys.readouterr()
    lines = out.err.strip().splitlines()
    assert rc == 1, (rc, out.err)
    assert len(lines) == 1 and lines[0].startswith(f"specter-lab {stage}: error: ") and 'Traceback' not in out.err, out.err
    assert not o.exists() or not [p for p in o.rglob('*') if p.is_file()], list(o.rglob('*'))


@pytest.mark.parametrize('stage', ['export', 'eval', 'cost', 'train', 'convert'])
def test_outputs_are_checked_before_the_work(tmp_path, capsys, stage):
    (tmp_path/'afile').write_text('x')
    bad = tmp_path/'afile'/'sub'
    argv = {'export': ['--dag-path', tmp_path/'nodag', '--output', bad/'x.jsonl'], 'eval': ['--output', bad/'r.json'],
            'cost': ['--out', bad], 'train': ['--data', tmp_path/'none.jsonl', '--output', bad], 'convert': [tmp_path/'nomodel', '--output', bad]}[stage]
    rc = main([stage, *map(str, argv)])
    err = capsys.readouterr().err
    assert rc == 1 and 'afile is not a folder' in err and len(err.strip().splitlines()) == 1, err

"""`specter-lab serve` for real: the embedded GGUF as the local tier, llama-cpp-python's own server as an upstream,
a fault-injecting upstream, bad policies and requests, a killed server, PostgreSQL, keys that must not leak."""
import json, os, pwd, selectors, shutil, signal, socket, sqlite3, subprocess, sys, tempfile, time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
import httpx
import pytest
from conftest import ROOT, run_cli
from serve_upstream import ANSWER, fake_upstream

from specter_lab.artifact import ArtifactDAG
from specter_lab.export import export
from specter_lab.generate import LlamaGenerator
from specter_lab.inference_log import InferenceLog
from specter_lab.monitor import monitor
from specter_lab.policy import load_policy
from specter_lab.serve import Gateway, LocalTier, background_server, build_app, reindex

TICKET = 'My VPN disconnects every few minutes since this morning.'
REGEX = '^(NETWORK|ACCOUNT|HARDWARE) - \\\\S'   # as written inside a TOML basic string


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]


def chat(url, route='helpdesk', content=TICKET, headers=None, **kw):
    body = {'model': route, 'messages': [{'role': 'user', 'content': content}], 'max_tokens': 12, **kw}
    return httpx.post(f"{url}/v1/chat/completions", json=body, headers=headers, timeout=120)


# ---------------------------------------------------------------- fixtures: upstreams and the local tier
@pytest.fixture(scope="session")
def faults():
    "The fault-injecting upstream (its model field picks the fault), in a thread."
    with background_server(fake_upstream(slow_s=3.0)) as url: yield url


@pytest.fixture(scope="session")
def llama_server(embedded_gguf, tmp_path_factory):
    "llama-cpp-python's own OpenAI-compatible server on the embedded GGUF: a real LLM upstream."
    port = free_port()
    log = open(tmp_path_factory.mktemp("llama-server")/"log.txt", "w")
    p = subprocess.Popen([sys.executable, '-m', 'llama_cpp.server', '--model', str(embedded_gguf), '--host', '127.0.0.1',
                          '--port', str(port), '--n_ctx', '1024'], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            if p.poll() is not None: pytest.fail("llama_cpp.server exited")
            try:
                if httpx.get(f"{url}/v1/models", timeout=1).status_code == 200: break
            except httpx.HTTPError: time.sleep(0.1)
        yield url
    finally:
        p.terminate(); p.wait(30); log.close()


@pytest.fixture(scope="session")
def local_tier(real_llama):
    "The embedded model as a local tier, on the session's llama.cpp model: loaded once, shared by every gateway."
    from specter_lab.policy import Tier
    t = LocalTier(Tier('local', 'embedded', n_parallel=8, n_ctx=2048, timeout_s=120), generator=LlamaGenerator(llm=real_llama, n_ctx=2048, n_parallel=8))
    yield t
    t.close()


POLICY = """
[server]
max_tokens = 32
default_max_tokens = 12
[flags]
use_local = true
[tiers.local]
model = "embedded"
[tiers.api]
url = "{faults}/v1"
model = "ok"
price = "deepseek-v3"
timeout_s = 5
[tiers.llama]
url = "{llama}/v1"
model = "smollm2"
timeout_s = 60
[tiers.api_500]
url = "{faults}/v1"
model = "500"
[tiers.api_slow]
url = "{faults}/v1"
model = "slow"
timeout_s = 0.5
[tiers.api_malformed]
url = "{faults}/v1"
model = "malformed"
[tiers.api_nochoices]
url = "{faults}/v1"
model = "nochoices"
[tiers.api_down]
url = "http://127.0.0.1:{down}/v1"
model = "ok"
[routes.helpdesk]
system = "Route the ticket: answer NETWORK, ACCOUNT or HARDWARE, then ' - ' and a short reason."
guards = [{{kind = "regex", pattern = "{regex}"}}]
rmax = 1
tiers = ["local", "api"]
flags = {{local = "use_local"}}
[routes.chat]
guards = [{{kind = "regex", pattern = "\\\\S"}}]
rmax = 0
tiers = ["local", "llama"]
flags = {{local = "use_local"}}
[routes.faults]
guards = [{{kind = "regex", pattern = "{regex}"}}]
rmax = 0
tiers = ["api_down", "api_500", "api_slow", "api_malformed", "api_nochoices"]
[routes.fallthrough]
guards = [{{kind = "regex", pattern = "{regex}"}}]
rmax = 0
tiers = ["api_down", "api_500", "api"]
"""


@pytest.fixture(scope="session")
def policy_file(tmp_path_factory, faults, llama_server):
    p = tmp_path_factory.mktemp("policy")/"policy.toml"
    p.write_text(POLICY.format(faults=faults, llama=llama_server, down=free_port(), regex=REGEX))
    return p


@contextmanager
def gateway(policy_file, local_tier, tmp_path, api_key=None, log=None):
    "A gateway on `policy_file` with the shared local tier, served in a thread; yields (url, log target, dag path)."
    log = log or str(tmp_path/'log.db')
    gw = Gateway(load_policy(policy_file), InferenceLog(log), ArtifactDAG(tmp_path/'dag'), tiers={'local': local_tier})
    with background_server(build_app(gw, api_key)) as url: yield url, log, tmp_path/'dag'


def assert_log_complete(log, responses):
    "Every response's request has exactly x-specter-attempts rows, numbered 1..n; an answered one ends accepted."
    rows = InferenceLog(log, create=False).rows()
    by = {}
    for r in rows: by.setdefault(r['request_id'], []).append(r)
    for resp in responses:
        rid, n = resp.headers['x-request-id'], int(resp.headers['x-specter-attempts'])
        rs = by[rid]
        assert [r['attempt'] for r in rs] == list(range(1, n + 1)), (rid, rs)
        assert rs[-1]['passed'] == (resp.status_code == 200)
        if resp.status_code == 200: assert rs[-1]['tier'] == resp.headers['x-specter-tier']


# ---------------------------------------------------------------- the happy paths, with real models on both tiers
def test_local_then_real_upstream(policy_file, local_tier, tmp_path):
    with gateway(policy_file, local_tier, tmp_path) as (url, log, dag):
        assert httpx.get(f"{url}/health").json()['status'] == 'ok'
        assert {m['id'] for m in httpx.get(f"{url}/v1/models").json()['data']} == {'helpdesk', 'chat', 'faults', 'fallthrough'}
        local = chat(url, 'chat', 'Say hello.')
        assert local.status_code == 200 and local.headers['x-specter-tier'] == 'local' and local.headers['x-specter-attempts'] == '1'
        up = chat(url, 'chat', 'Say hello.', headers={'x-specter-flags': 'use_local=off'})   # seed 003: a flag turns the local tier off
        assert up.status_code == 200 and up.headers['x-specter-tier'] == 'llama', up.text
        assert up.json()['choices'][0]['message']['content'].strip() and up.json()['usage']['prompt_tokens'] > 0
        streamed = chat(url, 'chat', 'Say hello.', headers={'x-specter-flags': 'use_local=off'}, stream=True)
        assert streamed.headers['content-type'].startswith('text/event-stream')
        events = [l[6:] for l in streamed.text.splitlines() if l.startswith('data: ')]
        assert events[-1] == '[DONE]' and json.loads(events[-2])['choices'][0]['finish_reason'] in ('stop', 'length')
        # the local model answers tickets in prose: rejected twice (rmax 1), then the API tier answers
        esc = chat(url, 'helpdesk', max_tokens=100000)   # asking for more tokens than the policy allows: capped
        assert (esc.status_code, esc.headers['x-specter-tier'], esc.headers['x-specter-attempts']) == (200, 'api', '3')
        assert esc.json()['choices'][0]['message']['content'] == ANSWER
        assert httpx.post(f"{url}/v1/feedback", json={'id': esc.json()['id'], 'rating': 'like'}).status_code == 200
    rows = InferenceLog(log, create=False).rows()
    assert [(r['tier'], r['passed']) for r in rows][:3] == [('local', True), ('llama', True), ('llama', True)]
    assert 'off by flag use_local' in rows[1]['routing_reason']
    assert all(r['completion_tokens'] <= 32 for r in rows)   # the policy's max_tokens bound every attempt
    assert_log_complete(log, [local, up, streamed, esc])
    # the escalation is a refinement trace: two DPO pairs, local answers rejected vs the API's accepted one
    s = export(tmp_path/'pairs.jsonl', [dag], fmt='dpo', filter='refinement')
    pairs = [json.loads(l) for l in open(tmp_path/'pairs.jsonl')]
    assert s['written'] == 2 and all(p['chosen'][0]['content'] == ANSWER for p in pairs)
    assert pairs[0]['prompt'][-1] == {'role': 'user', 'content': TICKET}



def test_an_agent_chat_is_served_as_trained(policy_file, local_tier, tmp_path):
    "An agent's chat (the assistant's call as its text, then the tool's result): the local tier and a real upstream answer it, the DAG keeps the tool's result and the export prompts with it; an answer after the assistant's own turn is refused."
    agent = [{'role': 'user', 'content': 'Where is parcel P-17?'}, {'role': 'assistant', 'content': '{"tool": "track", "arguments": {"id": "P-17"}}'},
             {'role': 'tool', 'tool_call_id': 'call-1', 'content': '{"last_scan": "Leeds depot", "pickup_code": null}'}]
    with gateway(policy_file, local_tier, tmp_path) as (url, log, dag):
        ask = lambda msgs, **kw: httpx.post(f"{url}/v1/chat/completions", json={'model': 'chat', 'messages': msgs, 'max_tokens': 12}, timeout=120, **kw)
        local, up = ask(agent), ask(agent, headers={'x-specter-flags': 'use_local=off'})   # llama.cpp's server takes the result as a user turn
        after = ask(agent[:2])
    assert (local.status_code, local.headers['x-specter-tier']) == (200, 'local'), local.text
    assert (up.status_code, up.headers['x-specter-tier']) == (200, 'llama'), up.text
    assert after.status_code == 400 and after.json()['error']['param'] == 'messages[1].role', after.text
    s = export(tmp_path/'sft.jsonl', [dag], fmt='sft', filter='all_successes')
    recs = [json.loads(l) for l in open(tmp_path/'sft.jsonl')]
    want = [{'role': 'user', 'content': agent[0]['content']}, agent[1], {'role': 'tool', 'content': agent[2]['content']}]
    assert sum(s['records'].values()) == 2 and recs and all(r['messages'][-4:-1] == want for r in recs), (s, recs)   # two answers (the same text from the same model: one line)


def test_a_route_serves_within_a_text_shape(local_tier, tmp_path):
    "A route whose answer shape is of fixed words (the loop's answer_shape.json of a regex suite): the local tier answers its literals, and its copied words are words of the request."
    (tmp_path/'answer_shape.json').write_text(json.dumps({'words': [{'literal': 'FLIGHT'}, {'copy': 1.0}, {'literal': 'GATE'}, {'copy': 1.0}]}))
    (tmp_path/'policy.toml').write_text('[tiers.local]\nmodel = "embedded"\n[routes.gate]\n'
                                        'system = "Answer as FLIGHT <number> GATE <gate>, copied from the announcement."\n'
                                        'guards = [{kind = "regex", pattern = "^FLIGHT \\\\S+ GATE \\\\S+$"}]\nrmax = 0\ntiers = ["local"]\nshape = "answer_shape.json"\n')
    with gateway(tmp_path/'policy.toml', local_tier, tmp_path) as (url, log, dag):
        r = chat(url, 'gate', 'Heads up, SQ159 moved; new gate G10.', max_tokens=32)
    assert r.status_code == 200 and r.headers['x-specter-tier'] == 'local', r.text
    assert r.json()['choices'][0]['finish_reason'] == 'stop'   # the grammar ends after the fourth word
    w = r.json()['choices'][0]['message']['content'].split(' ')
    assert len(w) == 4 and (w[0], w[2]) == ('FLIGHT', 'GATE') and {w[1], w[3]} <= {'Heads', 'up', 'SQ159', 'moved', 'new', 'gate', 'G10'}, w

def test_local_tier_batches_continuously(local_tier):
    "A request arriving while another generates joins the running batch and leaves when done; a prompt too long fails alone."
    import asyncio
    from specter_lab.serve import TierFailure
    msg = lambda s: [{'role': 'system', 'content': 'Route the ticket.'}, {'role': 'user', 'content': s}]
    async def go():
        done = []
        async def one(name, messages, mt):
            try: g = await local_tier.complete(messages, mt)
            except TierFailure as e: done.append((name, str(e))); return
            done.append((name, g.completion_tokens, g.finish_reason))
        long = asyncio.create_task(one('long', msg(TICKET), 32))
        while not any(st.out for st in list(local_tier._active.values())): await asyncio.sleep(0.005)   # it is generating
        await asyncio.gather(one('short', msg(TICKET + ' Thanks.'), 2), one('huge', msg('word ' * 3000), 8), long)
        return done
    done = asyncio.run(go())
    assert [d[0] for d in done] == ['huge', 'short', 'long'], done
    assert 'exceeds the context' in done[0][1]
    assert done[1][1:] == (2, 'length') and done[2][1] > 2
    assert local_tier.stats['most_active'] >= 2


# ---------------------------------------------------------------- faults
def test_faults_escalate_and_fail_with_502(policy_file, local_tier, tmp_path):
    with gateway(policy_file, local_tier, tmp_path) as (url, log, dag):
        t0 = time.perf_counter()
        failed = chat(url, 'faults')
        secs = time.perf_counter() - t0
        ok = chat(url, 'fallthrough')
    assert failed.status_code == 502 and failed.headers['x-specter-attempts'] == '5'
    err = failed.json()['error']
    assert (err['type'], err['code']) == ('upstream_error', 'all_tiers_failed')
    for why in ('api_down: connection error', 'api_500: HTTP 500: overloaded', 'api_slow: timeout after 0.5 s',
                'api_malformed: malformed reply: not JSON', 'api_nochoices: malformed reply: no choices'):
        assert why in err['message'], err['message']
    assert secs < 2.5   # the slow upstream was cut off at its timeout
    assert (ok.status_code, ok.headers['x-specter-tier'], ok.headers['x-specter-attempts']) == (200, 'api', '3')
    assert_log_complete(log, [failed, ok])
    rows = InferenceLog(log, create=False).rows()
    assert [r['cost_usd'] for r in rows if r['request_id'] == ok.headers['x-request-id']] == [0.0, 0.0, 0.008]   # failed calls are not billed
    assert rows[-1]['routing_reason'] == 'escalated: api_500 HTTP 500: overloaded'
    assert len(ArtifactDAG(dag, create=False)) == 1   # failed calls produced no text: only the accepted answer is an artifact


def test_bad_requests_get_their_status(policy_file, local_tier, tmp_path, capfd):
    with gateway(policy_file, local_tier, tmp_path) as (url, log, dag):
        post = lambda path='/v1/chat/completions', **kw: httpx.post(f"{url}{path}", timeout=30, **kw)
        big = b'{"model": "helpdesk", "messages": [], "pad": "' + b'x' * (1 << 20) + b'"}'
        cases = {
            'malformed JSON': (post(content=b'{"model": "helpdesk", '), 400),
            'not an object': (post(json=[1, 2]), 400),
            'unknown route': (post(json={'model': 'sales', 'messages': [{'role': 'user', 'content': 'hi'}]}), 404),
            'too large': (post(content=big), 413),
            'too large, chunked': (post(content=iter([big[:1000], big[1000:]])), 413),
            'no messages': (post(json={'model': 'helpdesk', 'messages': []}), 400),
            'bad role': (post(json={'model': 'helpdesk', 'messages': [{'role': 'robot', 'content': 'hi'}]}), 400),
            'bad max_tokens': (post(json={'model': 'helpdesk', 'messages': [{'role': 'user', 'content': 'hi'}], 'max_tokens': -1}), 400),
            'n > 1': (post(json={'model': 'helpdesk', 'messages': [{'role': 'user', 'content': 'hi'}], 'n': 3}), 400),
            'bad schema': (post(json={'model': 'helpdesk', 'messages': [{'role': 'user', 'content': 'hi'}],
                                      'response_format': {'type': 'json_schema', 'json_schema': {'schema': {'type': 'nope'}}}}), 400),
            'unknown flag': (post(json={'model': 'helpdesk', 'messages': [{'role': 'user', 'content': 'hi'}]}, headers={'x-specter-flags': 'turbo=on'}), 400),
            'feedback, bad rating': (post('/v1/feedback', json={'id': 'x', 'rating': 5}), 400),
            'feedback, unknown id': (post('/v1/feedback', json={'id': 'chatcmpl-none', 'rating': 'like'}), 404),
            'unknown path': (post('/v2/whatever', json={}), 404),
            'wrong method': (httpx.get(f"{url}/v1/chat/completions"), 405),
            # a lone surrogate no log can store, a body json.loads would recurse into, a role that is no string: 400, never a 500
            'lone surrogate, content': (post(content=b'{"model": "helpdesk", "messages": [{"role": "user", "content": "a\\ud800"}]}'), 400),
            'lone surrogate, key': (post(content=b'{"model": "helpdesk", "\\udc00": 1, "messages": [{"role": "user", "content": "hi"}]}'), 400),
            'lone surrogate, comment': (post('/v1/feedback', content=b'{"id": "x", "rating": "like", "comment": "\\udfff"}'), 400),
            'lone surrogate, id': (post('/v1/feedback', content=b'{"id": "\\ud800", "rating": "like"}'), 400),
            'nested 200k deep': (post(content=b'[' * 200_000 + b']' * 200_000), 400),
            'role a list': (post(json={'model': 'helpdesk', 'messages': [{'role': ['user'], 'content': 'hi'}]}), 400),
            'role an object': (post(json={'model': 'helpdesk', 'messages': [{'role': {'a': 1}, 'content': 'hi'}]}), 400),
        }
    for name, (r, status) in cases.items():
        assert r.status_code == status, (name, r.status_code, r.text)
        assert set(r.json()['error']) == {'message', 'type', 'param', 'code'}, name
    assert InferenceLog(log, create=False).rows() == []   # nothing was attempted for a bad request
    assert 'Traceback' not in (err := capfd.readouterr().err) and 'internal error' not in err
    for name, param in (('lone surrogate, content', 'messages[0].content'), ('lone surrogate, key', '\\udc00'),
                        ('lone surrogate, comment', 'comment'), ('lone surrogate, id', 'id'), ('role a list', 'messages[0].role')):
        assert cases[name][0].json()['error']['param'] == param, name
    assert cases['nested 200k deep'][0].json()['error']['message'] == 'JSON nested deeper than 64 levels (at character 65)'


def test_absurd_upstream_usage_is_logged(policy_file, local_tier, tmp_path, capfd):
    "Token counts of 1e20 or Infinity from an upstream: the answer is served and logged (counts 0), not a 500 with the request unlogged."
    url_ = load_policy(policy_file).tiers['api'].url
    p = tmp_path/'usage.toml'
    p.write_text(policy_file.read_text() + ''.join(f'\n[tiers.{n}]\nurl = "{url_}"\nmodel = "usage-{v}"\nprice = "deepseek-v3"\n'
                                                   f'[routes.{n}]\nguards = [{{kind = "max_chars", limit = 500}}]\nrmax = 0\ntiers = ["{n}"]\n'
                                                   for n, v in (('huge', '1e20'), ('inf', 'Infinity'))))
    with gateway(p, local_tier, tmp_path) as (url, log, dag):
        rs = [chat(url, n) for n in ('huge', 'inf')]
    assert [r.status_code for r in rs] == [200, 200], [r.text for r in rs]
    assert_log_complete(log, rs)
    rows = InferenceLog(log, create=False).rows()
    assert [(r['prompt_tokens'], r['completion_tokens']) for r in rows] == [(0, 0), (0, 0)]
    assert 'internal error' not in capfd.readouterr().err


def test_response_format_becomes_a_guard(policy_file, local_tier, tmp_path):
    "A JSON schema the answers cannot meet: every tier's answer is rejected by the request's own guard."
    fmt = {'type': 'json_schema', 'json_schema': {'name': 'ticket', 'schema': {'type': 'object', 'required': ['team']}}}
    with gateway(policy_file, local_tier, tmp_path) as (url, log, dag):
        r = chat(url, 'fallthrough', response_format=fmt)
    assert r.status_code == 502 and 'ticket: output is not JSON' in r.json()['error']['message']


# ---------------------------------------------------------------- security
def test_keys_never_leak(policy_file, local_tier, tmp_path, capfd, monkeypatch):
    key = 'sk-SECRET-8c1f2e'
    monkeypatch.setenv('UPSTREAM_KEY', key)
    p = tmp_path/'keyed.toml'
    p.write_text(policy_file.read_text() + f'\n[tiers.keyed]\nurl = "{load_policy(policy_file).tiers["api"].url}"\nmodel = "echo-key"\napi_key_env = "UPSTREAM_KEY"\n'
                 f'[routes.keyed]\nguards = [{{kind = "max_chars", limit = 500}}]\nrmax = 0\ntiers = ["keyed"]\n')
    with gateway(p, local_tier, tmp_path, api_key='client-key') as (url, log, dag):
        assert chat(url, 'keyed').status_code == 401                         # the gateway's own bearer key
        assert httpx.get(f"{url}/health").status_code == 200                 # health stays open
        r = chat(url, 'keyed', headers={'authorization': 'Bearer client-key'})
    assert r.status_code == 502 and 'Incorrect API key provided: Bearer ***' in r.text, r.text
    assert key not in r.text
    stored = b''.join(f.read_bytes() for f in tmp_path.rglob('*') if f.is_file() and f.name != 'keyed.toml')
    assert key.encode() not in stored and b'Bearer ***' in stored           # the log has the scrubbed message
    assert key not in ''.join(capfd.readouterr())
    # listening beyond loopback needs a bearer key in the environment
    env = {k: v for k, v in os.environ.items() if k != 'SPECTER_SERVE_KEY'}
    r = run_cli('serve', '--policy', policy_file, '--host', '0.0.0.0', '--port', '0', env=env)
    assert r.returncode == 1 and 'needs a bearer key: set $SPECTER_SERVE_KEY' in r.stderr


# ---------------------------------------------------------------- bad policies, from the command line
@pytest.mark.parametrize('edit, message', [
    (('rmax = 1', 'rmax = "one"'), ':37 [routes.helpdesk.rmax]: expected int, got str'),
    (('tiers = ["local", "api"]', 'tiers = ["local", "cloud"]'), ":38 [routes.helpdesk.tiers]: unknown tier 'cloud'"),
    (('timeout_s = 5', 'timeout_s = -5'), ':13 [tiers.api.timeout_s]: must be > 0'),
    (('[tiers.local]', '[tiers.local'), ':7: malformed TOML'),
    (('[tiers.api_down]\nurl = "http://127.0.0.1:', '[tiers.api_down]\nurl = "http://127.0.0.1:9'), ':32 [tiers.api_down.url]: expected an http(s) URL, got '),
    (('[tiers.api_down]\nurl = "http://127.0.0.1:', '[tiers.api_down]\nurl = "http://[::1'), ":32 [tiers.api_down.url]: expected an http(s) URL, got 'http://[::1"),
    (('timeout_s = 5', 'timeout_s = 1e300'), ':13 [tiers.api.timeout_s]: must be at most 3600, got 1e+300'),
    (('model = "embedded"', 'model = "embedded"\nn_ctx = 100000000000'), ':9 [tiers.local.n_ctx]: must be at most 131072, got 100000000000'),
    (('rmax = 1', 'rmax = 1000'), ':37 [routes.helpdesk.rmax]: must be at most 20, got 1000'),
    (('kind = "regex", pattern', 'kind = "regex", patern = "x", pattern'), ":36 [routes.helpdesk.guards[0].patern]: unknown key 'patern'"),
    (('tiers = ["local", "api"]', 'tiers = [["api"]]'), ":38 [routes.helpdesk.tiers]: expected a list of tier names, got list ['api'] in it"),
    (('[server]', 'deep = ' + '[' * 100_000 + ']' * 100_000 + '\n[server]'), ': malformed TOML: nested too deeply'),
])
def test_bad_policy_is_refused_with_file_line_key(policy_file, tmp_path, edit, message):
    p = tmp_path/'bad.toml'
    p.write_text(policy_file.read_text().replace(*edit, 1))
    r = run_cli('serve', '--policy', p, '--port', '0', '--log', tmp_path/'log.db', '--dag', tmp_path/'dag')
    assert r.returncode == 1 and f"{p}{message}" in r.stderr, r.stderr
    assert 'Traceback' not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path/'log.db').exists() and not (tmp_path/'dag').exists()


# ---------------------------------------------------------------- the real command, killed and stopped
def start_server(policy_file, tmp_path, *extra):
    p = subprocess.Popen([sys.executable, '-m', 'specter_lab', 'serve', '--policy', str(policy_file), '--port', '0',
                          '--log', str(tmp_path/'log.db'), '--dag', str(tmp_path/'dag'), *map(str, extra)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    sel = selectors.DefaultSelector(); sel.register(p.stdout, selectors.EVENT_READ)
    assert sel.select(120), "serve printed nothing"
    line = p.stdout.readline()
    assert 'listening on http://' in line, line + p.stderr.read()
    return p, line.split('listening on ')[1].split()[0]


def test_killed_server_leaves_a_consistent_log(policy_file, tmp_path):
    p, url = start_server(policy_file, tmp_path)
    try:
        with ThreadPoolExecutor(8) as ex:
            done = list(ex.map(lambda i: chat(url, 'fallthrough', f"ticket {i}: the VPN drops"), range(40)))
            pending = [ex.submit(chat, url, 'fallthrough', f"late {i}") for i in range(8)]
            time.sleep(0.05)
            p.send_signal(signal.SIGKILL); p.wait(30)
            late = [f.result() for f in pending if not f.exception()]
    finally:
        if p.poll() is None: p.kill()
    assert all(r.status_code == 200 for r in done)
    con = sqlite3.connect(tmp_path/'log.db')
    assert con.execute('PRAGMA integrity_check').fetchone()[0] == 'ok'
    con.close()
    assert_log_complete(tmp_path/'log.db', done + late)   # every answered request is fully logged, no torn rows
    # every answered request's artifacts are on disk; those written after the last index write are indexed at the next start
    dag = ArtifactDAG(tmp_path/'dag', create=False)
    reindex(dag)
    answered = {r.headers['x-request-id'] for r in done + late if r.status_code == 200}
    assert answered <= {dag.get(i).workflow_id for i in dag.ids()}
    assert len(dag) == len(list((tmp_path/'dag'/'objects').glob('*/*.json')))


def test_sigterm_writes_the_dag_index(policy_file, tmp_path):
    p, url = start_server(policy_file, tmp_path)
    rs = [chat(url, 'fallthrough', f"ticket {i}") for i in range(5)]
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=60)
    assert 'Traceback' not in err, err
    assert all(r.status_code == 200 for r in rs)
    assert len(ArtifactDAG(tmp_path/'dag', create=False)) == 5
    assert len(InferenceLog(tmp_path/'log.db', create=False).rows()) == 15
    # the port in use is a plain error
    busy = socket.socket(); busy.bind(('127.0.0.1', 0)); busy.listen(1)
    r = run_cli('serve', '--policy', policy_file, '--port', busy.getsockname()[1], '--log', tmp_path/'l2.db', '--dag', tmp_path/'d2')
    busy.close()
    assert r.returncode == 1 and 'cannot listen on 127.0.0.1' in r.stderr and 'Traceback' not in r.stderr


# ---------------------------------------------------------------- feedback -> export, monitor
def test_feedback_reaches_export_and_monitor(policy_file, local_tier, tmp_path):
    with gateway(policy_file, local_tier, tmp_path) as (url, log, dag):
        a, b = chat(url, 'fallthrough'), chat(url, 'fallthrough', headers={})
        for r, rating in ((a, 'like'), (b, 'dislike')):
            assert httpx.post(f"{url}/v1/feedback", json={'id': r.json()['id'], 'rating': rating, 'comment': 'ok'}).json()['stored']
    # both answers are the same text, so the like/dislike pair is dropped as chosen == rejected: export says so
    r = run_cli('export', '--feedback', log, '--format', 'dpo', '--output', tmp_path/'fb.jsonl', '--summary', tmp_path/'s.json')
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path/'s.json').read_text())['dropped'] == {'chosen == rejected': 1}
    m = monitor(log)
    assert (m['overall']['requests'], m['overall']['likes'], m['overall']['dislikes'], m['overall']['failure_rate']) == (2, 1, 1, 0.0)
    r = run_cli('monitor', '--log', log, '--window', '1h')
    assert r.returncode == 0 and 'failure_rate' in r.stdout, r.stderr


# ---------------------------------------------------------------- PostgreSQL
@pytest.fixture(scope="session")
def postgres():
    "A throwaway PostgreSQL 15 cluster (Debian's package) run as a non-root user; yields its URL."
    bin_ = Path('/usr/lib/postgresql/15/bin')
    if not (bin_/'initdb').exists(): pytest.skip("PostgreSQL 15 is not installed (apt-get install postgresql)")
    user = 'postgres' if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
    try: pw = pwd.getpwnam(user)
    except KeyError: pytest.skip("no postgres user to run the cluster as")
    d = Path(tempfile.mkdtemp(prefix='specter-pg-'))   # not under pytest's root-only folder: the cluster's user must reach it
    if os.geteuid() == 0: os.chown(d, pw.pw_uid, pw.pw_gid)
    data, port = d/'data', free_port()
    as_user = (lambda cmd: ['runuser', '-u', user, '--', *cmd]) if os.geteuid() == 0 else (lambda cmd: cmd)
    r = subprocess.run(as_user([str(bin_/'initdb'), '-D', str(data), '-A', 'trust', '-U', 'lab']), capture_output=True, text=True)
    if r.returncode: pytest.skip(f"initdb failed: {r.stderr[-300:]}")
    r = subprocess.run(as_user([str(bin_/'pg_ctl'), '-D', str(data), '-l', str(d/'pg.log'), '-w', '-o',
                                f"-p {port} -k {d} -c listen_addresses=127.0.0.1 -c fsync=off", 'start']), capture_output=True, text=True)
    if r.returncode: pytest.skip(f"pg_ctl start failed: {r.stderr[-300:]}")
    try: yield f"postgresql://lab@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(as_user([str(bin_/'pg_ctl'), '-D', str(data), '-m', 'fast', 'stop']), capture_output=True)
        shutil.rmtree(d, ignore_errors=True)


def test_postgres_log(postgres, policy_file, local_tier, tmp_path):
    with gateway(policy_file, local_tier, tmp_path, log=postgres) as (url, log, dag):
        with ThreadPoolExecutor(8) as ex:
            rs = list(ex.map(lambda i: chat(url, 'fallthrough', f"ticket {i}"), range(16)))
        fb = httpx.post(f"{url}/v1/feedback", json={'id': rs[0].json()['id'], 'rating': 'like'})
    assert fb.status_code == 200 and all(r.status_code == 200 for r in rs)
    assert_log_complete(postgres, rs)
    rows = InferenceLog(postgres, create=False).rows()
    assert len(rows) == 48 and rows[0]['created_at'].tzinfo is not None
    assert monitor(postgres)['overall']['likes'] == 1
    with pytest.raises(Exception, match=r'\*\*\*') as e:   # a password never shows in the error
        InferenceLog(postgres.replace('lab@', 'lab:hunter2@').replace('/postgres', '/nodb'))
    assert 'hunter2' not in str(e.value)


def test_an_internal_error_is_a_500_without_traceback(policy_file, local_tier, tmp_path, capfd):
    class Broken:   # a tier with a bug: not a TierFailure, an exception nobody expected
        model = 'broken'
        async def complete(self, *a, **kw): raise ZeroDivisionError('bug')
    gw = Gateway(load_policy(policy_file), InferenceLog(tmp_path/'log.db'), None, tiers={'local': local_tier, 'api': Broken()})
    with background_server(build_app(gw)) as url:
        r = chat(url, 'helpdesk', headers={'x-specter-flags': 'use_local=off'})
        assert httpx.get(f"{url}/health").status_code == 200   # the server goes on
    assert r.status_code == 500 and r.json()['error']['code'] == 'internal_error'
    err = capfd.readouterr().err
    assert 'internal error on /v1/chat/completions: ZeroDivisionError' in err and 'Traceback' not in err


def test_monitor_cli_recommends_retraining_on_drift(tmp_path):
    "A log whose local ε fell from 0.9 to 0.5 against a shipped model evaluated at 0.9: the monitor says retrain."
    from datetime import datetime, timedelta, timezone
    from specter_lab.inference_log import Inference
    log, t0 = InferenceLog(tmp_path/'log.db'), datetime(2026, 5, 4, 8, tzinfo=timezone.utc)
    rows = []
    for h, eps in enumerate((0.9, 0.5)):
        for i in range(200):
            ok = i < eps * 200
            rows.append(Inference(f"{h}-{i}", 'helpdesk', 'local', 'shipped.gguf', 1, '[]', 'x', ok, '', 50, 5, 0.0, 200.0, 'first tier',
                                  t0 + timedelta(hours=h, seconds=i)))
            if not ok: rows.append(Inference(f"{h}-{i}", 'helpdesk', 'api', 'deepseek-v3', 2, '[]', 'y', True, '', 50, 5, 0.008, 800.0,
                                             'escalated', t0 + timedelta(hours=h, seconds=i + 1)))
    log.write(rows).result(); log.close()
    (tmp_path/'report.json').write_text(json.dumps({'epsilon': {'hat': 0.9, 'ci95': [0.85, 0.93], 'passes': 180, 'n': 200}, 'n': 200}))
    r = run_cli('monitor', '--log', tmp_path/'log.db', '--window', '1h', '--report', tmp_path/'report.json', '--figures', tmp_path/'fig',
                '--output', tmp_path/'m.json')
    assert r.returncode == 0, r.stderr
    assert "retrain recommended: the local tier's ε in the latest window is below the shipped model's evaluated ε (0.900 -> 0.500" in r.stdout
    m = json.loads((tmp_path/'m.json').read_text())
    assert [round(w['local_epsilon'], 2) for w in m['windows']] == [0.9, 0.5] and m['drift']['vs_previous']['dropped']
    assert (tmp_path/'fig'/'monitor.png').stat().st_size > 10_000
    r = run_cli('monitor', '--log', tmp_path/'log.db', '--window', 'an hour')
    assert r.returncode == 1 and 'expected a duration like 15m' in r.stderr
    # a flag's bad value is one line naming the flag, found before the log is read (an OverflowError, an IsADirectoryError before)
    (tmp_path/'afile').write_text('x')
    for args, message in ((('--window', '99999999999999d'), "[--window]: a duration of at most 36,525 days, got '99999999999999d'"),
                          (('--since', '99999999999d'), "[--since]: a duration of at most 36,525 days"),
                          (('--output', tmp_path/'fig'), f"{tmp_path/'fig'}: --output is a folder; give a file path"),
                          (('--figures', tmp_path/'afile'), f"{tmp_path/'afile'}: --figures is a file; give a folder")):
        r = run_cli('monitor', '--log', tmp_path/'log.db', *args)
        assert r.returncode == 1 and f"specter-lab monitor: error: {message}" in r.stderr and len(r.stderr.splitlines()) == 1, r.stderr


def test_serve_checks_log_and_dag_before_creating_anything(policy_file, tmp_path):
    "A bad --log leaves no new DAG folder behind; a --dag that is a file is one line naming --dag (a FileExistsError before)."
    r = run_cli('serve', '--policy', policy_file, '--port', '0', '--log', tmp_path/'no'/'such'/'log.db', '--dag', tmp_path/'dag')
    assert r.returncode == 1 and 'no/such/log.db: cannot open the inference log' in r.stderr and len(r.stderr.splitlines()) == 1, r.stderr
    assert not (tmp_path/'dag').exists()
    (tmp_path/'afile').write_text('x')
    r = run_cli('serve', '--policy', policy_file, '--port', '0', '--log', tmp_path/'log.db', '--dag', tmp_path/'afile')
    assert r.returncode == 1 and f"specter-lab serve: error: {tmp_path/'afile'}: --dag is a file; give a folder" in r.stderr, r.stderr
    assert not (tmp_path/'log.db').exists() and (tmp_path/'afile').read_text() == 'x'


@pytest.mark.parametrize('password', ['sec@ret-pw', 'sec/ret-pw'])
def test_no_part_of_a_postgres_password_is_printed(password):
    "A raw '@' or '/' in the password: libpq used to take its tail for the host and print it."
    r = run_cli('monitor', '--log', f"postgresql://lab:{password}@127.0.0.1:{free_port()}/db")
    assert r.returncode == 1 and 'cannot open the inference log' in r.stderr, r.stderr
    assert 'sec' not in r.stderr and 'ret-pw' not in r.stderr, r.stderr

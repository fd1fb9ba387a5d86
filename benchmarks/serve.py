"""`specter-lab serve` under load (issue 14). Run under `flock /tmp/specter-cpu.lock`.

1. Throughput: 16 concurrent clients, helpdesk tickets (a shared system prompt, distinct tickets), local tier
   only, guards on; requests/s of `specter-lab serve` against `python -m llama_cpp.server` on the same GGUF,
   each with 1 generation thread and with all cores (the server also with --flash_attn true, the local tier's setting).
2. Added latency of the gateway: (a) in that run, a request's time at the client minus the time its attempts
   spent in the model (from the inference log); (b) one client through the gateway to a fast upstream
   against the same upstream called directly.
3. Load: 10,000 requests at concurrency 32 against an upstream failing 10 % of the time (escalating to a
   backup tier): lost log rows, 5xx answers and tracebacks.
0. The kernel bound, in-process, before any server: the cost of one generated token when llama_decode holds one
   sequence against sixteen, and LlamaGenerator.generate alone on the same prompts: what batching can gain on this
   CPU and this GGUF, and the rate a gateway on this model cannot beat. Also the compute bound: the tokens generate
   evaluates per request, its prompt tokens past the shared prefix at the kernel's cheapest cost per token (a
   256-token prompt batch) and its generated tokens at the 16-sequence decode cost (16 clients: at most 16 sequences
   decode at once); `three_times_best_server` says whether 3x the best server is within it.
Writes benchmarks/results/serve.json."""
import argparse, asyncio, json, os, platform, signal, socket, statistics, subprocess, sys, tempfile, time
from pathlib import Path
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT/'tests')]
from specter_lab.inference_log import InferenceLog
from specter_lab.model import embedded_gguf

SYSTEM = ("You are the helpdesk router of a software company. Read the ticket and answer with the team that "
          "should handle it — NETWORK, ACCOUNT or HARDWARE — then ' - ' and one short reason.")
PLACES = ['the office', 'home', 'the airport lounge', 'a hotel', 'the warehouse', 'the branch in Leeds', 'the lab', 'the train']
THINGS = ['VPN', 'laptop', 'password', 'Wi-Fi', 'printer', 'SSO login', 'docking station', 'email account', 'monitor', 'badge']
PROBLEMS = ['keeps dropping', 'stopped working', 'is locked', 'is very slow', 'shows an error', 'was reset', 'makes a noise', 'will not connect']


def ticket(i: int) -> str:
    return (f"Ticket {i}: since this morning my {THINGS[i % len(THINGS)]} {PROBLEMS[(i // 10) % len(PROBLEMS)]} "
            f"when I work from {PLACES[(i // 80) % len(PLACES)]}. What should I do?")


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]


def wait_up(url, proc, path='/v1/models', timeout=180):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc.poll() is not None: raise SystemExit(f"server exited: {proc.args}")
        try:
            if httpx.get(url + path, timeout=2).status_code < 500: return
        except httpx.HTTPError: pass
        time.sleep(0.2)
    raise SystemExit(f"server did not come up: {proc.args}")


def start(cmd, url, log, path='/v1/models', env=None):
    p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, env={**os.environ, **(env or {})})
    wait_up(url, p, path)
    return p


def stop(p):
    p.send_signal(signal.SIGTERM)
    try: p.wait(60)
    except subprocess.TimeoutExpired: p.kill(); p.wait()


async def drive(url, model, n, concurrency, max_tokens, start_i=0, headers=None):
    "Send `n` chat requests with `concurrency` clients; per request (status, seconds, headers)."
    out, nxt = [], iter(range(start_i, start_i + n))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=600, limits=limits) as c:
        async def client():
            for i in nxt:
                body = {'model': model, 'max_tokens': max_tokens, 'temperature': 0,
                        'messages': [{'role': 'system', 'content': SYSTEM}, {'role': 'user', 'content': ticket(i)}]}
                t0 = time.perf_counter()
                r = await c.post(f"{url}/v1/chat/completions", json=body, headers=headers)
                out.append((r.status_code, time.perf_counter() - t0, dict(r.headers), r.content))
        t0 = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        return out, time.perf_counter() - t0


def rate(name, res, secs):
    ok = sum(s == 200 for s, *_ in res)
    lat = [t for _, t, *_ in res]
    d = {'name': name, 'requests': len(res), 'ok': ok, 'seconds': round(secs, 2), 'requests_per_s': round(len(res) / secs, 3),
         'latency_p50_s': round(statistics.median(lat), 3), 'latency_p95_s': round(sorted(lat)[int(0.95 * (len(lat) - 1))], 3)}
    print(json.dumps(d), flush=True)
    return d


def kernel(gguf, t, n=32, max_tokens=32, steps=12):
    "Per-token cost of a decode step with 1 and 16 sequences (after the helpdesk prompt), and generate() alone on `n` tickets."
    from specter_lab.generate import LlamaGenerator
    from specter_lab.model import load_llama
    g = LlamaGenerator(gguf, n_ctx=4096, n_parallel=16, llm=load_llama(gguf, n_ctx=4096, n_threads=t, n_threads_batch=t))
    chats = [[{'role': 'system', 'content': SYSTEM}, {'role': 'user', 'content': ticket(i)}] for i in range(n)]
    g.generate(chats[:2], max_tokens=4)   # warm
    lc, per_token = g.lc, {}
    for B in (1, 16):
        ps = [g.prompt_tokens(c) for c in chats[:B]]
        g._set_prefix([])
        for s, p in enumerate(ps, 1):
            lc.llama_memory_seq_rm(g.mem, s, -1, -1)
            for i in range(0, len(p), g.n_batch): g._decode([(x, i + j, s, False) for j, x in enumerate(p[i:i + g.n_batch])])
        ts = []
        for k in range(steps):
            t0 = time.perf_counter(); g._decode([(1000 + k, len(p) + k, s, True) for s, p in enumerate(ps, 1)]); ts.append(time.perf_counter() - t0)
        for s in range(1, B + 1): lc.llama_memory_seq_rm(g.mem, s, -1, -1)
        per_token[B] = statistics.median(ts[2:]) / B
    # the kernel's cheapest token: one sequence of 256 prompt tokens in one batch (no logits but the last)
    ts = []
    for k in range(3):
        lc.llama_memory_seq_rm(g.mem, 1, -1, -1)
        t0 = time.perf_counter(); g._decode([(1000 + j, j, 1, j == 255) for j in range(256)]); ts.append(time.perf_counter() - t0)
    lc.llama_memory_seq_rm(g.mem, 1, -1, -1)
    floor = min(ts) / 256
    t0, d0 = time.perf_counter(), g.decoded
    gens = [x for i in range(0, n, 16) for x in g.generate(chats[i:i + 16], max_tokens=max_tokens)]
    secs, evaluated = time.perf_counter() - t0, (g.decoded - d0) / n
    generated = sum(x.completion_tokens for x in gens) / n   # each fed back but the last: decode steps of up to 16 sequences
    d = {'n_threads': t, 'decode_ms_per_token_1_sequence': round(1000 * per_token[1], 2),
         'decode_ms_per_token_16_sequences': round(1000 * per_token[16], 2),
         'batching_gain_per_token': round(per_token[1] / per_token[16], 2),
         'generator_alone_requests_per_s': round(n / secs, 3), 'generator_requests': n,
         'tokens_evaluated_per_request': round(evaluated, 1), 'tokens_generated_per_request': round(generated, 1),
         'prompt_ms_per_token_256_batch': round(1000 * floor, 2),
         # with 16 clients at most 16 sequences decode at once: a request's prompt tokens at the kernel's cheapest cost per
         # token, its generated tokens at the 16-sequence decode cost; a scheduler of this kernel answers about this fast at most (measured: within its noise)
         'compute_bound_requests_per_s': round(1 / ((evaluated - generated) * floor + generated * per_token[16]), 3),
         'compute_bound_all_tokens_at_prompt_cost': round(1 / (evaluated * floor), 3)}
    print(json.dumps(d), flush=True)
    return d


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--requests', type=int, default=96, help="requests per throughput run (16 clients)")
    ap.add_argument('--max-tokens', type=int, default=32)
    ap.add_argument('--load', type=int, default=10_000, help="requests of the load test (concurrency 32)")
    ap.add_argument('--output', default=str(ROOT/'benchmarks/results/serve.json'))
    a = ap.parse_args()
    gguf, threads = str(embedded_gguf()), os.cpu_count()
    tmp = Path(tempfile.mkdtemp(prefix='serve-bench-'))
    logf = open(tmp/'servers.log', 'w')
    res = {'machine': {'cpus': os.cpu_count(), 'platform': platform.platform(), 'python': platform.python_version(),
                       'load_avg_at_start': list(os.getloadavg())},
           'model': Path(gguf).name, 'clients': 16, 'max_tokens': a.max_tokens, 'requests_per_run': a.requests, 'runs': []}

    # --- 0. the kernel bound
    res['kernel'] = [kernel(gguf, t, max_tokens=a.max_tokens) for t in sorted({1, threads})]

    # --- 1. throughput: llama_cpp.server vs specter-lab serve, both with 1 thread and with all cores (n_threads and
    # n_threads_batch). On a shared machine fewer threads can win: llama.cpp's threads wait for each other.
    thread_counts = sorted({1, threads})
    # Its defaults otherwise (flash_attn off, logits_all on); the local tier runs flash attention, so the server is also
    # run with --flash_attn true: the same llama.cpp settings as ours.
    for t, fa in [(t, fa) for fa in (False, True) for t in thread_counts]:
        port = free_port(); url = f"http://127.0.0.1:{port}"
        p = start([sys.executable, '-m', 'llama_cpp.server', '--model', gguf, '--port', str(port), '--n_ctx', '4096', '--n_threads', str(t),
                   '--n_threads_batch', str(t)] + (['--flash_attn', 'true'] if fa else []), url, logf)
        try:
            asyncio.run(drive(url, 'x', 4, 4, a.max_tokens, 10**6))   # warm
            out, secs = asyncio.run(drive(url, 'x', a.requests, 16, a.max_tokens))
            res['runs'].append(rate(f'python -m llama_cpp.server (n_threads {t}{", flash_attn" if fa else ""})', out, secs) | {'n_threads': t, 'flash_attn': fa})
        finally: stop(p)

    policy = tmp/'policy.toml'
    up_port = free_port(); up_url = f"http://127.0.0.1:{up_port}"
    policy.write_text(f'''
[tiers.local]
model = "embedded"
n_parallel = 16
n_ctx = 4096
timeout_s = 300
[tiers.flaky]
url = "{up_url}/v1"
model = "flaky"
timeout_s = 30
[tiers.backup]
url = "{up_url}/v1"
model = "ok"
timeout_s = 30
[routes.helpdesk]
guards = [{{kind = "regex", pattern = "\\\\S"}}, {{kind = "max_chars", limit = 2000}}]
rmax = 0
tiers = ["local"]
[routes.upstream]
guards = [{{kind = "regex", pattern = "^(NETWORK|ACCOUNT|HARDWARE) - \\\\S"}}]
rmax = 0
tiers = ["flaky", "backup"]
[routes.direct]
guards = [{{kind = "regex", pattern = "^(NETWORK|ACCOUNT|HARDWARE) - \\\\S"}}]
rmax = 0
tiers = ["backup"]
''')
    up = start([sys.executable, '-c', f"import sys; sys.path.insert(0, {str(ROOT/'tests')!r}); import uvicorn, serve_upstream; "
                f"uvicorn.run(serve_upstream.fake_upstream(), host='127.0.0.1', port={up_port}, log_level='warning', access_log=False)"],
               up_url, logf, path='/docs')
    serr, sp = open(tmp/'serve.stderr', 'w'), None
    try:
        for t in thread_counts:   # the last server (all cores) stays up for parts 2 and 3
            if sp is not None: stop(sp)
            port = free_port(); url = f"http://127.0.0.1:{port}"
            sp = start([sys.executable, '-m', 'specter_lab', 'serve', '--policy', str(policy), '--port', str(port), '--set', f'eval.n_threads={t}',
                        '--log', str(tmp/f'log{t}.db'), '--dag', str(tmp/f'dag{t}')], url, serr, path='/health')
            asyncio.run(drive(url, 'helpdesk', 4, 4, a.max_tokens, 10**6))
            out, secs = asyncio.run(drive(url, 'helpdesk', a.requests, 16, a.max_tokens))
            ours = rate(f'specter-lab serve (local tier, n_parallel 16, guards on, n_threads {t})', out, secs) | {'n_threads': t}
            ours['accepted'] = sum(s == 200 for s, *_ in out)
            res['runs'].append(ours)
        log = tmp/f'log{threads}.db'
        # 2a. added latency from the log: client time minus the attempts' time in the model
        rows = {}
        for r in InferenceLog(log, create=False).rows():
            rows.setdefault(r['request_id'], []).append(r['latency_ms'] / 1000)
        added = [t - sum(rows[h['x-request-id']]) for s, t, h, _ in out if h.get('x-request-id') in rows]
        res['gateway_added_latency_ms_under_load'] = {'median': round(1000 * statistics.median(added), 2),
            'p95': round(1000 * sorted(added)[int(0.95 * (len(added) - 1))], 2), 'n': len(added),
            'how': 'client-observed seconds minus the logged attempts\' seconds, 16 clients on the local tier'}
        # 2b. one client, gateway -> fast upstream vs the upstream directly
        direct, via = [], []
        async def seq():
            async with httpx.AsyncClient(timeout=60) as c:
                for i in range(400):
                    body = {'max_tokens': 16, 'messages': [{'role': 'user', 'content': ticket(i)}]}
                    t0 = time.perf_counter(); await c.post(f"{up_url}/v1/chat/completions", json=body | {'model': 'ok'}); t1 = time.perf_counter()
                    r = await c.post(f"{url}/v1/chat/completions", json=body | {'model': 'direct'}); t2 = time.perf_counter()
                    assert r.status_code == 200, r.text
                    direct.append(t1 - t0); via.append(t2 - t1)
        asyncio.run(seq())
        res['gateway_added_latency_ms'] = {'median': round(1000 * (statistics.median(via) - statistics.median(direct)), 2),
            'direct_median_ms': round(1000 * statistics.median(direct), 2), 'via_gateway_median_ms': round(1000 * statistics.median(via), 2),
            'n': len(via), 'how': 'one client, 400 requests alternating: the fake upstream directly vs through serve (guards, log, DAG)'}
        print(json.dumps(res['gateway_added_latency_ms']), flush=True)

        # --- 3. load: 10,000 requests at concurrency 32, upstream failing 10 %
        before = len(InferenceLog(log, create=False).rows())
        out, secs = asyncio.run(drive(url, 'upstream', a.load, 32, 16, start_i=10**7))
        load = rate(f'load: {a.load} requests, concurrency 32, upstream failing 10 % -> backup tier', out, secs)
        logged = InferenceLog(log, create=False).rows()[before:]
        expect = sum(int(h.get('x-specter-attempts', 0)) for _, _, h, _ in out)
        load.update(attempts_reported=expect, rows_logged=len(logged), lost_rows=expect - len(logged),
                    requests_logged=len({r['request_id'] for r in logged}), non_200=sum(s != 200 for s, *_ in out),
                    escalated=sum(h.get('x-specter-attempts') == '2' for _, _, h, _ in out))
        res['load'] = load
    finally:
        if sp is not None: stop(sp)
        stop(up); serr.close()
    err = (tmp/'serve.stderr').read_text()
    res['load']['tracebacks'] = err.count('Traceback')
    res['load']['server_stderr_lines'] = len(err.splitlines())
    rps = lambda name, t: next(r['requests_per_s'] for r in res['runs'] if r['name'].startswith(name) and r['n_threads'] == t and not r.get('flash_attn'))
    res['speedup_vs_llama_cpp_server'] = {f'n_threads {t}': round(rps('specter-lab', t) / rps('python -m llama_cpp', t), 2) for t in thread_counts}
    base = [r for r in res['runs'] if r['name'].startswith('python -m llama_cpp')]
    best = max(base, key=lambda r: r['requests_per_s'])
    res['speedup_vs_llama_cpp_server']['best_vs_best'] = round(max(rps('specter-lab', t) for t in thread_counts) / best['requests_per_s'], 2)
    res['speedup_vs_llama_cpp_server']['best_llama_cpp_server'] = best['name']
    for t in thread_counts:
        res['speedup_vs_llama_cpp_server'][f'n_threads {t}, server with flash_attn'] = round(rps('specter-lab', t) / next(
            r['requests_per_s'] for r in base if r['flash_attn'] and r['n_threads'] == t), 2)
    best_k = max(res['kernel'], key=lambda k: k['compute_bound_requests_per_s'])
    res['three_times_best_server'] = {'needs_requests_per_s': round(3 * best['requests_per_s'], 3),
                                      'compute_bound_requests_per_s': best_k['compute_bound_requests_per_s'], 'n_threads': best_k['n_threads'],
                                      'reachable': best_k['compute_bound_requests_per_s'] >= 3 * best['requests_per_s']}
    res['gateway_over_generator_alone'] = {f'n_threads {k["n_threads"]}': round(rps('specter-lab', k['n_threads']) / k['generator_alone_requests_per_s'], 2)
                                           for k in res['kernel']}
    print(json.dumps({k: res[k] for k in ('speedup_vs_llama_cpp_server', 'gateway_over_generator_alone', 'load')}, indent=1))
    res['machine']['load_avg_at_end'] = list(os.getloadavg())
    Path(a.output).parent.mkdir(parents=True, exist_ok=True)
    Path(a.output).write_text(json.dumps(res, indent=1) + '\n')


if __name__ == '__main__':
    main()

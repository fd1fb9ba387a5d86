"""Cost benchmark: the local model's measured throughput in llama.cpp, and what it makes of the cost model.

Run:  flock /tmp/specter-cpu.lock .venv/bin/python benchmarks/cost.py [--tasks 60]
Writes benchmarks/results/cost.json.

Measured here: tasks/s and tokens/s of the embedded GGUF (SmolLM2-135M-Instruct Q4_1) answering the
deal-screening suite's prompts greedily (chat completion, max_tokens = [eval] max_tokens), one task at a
time, on this machine. Everything else is computed from that and from stated inputs: the bundled price
registry, the cost plan's inputs, and ε before and after training and the training seconds of the committed loop
run (`--loop-run`, default benchmarks/results/loop/summary.json: `epsilon_before`, `epsilon_after`, `train_seconds`;
not measured here).
"""
import argparse, json, os, platform, sys, time
from pathlib import Path
from specter_lab.config import load_settings
from specter_lab.cost import (Scenario, cost_quality_curve, cpt, epsilon_value, jsonable, parse_mix, project, savings,
                              check_plan_claims, plan_numbers, break_even_months)
from specter_lab.files import read_json, read_jsonl, write_json
from specter_lab.model import embedded_gguf, load_llama
from specter_lab.prices import call_usd, read_registry, train_usd
from specter_lab.route import read_queries, route_log, escalation_tiers, tier_usd

ROOT = Path(__file__).resolve().parents[1]
LOOP_RUN = ROOT/'benchmarks'/'results'/'loop'/'summary.json'


def loop_run(path=LOOP_RUN) -> dict:
    "ε before and after training and the training seconds of a loop run's summary.json (what this benchmark prices)."
    s = read_json(path)
    b, a = s['epsilon_before'], s['epsilon_after']
    return {'eps_before': b['hat'], 'eps_after': a['hat'], 'train_seconds': s['train_seconds'],
            'source': f"{Path(path).resolve().relative_to(ROOT) if Path(path).resolve().is_relative_to(ROOT) else path}: "
                      f"{s['tasks']} {s['split']} ε {b['hat']:.3f} -> {a['hat']:.3f} (n={a['n']}) after {s['train_seconds']:,.0f} s of training"}


def measure(suite: Path, n: int, max_tokens: int) -> dict:
    recs = [r for _, r in read_jsonl(suite)][:n]
    llm = load_llama(embedded_gguf(), n_ctx=2048)
    llm.create_chat_completion(messages=recs[0]['messages'], max_tokens=4, temperature=0.0)   # warm-up
    pt = ct = 0
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    for r in recs:
        out = llm.create_chat_completion(messages=r['messages'], max_tokens=max_tokens, temperature=0.0)
        pt += out['usage']['prompt_tokens']; ct += out['usage']['completion_tokens']
    secs = time.perf_counter() - t0
    return {'load_avg_before': load_before, 'load_avg_after': os.getloadavg(),   # other work on the machine slows llama.cpp a lot
            'tasks': len(recs), 'seconds': secs, 'tasks_per_s': len(recs)/secs, 'tokens_per_s': ct/secs,
            'prompt_tokens': pt, 'completion_tokens': ct, 'max_tokens': max_tokens}


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument('--tasks', type=int, default=60)
    ap.add_argument('--suite', default=str(ROOT/'specter_lab'/'data'/'deal_screening.jsonl'))
    ap.add_argument('--loop-run', default=str(LOOP_RUN), help="a loop run's summary.json: ε before/after and training seconds")
    a = ap.parse_args(argv)
    run = loop_run(a.loop_run)
    st = load_settings(ROOT/'settings.ini')
    reg = read_registry(st.cost.registry)
    timings = measure(Path(a.suite), a.tasks, st.eval.max_tokens)
    local_call = call_usd(reg, st.cost.local_model, timings)
    sc = Scenario(volume=st.cost.volume, mix=parse_mix(st.cost.mix), local=st.cost.local_model, api=st.cost.api_model,
                  premium=st.cost.premium_model, retries=st.eval.rmax, tasks_per_s=timings['tasks_per_s'])
    ev = epsilon_value(reg, sc, run['eps_before'], run['eps_after'])
    cpu_cycle = train_usd(reg, 'cpu-2core', seconds=run['train_seconds'])
    gpu_cycle = train_usd(reg, 'a10g', gpu_hours=2)
    per, routed = route_log(read_queries(a.suite), sc.tiers(), tier_usd(reg, sc.tiers(), timings))
    curve = cost_quality_curve(run['eps_after'], 1.0, local_call, call_usd(reg, sc.premium), st.eval.rmax)
    res = {
        'machine': {'cpus': os.cpu_count(), 'platform': platform.platform(), 'python': sys.version.split()[0]},
        'measured_local_throughput': timings,
        'local_usd_per_call': local_call,
        'local_calls_per_month_at_full_load': timings['tasks_per_s']*3600*24*30,
        'scenario': {'volume': sc.volume, 'mix': sc.mix, 'retries': sc.retries, 'models': [sc.local, sc.api, sc.premium]},
        'monthly_after_training': savings(reg, Scenario(**{**sc.__dict__, 'eps_local': run['eps_after']})),
        'epsilon_in_money': ev,
        'cycle_usd': {'cpu_2core_loop_run': cpu_cycle, 'a10g_2h_planned': gpu_cycle},
        'break_even_months': {'cpu_2core_loop_run': break_even_months(cpu_cycle, ev['monthly_saving_usd']),
                              'a10g_2h_planned': break_even_months(gpu_cycle, ev['monthly_saving_usd'])},
        'cpt50_at_eps_after_training': {'random': cpt(curve, 'random'), 'guard_escalation': cpt(curve, 'escalation r=0')},
        'suite_routed_by_complexity': per['category'].value_counts().to_dict(),
        'plan_claims': {'numbers': plan_numbers(reg), 'claims': check_plan_claims(reg).to_dict('records')},
        'inputs': {'loop_run': run, 'registry': 'specter_lab/data/prices.csv (bundled)'},
    }
    out = ROOT/'benchmarks'/'results'/'cost.json'
    write_json(out, jsonable(res))
    print(json.dumps(jsonable({k: res[k] for k in ('measured_local_throughput', 'local_usd_per_call', 'epsilon_in_money',
                                                   'cycle_usd', 'break_even_months', 'cpt50_at_eps_after_training')}), indent=1))
    print(f"wrote {out}")


if __name__ == '__main__':
    main()

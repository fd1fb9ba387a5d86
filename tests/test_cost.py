"""`specter-lab cost` end to end, `cycle_cost` as the loop calls it, and bad input naming its place."""
import json, math
from pathlib import Path
import pytest
from specter_lab.config import Settings, SpecterError
from specter_lab.cost import cli_cost, cycle_cost, plan_numbers
from specter_lab.prices import REGISTRY_COLUMNS, read_registry
from specter_lab.route import capped_attempts, p_fail

BEFORE = {'model': 'embedded.gguf', 'n': 200, 'epsilon': {'hat': 0.0, 'ci95': [0.0, 0.019]},
          'timings': {'tasks_per_s': 2.2, 'tokens_per_s': 40.0, 'prompt_tokens': 20000, 'completion_tokens': 3200, 'seconds': 91.0}}
AFTER = {'model': 'tuned-q4_k_m.gguf', 'n': 200, 'epsilon': {'hat': 0.855, 'ci95': [0.80, 0.90]},
         'timings': {'tasks_per_s': 3.5, 'tokens_per_s': 60.0, 'prompt_tokens': 20000, 'completion_tokens': 3200, 'seconds': 57.0}}


@pytest.fixture
def reports(tmp_path):
    (tmp_path/'before.json').write_text(json.dumps(BEFORE))
    (tmp_path/'after.json').write_text(json.dumps(AFTER))
    (tmp_path/'train.json').write_text(json.dumps({'seconds': 921.0, 'steps': 64}))
    return tmp_path


def test_cli_end_to_end(cli, reports):
    "The shell entry: two reports and a training summary -> table, cycle, the cost plan check, cost.json and four figures."
    out = reports/'out'
    r = cli('cost', '--report', reports/'before.json', '--report', reports/'after.json', '--train-summary', reports/'train.json',
            '--retries', '3', '--seed001', '--out', out, check=True)
    assert 'Monthly projection: 10,000 queries' in r.stdout and 'Training cycle: ε 0.000 -> 0.855' in r.stdout
    assert '80 % of queries stay local' in r.stdout
    res = json.loads((out/'cost.json').read_text())
    hour = 0.05/3600
    want = (6000*0.008 + 6000*4*hour/2.2) - (6000*p_fail(0.855, 3)*0.008 + 6000*capped_attempts(0.855, 3)*hour/3.5)
    assert res['cycle']['monthly_saving_usd'] == pytest.approx(want)
    assert res['cycle']['cycle_usd']['train'] == pytest.approx(921*hour)
    assert res['savings']['all_premium_usd'] == pytest.approx(150.0)
    assert {p.name for p in out.iterdir()} == {'cost.json', 'projection.png', 'cost_quality.png', 'tornado.png', 'epsilon.png'}
    assert all((out/n).read_bytes()[:4] == b'\x89PNG' for n in ('projection.png', 'tornado.png'))


def test_cli_volume_mix_registry_queries(tmp_path, capsys):
    "Flags override settings: volume, a tier mix, a user registry changing a price, GPU hours, a routed query log."
    head = ','.join(REGISTRY_COLUMNS[:9])
    (tmp_path/'mine.csv').write_text(f"{head}\ndeepseek-v3,api,,0.004,,,,,\n")
    assert cli_cost(['--volume', '1000', '--mix', 'local=0.5,api=0.5', '--registry', str(tmp_path/'mine.csv'),
                     '--epsilon', '1', '--gpu-hours', '2', '--train-hardware', 'a10g', '--out', str(tmp_path/'o')]) == 0
    res = json.loads((tmp_path/'o'/'cost.json').read_text())
    assert res['projection'][1]['usd'] == pytest.approx(500*0.004)
    assert res['training']['usd'] == pytest.approx(6.0)
    (tmp_path/'q.jsonl').write_text('\n'.join(json.dumps({'query': q}) for q in
                                    ["What's your pricing?", "Do you ship to Canada?", "Write a tagline for our launch"]) + '\n')
    assert cli_cost(['--queries', str(tmp_path/'q.jsonl'), '--out', str(tmp_path/'o2')]) == 0
    res = json.loads((tmp_path/'o2'/'cost.json').read_text())
    assert res['queries'] == {'simple': 2, 'high': 1}
    assert res['scenario']['mix'] == pytest.approx({'local': 2/3, 'premium': 1/3})
    assert 'Monthly projection' in capsys.readouterr().out


def test_cycle_cost_for_the_loop(tmp_path):
    "The loop's call: paths or dicts, JSON-ready, no success to pay for at ε = 0."
    (tmp_path/'b.json').write_text(json.dumps(BEFORE))
    cc = cycle_cost(tmp_path/'b.json', AFTER, 921.0, Settings())
    assert cc['usd_per_success']['before'] is None
    assert cc['usd_per_success']['after'] == pytest.approx(0.05/3600/3.5/0.855)
    assert cc['cycle_usd']['total'] == pytest.approx((921+91+57)*0.05/3600)
    assert cc['break_even_months'] == pytest.approx(cc['cycle_usd']['total']/cc['monthly_saving_usd'])
    json.dumps(cc, allow_nan=False)
    tokens_only = {**AFTER, 'timings': {k: v for k,v in AFTER['timings'].items() if k != 'tasks_per_s'}}
    cc2 = cycle_cost(BEFORE, tokens_only, 921.0, Settings())
    assert cc2['assumptions']['tasks_per_s']['after'] == pytest.approx(60.0*200/23200)  # 116 tokens a task at 60 tokens/s
    # the evaluation report's own shape: model record, rmax and the measured guarded retries
    eval_report = {**AFTER, 'model': {'spec': 'tuned.gguf', 'kind': 'llama.cpp'}, 'rmax': 3,
              'retries': {'mean_attempts': 1.2, 'passed_within_rmax': 0.97, 'human_fallbacks': 0}}
    cc3 = cycle_cost(BEFORE, eval_report, 921.0, Settings())
    assert cc3['escalation_measured'] == {'before': False, 'after': True}
    assert cc3['escalation_rate']['after'] == pytest.approx(0.03)
    same = cycle_cost(BEFORE, BEFORE, {'seconds': 10}, Settings())
    assert same['monthly_saving_usd'] == 0 and same['break_even_months'] is None


def test_cost_plan_from_its_inputs():
    n = plan_numbers(read_registry())
    assert n['claimed_api_usd'] == pytest.approx(24.0)      # its multiplication holds
    assert n['api_usd'] == pytest.approx(46.0)              # its routing does not give 80 % local
    assert n['all_premium_usd'] == pytest.approx(150.0)     # not the $200 it starts from


@pytest.mark.parametrize('args,where', [
    (['--mix', 'simple=0.6,medium=0.3'], "[cost.mix]: shares sum to 0.9, not 1"),
    (['--mix', 'simple=1.1,medium=-0.1'], "[cost.mix]: share of 'medium' is negative"),
    (['--set', 'cost.api_model=gpt-5'], "[api.model]: unknown model 'gpt-5'"),
    (['--epsilon', '1.5'], "[local.epsilon]: epsilon 1.5 is not in [0, 1]"),
    (['--train-hardware', 'specter-local', '--gpu-hours', '1'], "expected hardware"),
])
def test_bad_numbers_name_the_field(tmp_path, args, where):
    with pytest.raises(SpecterError) as e: cli_cost([*args, '--out', str(tmp_path/'o')])
    assert where in str(e.value)
    assert not (tmp_path/'o'/'cost.json').exists()


def test_bad_files_name_file_line_field(cli, tmp_path):
    "Through the dispatcher: exit 1 and a message with the file, the line and the column."
    head = ','.join(REGISTRY_COLUMNS[:9])
    (tmp_path/'mine.csv').write_text(f"{head}\n# a comment\nmy-api,api,,-0.5,,,,,\n")
    r = cli('cost', '--registry', tmp_path/'mine.csv', '--out', tmp_path/'o')
    assert r.returncode == 1 and f"{tmp_path/'mine.csv'}:3 [usd_per_request]: -0.5 is not a non-negative number" in r.stderr
    (tmp_path/'r.json').write_text(json.dumps({'epsilon': {'hat': -0.1}}))
    with pytest.raises(SpecterError, match=r"r\.json \[epsilon\.hat\]"): cli_cost(['--report', str(tmp_path/'r.json'), '--out', str(tmp_path/'o')])
    (tmp_path/'t.json').write_text(json.dumps({'steps': 3}))
    with pytest.raises(SpecterError, match=r"t\.json \[seconds\]"): cli_cost(['--train-summary', str(tmp_path/'t.json'), '--out', str(tmp_path/'o')])
    (tmp_path/'hw.csv').write_text(f"{head}\ncpu-2core,api,,1,,,,,\n")   # replaces the machine the local model runs on
    r = cli('cost', '--registry', tmp_path/'hw.csv', '--out', tmp_path/'o')
    assert r.returncode == 1 and r.stderr.startswith(f"specter-lab cost: error: {tmp_path/'hw.csv'}:2 [kind]: 'cpu-2core' is a api row, but local model 'specter-local'")


@pytest.mark.parametrize('args,where', [
    (['--train-seconds', 'inf'], "[--train-seconds]: expected a finite number >= 0, got inf"),
    (['--gpu-hours', '-1'], "[--gpu-hours]: expected a finite number >= 0, got -1.0"),
    (['--train-summary', 'train.json', '--train-hardware', 'nope'], "[cost.train_hardware]: unknown model 'nope'"),
    (['--gpu-hours', '1', '--train-hardware', 'specter-local'], "[cost.train_hardware]: 'specter-local' is a local row ("),
    (['--set', 'cost.local_model=deepseek-v3'], "[cost.local_model]: 'deepseek-v3' is a api row ("),   # was KeyError ''
    (['--report', 'before.json', '--report', 'after.json', '--train-seconds', 'nan'], "[--train-seconds]"),
])
def test_inputs_checked_before_anything_is_printed(reports, capsys, args, where):
    "A bad training time, training machine or local model is refused before the projection is printed, naming the flag or setting (not the registry file)."
    args = [str(reports/x) if x.endswith('.json') else x for x in args]
    with pytest.raises(SpecterError) as e: cli_cost([*args, '--out', str(reports/'o')])
    assert str(e.value).startswith(where)
    assert capsys.readouterr().out == '' and not (reports/'o').exists()

"""The training-data export from the shell: `specter-lab export` end to end, every bad-input case of the issue, atomic output."""
import json, shutil
from collections import Counter
from pathlib import Path
import pytest
from specter_lab.artifact import ArtifactDAG, GuardResult, Status, Source, new_artifact
from specter_lab.cli import main

SYSTEM = "You screen deal profiles. Answer 'LIKE - <reason>' or 'PASS - <reason>'."


def guarded_dag(path, n_tasks=8):
    "A DAG as the guarded loop writes it: retry chains, first-attempt successes, and HUMAN answers where retries ran out."
    ids = {}
    with ArtifactDAG(path) as dag:
        for i in range(n_tasks):
            prev, spec = None, f"Evaluate: founder {i}, {'YC W24' if i % 2 else 'Series D'}"
            for j in range(i % 4):
                prev = new_artifact(f"maybe {i}.{j}", action_pair_id='g_screen' if i < 6 else 'g_other', workflow_id=f'wf{i % 2}',
                                    specification=spec, constraints=SYSTEM, status=Status.REJECTED,
                                    guard_result=GuardResult(False, f"wrong format {j}"), previous=prev)
                dag.put(prev)
            human = i == 7
            last = new_artifact(f"{'LIKE' if i % 2 else 'PASS'} - reason {i}", action_pair_id='g_screen' if i < 6 else 'g_other',
                                workflow_id=f'wf{i % 2}', specification=spec, constraints=SYSTEM, status=Status.ACCEPTED,
                                guard_result=None if human else GuardResult(True), previous=prev,
                                source=Source.HUMAN if human else Source.GENERATED)
            dag.put(last); ids[i] = last.artifact_id
    return ids


@pytest.fixture
def dag(tmp_path):
    d = tmp_path/'dag'; guarded_dag(d); return d


def run(argv, capsys):
    "The dispatcher in-process (what `specter-lab` runs): (exit code, stdout, stderr)."
    rc = main(['export', *map(str, argv)]); out = capsys.readouterr()
    return rc, out.out, out.err


def lines(p): return [json.loads(l) for l in Path(p).read_text().splitlines()]


def obj(d, aid): return Path(d)/'objects'/aid[:2]/f'{aid}.json'


# --- the command line ---------------------------------------------------------------------------------------

def test_cli_help_and_subprocess(cli, dag, tmp_path):
    r = cli('export', '--help')
    assert r.returncode == 0 and '--dag-path' in r.stdout and '--skip-invalid' in r.stdout
    r = cli('export', '--dag-path', dag, '--format', 'dpo', '--output', tmp_path/'p.jsonl')
    assert r.returncode == 0, r.stderr
    assert 'g_screen' in r.stdout and 'chain length' in r.stdout
    r = cli('export', '--dag-path', tmp_path/'missing', '--output', tmp_path/'q.jsonl')
    assert r.returncode == 1 and 'missing: no such DAG' in r.stderr and not (tmp_path/'q.jsonl').exists()


def test_sft_end_to_end(dag, tmp_path, capsys):
    rc, out, _ = run(['--dag-path', dag, '--output', tmp_path/'sft.jsonl', '--summary', tmp_path/'s.json'], capsys)
    assert rc == 0
    recs = lines(tmp_path/'sft.jsonl')
    # refinement: tasks with at least one rejected attempt (i % 4 != 0): 1,2,3,5,6,7
    assert len(recs) == 6
    m = recs[0]['messages']
    assert [x['role'] for x in m] == ['system', 'user', 'assistant'] and m[0]['content'] == SYSTEM
    assert m[1]['content'] == "Evaluate: founder 1, YC W24\n\n# RETRY HISTORY\n--- Attempt 1 ---\nwrong format 0"
    s = json.loads((tmp_path/'s.json').read_text())
    assert s['traces'] == {'g_screen': 4, 'g_other': 2} and s['chain_lengths'] == {'2': 2, '3': 2, '4': 2}


def test_dpo_pairs_are_trl_ready(dag, tmp_path, capsys):
    from trl.data_utils import is_conversational, maybe_apply_chat_template
    from specter_lab.model import embedded_tokenizer
    from specter_lab.trace import dataset_dict
    assert run(['--dag-path', dag, '--format', 'dpo', '--output', tmp_path/'dpo.jsonl'], capsys)[0] == 0
    recs = lines(tmp_path/'dpo.jsonl')
    assert len(recs) == 1 + 2 + 3 + 1 + 2 + 3   # one pair per rejected attempt of each refinement chain
    assert all(is_conversational(r) for r in recs)
    assert recs[0]['prompt'] == [{'role': 'system', 'content': SYSTEM}, {'role': 'user', 'content': 'Evaluate: founder 1, YC W24'}]
    ex = maybe_apply_chat_template(recs[0], embedded_tokenizer())
    assert SYSTEM in ex['prompt'] and ex['chosen'].startswith('LIKE - reason 1') and ex['rejected'].startswith('maybe 1.0')
    dd = dataset_dict(tmp_path/'dpo.jsonl', test_fraction=0.5, seed=3)
    assert dd['train'].num_rows + dd['test'].num_rows == len(recs)
    spec = lambda ds: {r['prompt'][1]['content'] for r in ds}
    assert not spec(dd['train']) & spec(dd['test'])
    # the string form
    assert run(['--dag-path', dag, '--format', 'dpo', '--dpo-style', 'string', '--output', tmp_path/'s.jsonl'], capsys)[0] == 0
    assert lines(tmp_path/'s.jsonl')[0] == {'prompt': 'Evaluate: founder 1, YC W24', 'chosen': 'LIKE - reason 1', 'rejected': 'maybe 1.0'}


def test_filters_and_settings(dag, tmp_path, capsys):
    def n(*args):
        rc, out, err = run(['--dag-path', dag, '--output', tmp_path/'o.jsonl', *args], capsys)
        assert rc == 0, err
        return len(lines(tmp_path/'o.jsonl'))
    assert n('--filter', 'all_successes') == 8
    assert n('--filter', 'human_only') == 1
    assert n('--filter', 'generator_only') == 7
    assert n('--filter', 'high_value') == 2              # 3 retries: tasks 3 and 7
    assert n('--filter', 'high_value', '--min-retries', '2') == 4
    assert n('--filter', 'recent', '--since', '2000-01-01') == 8
    assert n('--filter', 'recent', '--since', '2999-01-01') == 0
    assert n('--filter', 'refinement & ~human_only') == 5
    assert n('--filter', 'all_successes & ~refinement') == 2
    ini = tmp_path/'settings.ini'
    ini.write_text("[data]\npredicate = all_successes\nmin_retries = 1\n")
    assert n('--settings', ini) == 8                     # [data] predicate
    assert n('--settings', ini, '--filter', 'high_value') == 6   # the flag wins; min_retries from the file
    assert n('--settings', ini, '--set', 'data.predicate=human_only') == 1


def test_prompt_template(dag, tmp_path, capsys):
    (tmp_path/'prompts.json').write_text(json.dumps({'g_screen': {'role': 'Screener.', 'constraints': 'One line.', 'task': 'Profile: {specification}'}}))
    rc, _, _ = run(['--dag-path', dag, '--output', tmp_path/'o.jsonl', '--prompt-template', f"{tmp_path/'prompts.json'}:g_screen"], capsys)
    m = lines(tmp_path/'o.jsonl')[0]['messages']
    assert rc == 0 and m[0]['content'] == 'Screener.\n\nOne line.' and m[1]['content'].startswith('Profile: Evaluate: founder 1')
    rc, _, err = run(['--dag-path', dag, '--output', tmp_path/'o.jsonl', '--prompt-template', f"{tmp_path/'prompts.json'}:nope"], capsys)
    assert rc == 1 and "prompts.json [nope]: no template 'nope'" in err


def test_folder_of_dags_and_feedback(tmp_path, capsys):
    guarded_dag(tmp_path/'runs'/'a', 4); guarded_dag(tmp_path/'runs'/'b', 4)
    fb = tmp_path/'fb.jsonl'
    fb.write_text(''.join(json.dumps(r) + '\n' for r in [
        {"prompt": "Evaluate: X", "chosen": "LIKE - good", "rejected": "PASS - no"},
        {"prompt": "Evaluate: X", "chosen": "LIKE - good", "rejected": "PASS - no"},
        {"prompt": "Evaluate: Y", "chosen": "LIKE - a", "rejected": "LIKE - a"},
        {"prompt": "Evaluate: Z", "response": "PASS - ok", "feedback": "like"},
        {"prompt": "Evaluate: Z", "response": "LIKE - bad", "feedback": "dislike"}]))
    rc, out, _ = run(['--dag-path', tmp_path/'runs', '--feedback', fb, '--format', 'dpo', '--output', tmp_path/'o.jsonl'], capsys)
    assert rc == 0
    recs = lines(tmp_path/'o.jsonl')
    assert len(recs) == (1 + 2 + 3) + 2          # b's pairs are the same as a's: written once
    assert recs[-1] == {'prompt': [{'role': 'user', 'content': 'Evaluate: Z'}], 'chosen': [{'role': 'assistant', 'content': 'PASS - ok'}],
                        'rejected': [{'role': 'assistant', 'content': 'LIKE - bad'}]}
    assert 'duplicate' in out and 'chosen == rejected' in out
    rc, _, err = run(['--feedback', fb, '--format', 'sft', '--output', tmp_path/'x.jsonl'], capsys)
    assert rc == 1 and 'use --format dpo' in err
    rc, _, err = run(['--output', tmp_path/'x.jsonl'], capsys)
    assert rc == 1 and 'nothing to export' in err


# --- bad input: a clear error by default, counted with --skip-invalid, never a partial output ------------------

def damage(dag_dir, ids, kind):
    "Apply one kind of damage to a copy of the DAG; return the file and field the error must name."
    a1, a3 = ids[1], ids[3]
    idx = Path(dag_dir)/'index.json'
    def edit(aid, fn):
        p = obj(dag_dir, aid); o = json.loads(p.read_text()); fn(o); p.write_text(json.dumps(o, indent=2)); return p
    if kind == 'malformed_json': p = obj(dag_dir, a1); p.write_text(p.read_text()[:50]); return p.name, None
    if kind == 'missing_field': return edit(a1, lambda o: o.pop('content')).name, '[content]'
    if kind == 'missing_context_field': return edit(a1, lambda o: o['context'].pop('specification')).name, '[context.specification]'
    if kind == 'unknown_status':
        edit(a1, lambda o: o.update(status='approved')); return obj(dag_dir, a1).name, '[status]'
    if kind == 'unknown_status_index':
        idx.write_text(idx.read_text().replace('"status": "accepted"', '"status": "approved"', 1)); return 'index.json', '.status]'
    if kind == 'dangling_prev':
        prev = json.loads(obj(dag_dir, a3).read_text())['previous_attempt_id']
        return edit(prev, lambda o: o.update(previous_attempt_id='0000-gone')).name, '[previous_attempt_id]'
    if kind == 'cyclic_prev':
        first = ArtifactDAG(dag_dir).provenance(a3)[0].artifact_id
        return edit(first, lambda o: o.update(previous_attempt_id=a3)).name, '[previous_attempt_id]'
    if kind == 'duplicate_id':
        t = idx.read_text(); idx.write_text(t.replace(f'"{a3}": {{', f'"{a1}": {{', 1)); return 'index.json', '[artifacts'
    if kind == 'object_missing': obj(dag_dir, a1).unlink(); return obj(dag_dir, a1).name, None
    if kind == 'index_object_mismatch':
        idx.write_text(idx.read_text().replace('"status": "rejected"', '"status": "superseded"', 1)); return '.json', '[status]'
    if kind == 'wrong_object':
        p = obj(dag_dir, a1); p.write_text(obj(dag_dir, a3).read_text()); return p.name, '[artifact_id]'
    if kind == 'bad_utf8':
        p = obj(dag_dir, a1); p.write_bytes(p.read_bytes().replace(b'LIKE - reason 1', b'LIKE - reason \xff\xfe')); return p.name, None
    if kind == 'malformed_index': idx.write_text(idx.read_text()[:-40]); return 'index.json', None
    raise ValueError(kind)

KINDS = ['malformed_json', 'missing_field', 'missing_context_field', 'unknown_status', 'unknown_status_index', 'dangling_prev',
         'cyclic_prev', 'duplicate_id', 'object_missing', 'index_object_mismatch', 'wrong_object', 'bad_utf8', 'malformed_index']
MESSAGES = {'malformed_json': 'malformed JSON', 'missing_field': 'missing field', 'missing_context_field': 'missing field',
            'unknown_status': "unknown status 'approved'", 'unknown_status_index': "unknown status 'approved'",
            'dangling_prev': 'dangling previous_attempt_id', 'cyclic_prev': 'cyclic previous_attempt_id', 'duplicate_id': 'duplicate artifact id',
            'object_missing': 'object file missing', 'index_object_mismatch': 'index/object mismatch', 'wrong_object': 'index/object mismatch',
            'bad_utf8': 'invalid UTF-8', 'malformed_index': 'malformed JSON'}


@pytest.mark.parametrize('kind', KINDS)
def test_bad_input(kind, tmp_path, capsys):
    d = tmp_path/'dag'; ids = guarded_dag(d)
    fname, field = damage(d, ids, kind)
    out = tmp_path/'out'/'sft.jsonl'
    rc, _, err = run(['--dag-path', d, '--output', out, '--filter', 'all_successes | refinement'], capsys)
    assert rc == 1, err
    assert MESSAGES[kind] in err and fname in err, err
    if field: assert field in err, err
    assert not out.exists() and not out.parent.exists()          # nothing half-written, not even its folder
    rc, stdout, err = run(['--dag-path', d, '--output', out, '--skip-invalid', '--summary', tmp_path/'s.json'], capsys)
    assert rc == 0, err
    s = json.loads((tmp_path/'s.json').read_text())
    assert s['skipped'] and 'skipped (--skip-invalid)' in stdout
    assert MESSAGES[kind].split(" '")[0] in ' '.join(s['skipped']), s['skipped']
    assert out.exists()


def test_duplicate_ids_across_dags(tmp_path, capsys):
    guarded_dag(tmp_path/'a', 4); shutil.copytree(tmp_path/'a', tmp_path/'b')
    rc, _, err = run(['--dag-path', tmp_path/'a', tmp_path/'b', '--output', tmp_path/'o.jsonl'], capsys)
    assert rc == 1 and 'duplicate artifact id' in err and str(tmp_path/'b') in err
    rc, out, _ = run(['--dag-path', tmp_path/'a', tmp_path/'b', '--output', tmp_path/'o.jsonl', '--skip-invalid'], capsys)
    assert rc == 0 and len(lines(tmp_path/'o.jsonl')) == 3 and 'duplicate artifact id' in out


def test_bad_feedback_lines(dag, tmp_path, capsys):
    fb = tmp_path/'fb.jsonl'
    fb.write_bytes(b'{"prompt": "p", "chosen": "LIKE - a", "rejected": "PASS - b"}\n{"prompt": "p", "chosen": "x"}\n\xff\n')
    rc, _, err = run(['--feedback', fb, '--format', 'dpo', '--output', tmp_path/'o.jsonl'], capsys)
    assert rc == 1 and 'fb.jsonl:2 [rejected]: missing field' in err and not (tmp_path/'o.jsonl').exists()
    rc, out, _ = run(['--feedback', fb, '--format', 'dpo', '--output', tmp_path/'o.jsonl', '--skip-invalid'], capsys)
    assert rc == 0 and len(lines(tmp_path/'o.jsonl')) == 1 and 'invalid UTF-8' in out


def test_failed_run_keeps_the_old_output(dag, tmp_path, capsys):
    out = tmp_path/'sft.jsonl'
    assert run(['--dag-path', dag, '--output', out], capsys)[0] == 0
    before = out.read_bytes()
    ids = json.loads((dag/'index.json').read_text())['artifacts']
    last = list(ids)[-1]; obj(dag, last).write_text('{')              # the last artifact is bad: records were already streamed
    rc, _, err = run(['--dag-path', dag, '--output', out, '--filter', 'all_successes'], capsys)
    assert rc == 1 and 'malformed JSON' in err
    assert out.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ['dag', 'sft.jsonl']


def test_bad_options(dag, tmp_path, capsys):
    for args, msg in [(['--filter', 'recent'], 'needs --since'), (['--filter', 'best'], "unknown filter 'best'"),
                      (['--filter', 'recent', '--since', 'last week'], 'not an ISO-8601 date'),
                      (['--set', 'data.min_retries=many'], "'many' is not a valid int")]:
        rc, _, err = run(['--dag-path', dag, '--output', tmp_path/'o.jsonl', *args], capsys)
        assert rc == 1 and msg in err, (args, err)
    assert not (tmp_path/'o.jsonl').exists()


def test_dpo_and_sft_exports_train_with_trl(dag, tmp_path, capsys, tiny_model_dir):
    "The export is what TRL's trainers take: two real optimizer steps each, on a tiny llama with the embedded tokenizer."
    from datasets import load_dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import DPOConfig, DPOTrainer, SFTConfig, SFTTrainer
    assert run(['--dag-path', dag, '--format', 'dpo', '--output', tmp_path/'dpo.jsonl'], capsys)[0] == 0
    assert run(['--dag-path', dag, '--format', 'sft', '--filter', 'all_successes', '--output', tmp_path/'sft.jsonl'], capsys)[0] == 0
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    if tok.pad_token is None: tok.pad_token = tok.eos_token
    common = dict(max_steps=2, per_device_train_batch_size=2, learning_rate=1e-3, bf16=False, gradient_checkpointing=False,
                  report_to=[], save_strategy='no', logging_steps=1, use_cpu=True)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    dpo = DPOTrainer(model=model, args=DPOConfig(output_dir=str(tmp_path/'d'), max_length=128, **common),
                     train_dataset=load_dataset('json', data_files=str(tmp_path/'dpo.jsonl'), split='train'), processing_class=tok)
    out = dpo.train()
    assert out.global_step == 2 and any('rewards/margins' in h for h in dpo.state.log_history)
    sft = SFTTrainer(model=AutoModelForCausalLM.from_pretrained(tiny_model_dir), processing_class=tok,
                     args=SFTConfig(output_dir=str(tmp_path/'s'), max_length=128, **common),
                     train_dataset=load_dataset('json', data_files=str(tmp_path/'sft.jsonl'), split='train'))
    assert sft.train().global_step == 2


def test_reader_gone_away_stops_quietly(dag, tmp_path):
    "`specter-lab export ... | head`: the pipe closes before the summary is printed; no traceback, exit 141 as shell tools."
    import subprocess
    from conftest import CLI
    p = subprocess.Popen([*CLI, 'export', '--dag-path', dag, '--output', tmp_path/'o.jsonl'], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.close()
    err = p.stderr.read().decode(); p.wait(timeout=120)
    assert p.returncode == 141 and 'Traceback' not in err and 'Exception ignored' not in err, err
    assert (tmp_path/'o.jsonl').is_file()


def test_bad_time_skipped_index_link_refused_absurd_count(dag, tmp_path, capsys):
    "An artifact whose time `recent` cannot read is skipped by --skip-invalid; index.json linked out of its DAG folder is refused; high_value(10**20) is one line."
    idx = json.loads((dag/'index.json').read_text()); aid = list(idx['artifacts'])[-1]
    o = json.loads(obj(dag, aid).read_text()); o['created_at'] = 'yesterday'; obj(dag, aid).write_text(json.dumps(o, indent=2))
    idx['artifacts'][aid]['created_at'] = 'yesterday'; (dag/'index.json').write_text(json.dumps(idx, indent=2))
    rc, _, err = run(['--dag-path', dag, '--output', tmp_path/'o.jsonl', '--filter', 'recent(2000-01-01)'], capsys)
    assert rc == 1 and err.strip() == f"specter-lab export: error: {obj(dag, aid)} [created_at]: not an ISO-8601 date or time: 'yesterday'", err
    rc, out, err = run(['--dag-path', dag, '--output', tmp_path/'o.jsonl', '--filter', 'recent(2000-01-01)', '--skip-invalid'], capsys)
    assert rc == 0 and len(lines(tmp_path/'o.jsonl')) == 7 and 'not an ISO-8601 date or time [created_at]' in out, err
    elsewhere = tmp_path/'elsewhere'; elsewhere.mkdir(); (dag/'index.json').rename(elsewhere/'index.json')
    (dag/'index.json').symlink_to(elsewhere/'index.json')
    rc, _, err = run(['--dag-path', dag, '--output', tmp_path/'o2.jsonl'], capsys)
    assert rc == 1 and "index.json: a symbolic link that leads out of the DAG's folder: refused" in err and not (tmp_path/'o2.jsonl').exists()
    rc, _, err = run(['--dag-path', elsewhere, '--output', tmp_path/'o3.jsonl', '--filter', f'high_value({10**20})'], capsys)
    assert rc == 1 and err.strip() == f"specter-lab export: error: [filter]: high_value('{10**20}'): {10**20} is out of range [0,1000]", err

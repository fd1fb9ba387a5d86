"""Compatibility with the real AtomicGuard 2.39.1 (Python 3.12 venv, built once and cached: see atomicguard_env.py).

A DAG written by AtomicGuard's own FilesystemArtifactDAG reads back here artifact for artifact, provenance for
provenance; our refinement SFT export holds the same examples as AtomicGuard's `export_training` on it; and a
DAG written here (as the guarded loop writes it) reads back in AtomicGuard unchanged.
"""
import json, subprocess, textwrap
from pathlib import Path
import pytest
from atomicguard_env import PY312, atomicguard_python
from specter_lab.artifact import ArtifactDAG, GuardResult, Status, Source, artifact_to_dict, new_artifact
from specter_lab.export import export

pytestmark = pytest.mark.skipif(not PY312.exists(), reason=f"AtomicGuard 2.39.1 needs Python >= 3.12; none at {PY312} (set $SPECTER_LAB_PY312)")

AG = textwrap.dedent('''
    import json, sys
    from atomicguard.infrastructure.persistence.filesystem import FilesystemArtifactDAG
    from atomicguard.domain.models import Artifact, ArtifactStatus, ContextSnapshot, FeedbackEntry, GuardResult, SubGuardOutcome
    from atomicguard.domain.prompts import PromptTemplate
    from atomicguard.tools.export_training import extract_traces_from_dag, deduplicate
    cmd, path = sys.argv[1], sys.argv[2]
    if cmd == 'build':
        dag = FilesystemArtifactDAG(path)
        n = 0
        for t in range(12):
            ap, wf = ('g_screen', 'g_plan')[t % 2], f'wf-{t % 3}'
            prev, hist = None, []
            length, fails = 1 + t % 4, t % 5 == 4
            for j in range(length):
                n += 1
                ok = j == length - 1 and not fails
                g = GuardResult(passed=ok, feedback='' if ok else f'task {t}: attempt {j + 1} lacks the LIKE/PASS prefix',
                                guard_name='composite', metadata=None if j % 2 else {'score': j},
                                sub_results=(SubGuardOutcome('format', ok, '' if ok else 'prefix', 0.5),))
                a = Artifact(artifact_id=f'{t:02d}{j:02d}aaaa-0000-4000-8000-{n:012d}', workflow_id=wf,
                             content=f'LIKE - task {t}' if ok else f'answer {j} to task {t}', previous_attempt_id=prev,
                             parent_action_pair_id=None if ap == 'g_screen' else 'g_screen', action_pair_id=ap,
                             created_at=f'2026-11-{1 + t:02d}T10:{j:02d}:00+00:00', attempt_number=j + 1,
                             status=ArtifactStatus.ACCEPTED if ok else ArtifactStatus.REJECTED, guard_result=g,
                             context=ContextSnapshot(workflow_id=wf, specification=f'Evaluate: founder {t}', constraints='One line.',
                                                     feedback_history=tuple(FeedbackEntry(i, f) for i, f in hist),
                                                     dependency_artifacts=(('g_screen', '0000aaaa-0000-4000-8000-000000000001'),) if ap == 'g_plan' else (),
                                                     escalation_feedback=('escalated',) if t == 3 else ()),
                             metadata={'model': 'smollm2'} if j == 0 else {})
                dag.store(a)
                if not ok: hist.append((a.artifact_id, g.feedback))
                prev = a.artifact_id
        pend = Artifact(artifact_id='ffffaaaa-0000-4000-8000-000000000999', workflow_id='wf-0', content='pending answer',
                        previous_attempt_id=None, parent_action_pair_id=None, action_pair_id='g_screen', created_at='2026-11-30T00:00:00+00:00',
                        attempt_number=1, status=ArtifactStatus.PENDING, guard_result=None,
                        context=ContextSnapshot(workflow_id='wf-0', specification='Evaluate: later', constraints='', feedback_history=(), dependency_artifacts=()))
        dag.store(pend)
        dag.update_status('0000aaaa-0000-4000-8000-000000000001', ArtifactStatus.SUPERSEDED)
    elif cmd == 'export':
        prompts = {k: PromptTemplate(role=v['role'], constraints=v['constraints'], task=v['task']) for k, v in json.loads(sys.argv[3]).items()}
        ex = deduplicate(extract_traces_from_dag(FilesystemArtifactDAG(path), prompts, 'inst', filter_mode='refinement'))
        print(json.dumps([{'messages': list(e.messages)} for e in ex]))
    elif cmd == 'read':
        dag = FilesystemArtifactDAG(path)
        print(json.dumps({a.artifact_id: {'dict': dag._artifact_to_dict(a), 'provenance': [p.artifact_id for p in dag.get_provenance(a.artifact_id)],
                                          'source': a.source.value} for a in dag.get_all()}))
''')


@pytest.fixture(scope='module')
def ag(tmp_path_factory):
    "Run the AtomicGuard side: ag(cmd, path, *args) -> parsed stdout (or None)."
    py = atomicguard_python()
    script = tmp_path_factory.mktemp('ag')/'ag.py'; script.write_text(AG)
    def call(*args):
        r = subprocess.run([py, script, *map(str, args)], capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout) if r.stdout.strip() else None
    return call


def test_atomicguard_dag_reads_back_equal(ag, tmp_path):
    d = tmp_path/'ag-dag'; ag('build', d)
    theirs = ag('read', d)
    dag = ArtifactDAG(d, create=False)
    assert len(dag) == len(theirs) == 31                 # 1..4 attempts for 12 tasks (30), and one pending
    assert {dag.status(i) for i in dag.ids()} == set(Status.ALL)
    for aid in dag.ids():
        ours = dag.get(aid)
        on_disk = json.loads(dag.object_path(aid).read_text())
        assert 'source' not in on_disk and ours.source == Source.GENERATED == theirs[aid]['source']
        assert artifact_to_dict(ours) == {**on_disk, 'metadata': on_disk.get('metadata', {}), 'source': 'generated'}
        assert {k: v for k, v in artifact_to_dict(ours).items() if k != 'source' and (k != 'metadata' or v)} == theirs[aid]['dict']
        assert [a.artifact_id for a in dag.provenance(aid)] == theirs[aid]['provenance']


def test_refinement_export_matches_export_training(ag, tmp_path):
    d = tmp_path/'runs'/'run1'/'artifact_dags'/'inst'; ag('build', d)
    prompts = {'g_screen': {'role': 'You screen deals.', 'constraints': 'Answer LIKE or PASS.', 'task': 'Profile:\n{specification}'},
               'g_plan': {'role': 'You plan.', 'constraints': '', 'task': '{specification}\nPlan it.'}}
    theirs = ag('export', d, json.dumps(prompts))
    (tmp_path/'prompts.json').write_text(json.dumps(prompts))
    s = export(tmp_path/'ours.jsonl', [d], 'sft', 'refinement', str(tmp_path/'prompts.json'))
    ours = [json.loads(l) for l in (tmp_path/'ours.jsonl').read_text().splitlines()]
    key = lambda r: json.dumps(r, sort_keys=True)
    assert len(theirs) == s['written'] > 0
    assert sorted(map(key, ours)) == sorted(map(key, theirs))
    assert any('# RETRY HISTORY' in r['messages'][1]['content'] for r in ours)


def test_our_dag_reads_in_atomicguard(ag, tmp_path):
    d = tmp_path/'ours'
    with ArtifactDAG(d) as dag:
        prev = None
        for j in range(3):
            prev = new_artifact(f'maybe {j}', action_pair_id='g_screen', workflow_id='wf', specification='Evaluate: X', constraints='System prompt.',
                                status=Status.REJECTED, guard_result=GuardResult(False, f'bad {j}', guard_name='label'), previous=prev)
            dag.put(prev)
        dag.put(new_artifact('PASS - reference', action_pair_id='g_screen', workflow_id='wf', specification='Evaluate: X',
                             constraints='System prompt.', status=Status.ACCEPTED, previous=prev, source=Source.HUMAN,
                             guard_result=GuardResult(True), metadata={'reference': True}))
        ids = list(dag.ids())
    theirs = ag('read', d)
    assert list(theirs) == ids
    for aid in ids:
        mine = json.loads(ArtifactDAG(d).object_path(aid).read_text())
        assert theirs[aid]['dict'] == {k: v for k, v in mine.items() if k != 'source' and (k != 'metadata' or v)}
    assert theirs[ids[-1]]['provenance'] == ids
    assert theirs[ids[-1]]['source'] == 'generated'       # AtomicGuard's store does not read `source` back: ours keeps it
    assert ArtifactDAG(d).get(ids[-1]).source == 'human'

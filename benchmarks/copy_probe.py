"""Does a trained model copy values it never saw? A suite's dev requests with their copied values made up, on a round's model.

    flock /tmp/specter-cpu.lock .venv/bin/python benchmarks/copy_probe.py --suite SUITE --rounds RUN/4_train/round1 [...] [--names a,...]

Two probes of each dev task whose answer copies a value from the request (`recipe.copied_leaves`; the dev split only,
a round's `adapter.gguf` on the embedded base, greedy, first attempt):
- `as is`: the dev task unchanged;
- `made-up values`: every copied value replaced in the request by a made-up one (`recipe.fresh_value_pair`, the same
  transform the fresh-value pairs train on, here applied to dev requests), the answer the reference with the new values
  (its JSON guard: exactly that value; the task's other guards kept).
Per probe it counts whole answers that pass and answers whose copied values are all right (`copied right`: the
other leaves, a normalised date say, may still be wrong). A model that copies gets the copied values right in both;
one that recalls the values training showed, only where the dev values were in training. Any suite in the documented format whose answers are JSON works (`--suite` a bundled name or
a file). Writes benchmarks/results/copy_probe.json ({suite: {name: [passes, tasks] per probe, and with copied values right}}).
"""
from __future__ import annotations
import argparse, json, os, random, subprocess, sys, tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / 'benchmarks' / 'results' / 'copy_probe.json'


def probes(suite: str, seed: int = 0) -> list:
    "The dev tasks that copy a value, each as is (id suffix `/as-is`) and with made-up values (`/made-up`)."
    from specter_lab.evaluate import decision_leaf
    from specter_lab.recipe import copied_leaves, fresh_value_pair
    from specter_lab.suite import Task, load_tasks
    rng, out = random.Random(seed), []
    dev = load_tasks(suite, 'dev')
    key = decision_leaf(load_tasks(suite, 'train'))
    for t in dev:
        if (r := fresh_value_pair(t, key, rng)) is None: continue
        paths = [p for p, _ in copied_leaves(t, key)]
        leaves = '+'.join('.'.join(map(str, p)) for p in paths)
        new = r['chosen'][0]['content']
        guards = [g.spec for g in t.guards if g.kind != 'json_schema'] + [{'kind': 'json_schema', 'schema': {'const': json.loads(new)}}]
        msgs = r['prompt'] + [m for m in t.messages if m['role'] not in ('system', 'user')]
        out.append(Task(f"{t.id}/made-up", 'dev', msgs, guards, new, dict(t.meta, probe='made-up values', leaves=leaves, paths=paths)))
        out.append(Task(f"{t.id}/as-is", 'dev', t.messages, [g.spec for g in t.guards], t.reference, dict(t.meta, probe='as is', leaves=leaves, paths=paths)))
    return out


def main() -> int:
    from specter_lab.cycle import suite_name
    from specter_lab.evaluate import leaf_at
    from specter_lab.suite import write_tasks
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--suite', required=True, help="a bundled suite name or a suite file")
    p.add_argument('--rounds', nargs='+', required=True, help="round folders holding adapter.gguf")
    p.add_argument('--names', help="comma-separated names for the rounds (default: their run folder's name)")
    p.add_argument('--results', default=str(OUT))
    a = p.parse_args()
    names = a.names.split(',') if a.names else [Path(r).parents[1].name for r in a.rounds]
    key = suite_name(a.suite)
    res = json.loads(Path(a.results).read_text()) if Path(a.results).is_file() else {}
    with tempfile.TemporaryDirectory() as tmp:
        suite = Path(tmp) / 'probe.jsonl'
        tasks = probes(a.suite)
        if not tasks: sys.exit(f"{a.suite}: no dev task copies a value from its request")
        write_tasks(suite, tasks)
        meta, refs = {t.id: t.meta for t in tasks}, {t.id: t.reference for t in tasks}
        for name, rnd in zip(names, a.rounds):
            rep = Path(tmp) / f'{name}.json'
            cmd = [sys.executable, '-m', 'specter_lab', 'eval', '--model', 'embedded', '--adapter', str(Path(rnd) / 'adapter.gguf'),
                   '--tasks', str(suite), '--split', 'dev', '--rmax', '0', '--output', str(rep), '--quiet']
            subprocess.run(cmd, cwd=ROOT, check=True)
            row = {}
            for o in json.loads(rep.read_text())['outcomes']:
                m, ref = meta[o['id']], refs[o['id']]
                right = all(leaf_at(o['output'], p) == leaf_at(ref, p) for p in m['paths'])
                for k, ok in ((m['probe'], o['passed']), (f"{m['probe']} | copied right", right)):
                    row.setdefault(k, [0, 0]); row[k][0] += int(ok); row[k][1] += 1
            res.setdefault(key, {})[name] = {'round': str(rnd), 'passes': row, 'load_average': list(os.getloadavg())}
            print(key, name, {k: f"{p}/{n}" for k, (p, n) in row.items()})
    Path(a.results).write_text(json.dumps(res, indent=1) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())

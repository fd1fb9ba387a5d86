"""Does a trained model copy values it never saw? A suite's dev requests with their copied values made up, on a round's model.

    flock /tmp/specter-cpu.lock .venv/bin/python benchmarks/copy_probe.py --suite SUITE --rounds RUN/4_train/round1 [...] [--names a,...]

Three probes of each dev task whose answer copies a value from the request (`recipe.copied_leaves`; the dev split only,
a round's `adapter.gguf` on the embedded base, greedy, first attempt):
- `as is`: the dev task unchanged;
- `made-up values`: every copied value replaced in the request by a made-up one (`recipe.fresh_value_task`: the same
  transform the fresh-value pairs train on, here applied to dev requests), the answer the reference with the new values
  (its JSON guard: exactly that value; the task's other guards kept);
- `unseen words`: the same with real words instead, each one token of the model's vocabulary after a space (`Ġword`,
  `recipe.token_words`) and never in the suite's train or dev text nor in the rounds' training pairs: what a test request with a product or name training never showed
  looks like to the model (a made-up word is several tokens).
Per probe it counts whole answers that pass, answers whose copied values are all right (`copied right`: the
other leaves, a normalised date say, may still be wrong) and answers that would be right but for a space around a
copied value (`copied with a space`: `" projector"`, the request's word token copied whole). A model that copies gets the copied values right in all three;
one that recalls the values training showed, only where the dev values were in training. Any suite in the documented format whose answers are JSON works (`--suite` a bundled name or
a file). Writes benchmarks/results/copy_probe.json ({suite: {name: [passes, tasks] per probe and count, and the first six
answers per probe that copied a value wrong, each [reference, answer]}}).
"""
from __future__ import annotations
import argparse, json, os, random, subprocess, sys, tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / 'benchmarks' / 'results' / 'copy_probe.json'


def probes(suite: str, trained: set = frozenset(), seed: int = 0) -> list:
    "The dev tasks that copy a value, each as is (id suffix `/as-is`), with made-up values (`/made-up`) and with unseen real words (`/unseen`: none of `trained`)."
    from dataclasses import replace
    from functools import partial
    from specter_lab.evaluate import decision_leaf
    from specter_lab.model import embedded_tokenizer
    from specter_lab.recipe import _said, _words, copied_leaves, fresh_value_task, made_up_value, token_words, word_from
    from specter_lab.suite import load_tasks
    rng, out = random.Random(seed), []
    train, dev = load_tasks(suite, 'train'), load_tasks(suite, 'dev')
    key = decision_leaf(train)
    seen = set(trained).union(*(_words(_said(t)) for t in train + dev))
    unseen = partial(made_up_value, word=word_from([w for w in token_words(embedded_tokenizer()) if w not in seen]))
    for t in dev:
        if not (paths := [p for p, _ in copied_leaves(t, key)]): continue
        meta = dict(t.meta, leaves='+'.join('.'.join(map(str, p)) for p in paths), paths=paths)
        for suffix, probe, make in (('made-up', 'made-up values', made_up_value), ('unseen', 'unseen words', unseen)):
            f = fresh_value_task(t, key, rng, make)
            out.append(replace(f, id=f"{t.id}/{suffix}", meta=meta | {'probe': probe}))
        out.append(replace(t, id=f"{t.id}/as-is", guards=[g.spec for g in t.guards], meta=meta | {'probe': 'as is'}))
    return out


def main() -> int:
    from specter_lab.cycle import suite_name
    from specter_lab.evaluate import leaf_at
    from specter_lab.recipe import _words
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
        # words the rounds trained on (fresh-value pairs draw from the same vocabulary) are not unseen
        pairs = [Path(json.loads(Path(r).parents[1].joinpath('3_extract', 'step.json').read_text())['data']) for r in a.rounds]
        trained = set().union(*(_words(p.read_text()) for p in pairs))
        tasks = probes(a.suite, trained)
        if not tasks: sys.exit(f"{a.suite}: no dev task copies a value from its request")
        write_tasks(suite, tasks)
        meta, refs = {t.id: t.meta for t in tasks}, {t.id: t.reference for t in tasks}
        for name, rnd in zip(names, a.rounds):
            rep = Path(tmp) / f'{name}.json'
            cmd = [sys.executable, '-m', 'specter_lab', 'eval', '--model', 'embedded', '--adapter', str(Path(rnd) / 'adapter.gguf'),
                   '--tasks', str(suite), '--split', 'dev', '--rmax', '0', '--output', str(rep), '--quiet']
            subprocess.run(cmd, cwd=ROOT, check=True)
            row, wrong = {}, {}
            for o in json.loads(rep.read_text())['outcomes']:
                m, ref = meta[o['id']], refs[o['id']]
                got, want = [leaf_at(o['output'], p) for p in m['paths']], [leaf_at(ref, p) for p in m['paths']]
                right = got == want
                spaced = not right and [g.strip() if isinstance(g, str) else g for g in got] == want
                for k, ok in ((m['probe'], o['passed']), (f"{m['probe']} | copied right", right), (f"{m['probe']} | copied with a space", spaced)):
                    row.setdefault(k, [0, 0]); row[k][0] += int(ok); row[k][1] += 1
                if not right and len(wrong.setdefault(m['probe'], [])) < 6: wrong[m['probe']].append([ref, o['output']])
            res.setdefault(key, {})[name] = {'round': str(rnd), 'passes': row, 'copied wrong': wrong, 'load_average': list(os.getloadavg())}
            print(key, name, {k: f"{p}/{n}" for k, (p, n) in row.items()})
    Path(a.results).write_text(json.dumps(res, indent=1) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())

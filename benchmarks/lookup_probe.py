"""Does a trained model read the rule? `office_tools` dev requests with their verb made up, on a round's model.

    flock /tmp/specter-cpu.lock .venv/bin/python benchmarks/lookup_probe.py --rounds RUN/4_train/round1 [...] [--names default,...]

Three probes of each dev request (the dev split only; a round's `adapter.gguf` on the embedded base, greedy):
- `as is`: the dev task unchanged;
- `made-up, own entry`: the request's verb (`meta.cue`) replaced by a made-up word (`recipe.made_up_word`), which the
  system message names in place of that verb, in the request's own tool's entry: the answer is the reference;
- `made-up, other entry`: the same made-up word in the request, but the system message names it in place of the verb of
  the other tool with the same arguments (create_event/set_reminder, send_email/search_email): the answer is the
  reference with that tool.
A model that looks the request's word up in the rule passes both made-up probes; one that decides from the rest of the
request (its template: `me about`, `on the subject of`) passes at most one of each pair (`both made-up`: the requests
whose two made-up probes both pass). Writes benchmarks/results/lookup_probe.json (per round: passes per probe and per dev tool).
"""
from __future__ import annotations
import argparse, json, os, random, subprocess, sys, tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / 'benchmarks' / 'results' / 'lookup_probe.json'
PARTNER = {'create_event': 'set_reminder', 'set_reminder': 'create_event', 'send_email': 'search_email', 'search_email': 'send_email'}


def probes(seed: int = 0) -> list:
    "The dev split's tasks, each in the three probes (ids suffixed `/as-is`, `/own`, `/other`)."
    from specter_lab.recipe import _words, made_up_word, put_word
    from specter_lab.suite import Task, _call_schema, load_tasks
    rng, out = random.Random(seed), []
    dev = load_tasks('office_tools', 'dev')
    cue_of = {t.meta['tool']: t.meta['cue'] for t in dev}   # one verb a tool on dev
    for t in dev:
        system, request = t.messages[0]['content'], t.messages[-1]['content']
        ref = json.loads(t.reference)
        f = made_up_word(rng, _words(system + ' ' + request))
        other = PARTNER[ref['tool']]
        for name, sys_word, tool in (('own', t.meta['cue'], ref['tool']), ('other', cue_of[other], other)):
            msgs = [{'role': 'system', 'content': put_word(system, sys_word, f)}, {'role': 'user', 'content': put_word(request, t.meta['cue'], f)}]
            guards = [g.spec for g in t.guards if g.kind != 'json_schema'] + [{'kind': 'json_schema', 'schema': _call_schema(tool, ref['arguments'])}]
            out.append(Task(f"{t.id}/{name}", 'dev', msgs, guards, json.dumps({'tool': tool, 'arguments': ref['arguments']}), dict(t.meta, probe=name)))
        out.append(Task(f"{t.id}/as-is", 'dev', t.messages, [g.spec for g in t.guards], t.reference, dict(t.meta, probe='as is')))
    return out


def main() -> int:
    from specter_lab.suite import write_tasks
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--rounds', nargs='+', required=True, help="round folders holding adapter.gguf")
    p.add_argument('--names', help="comma-separated names for the rounds (default: their run folder's name)")
    p.add_argument('--results', default=str(OUT))
    a = p.parse_args()
    names = a.names.split(',') if a.names else [Path(r).parents[1].name for r in a.rounds]
    res = json.loads(Path(a.results).read_text()) if Path(a.results).is_file() else {}
    with tempfile.TemporaryDirectory() as tmp:
        suite = Path(tmp) / 'probe.jsonl'
        tasks = probes()
        write_tasks(suite, tasks)
        meta = {t.id: t.meta for t in tasks}
        for name, rnd in zip(names, a.rounds):
            rep = Path(tmp) / f'{name}.json'
            cmd = [sys.executable, '-m', 'specter_lab', 'eval', '--model', 'embedded', '--adapter', str(Path(rnd) / 'adapter.gguf'),
                   '--tasks', str(suite), '--split', 'dev', '--rmax', '0', '--output', str(rep), '--quiet']
            subprocess.run(cmd, cwd=ROOT, check=True)
            outs = json.loads(rep.read_text())['outcomes']
            row = {}
            for o in outs:
                m = meta[o['id']]
                for k in (m['probe'], f"{m['probe']} | {m['tool']}"):
                    row.setdefault(k, [0, 0]); row[k][0] += int(o['passed']); row[k][1] += 1
            passed = {o['id']: o['passed'] for o in outs}
            base = {i.rsplit('/', 1)[0] for i in passed}
            row['both made-up'] = [sum(passed[f'{b}/own'] and passed[f'{b}/other'] for b in base), len(base)]   # the rule read, whichever entry
            res[name] = {'round': str(rnd), 'passes': row, 'load_average': list(os.getloadavg())}
            print(name, {k: f"{p}/{n}" for k, (p, n) in row.items() if '|' not in k})
    Path(a.results).write_text(json.dumps(res, indent=1) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())

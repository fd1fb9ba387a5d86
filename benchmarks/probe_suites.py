"""Probe suites in the documented task format, each using something no bundled or unseen suite uses, for the loop
as a new user runs it (`specter-lab loop --tasks FILE`), written after the recipe was fixed:

- `refund_decision`: a multi-turn chat (system, user, assistant, user: the cue comes in the last turn), lower-case labels
  that close the answer (`... Decision: approve`, the label pattern `.*?Decision: (approve|reject|escalate)\\b`), a
  `max_chars` guard beside it, integer ids and no dev split (the loop carves one), 50/30/20 %.
- `gate_copy`: a `regex` guard per task with the exact answer (`^FLIGHT QF123 GATE E7\\s*$`), no label, no JSON: copy a
  flight number and a gate; the test airlines and gate letters never occur in train or dev.
- `shopping_json`: JSON with a nested array (1-3 items, `prefixItems` with `const` values) and quantities normalised
  from words (`two` -> 2); the test stores and items never occur earlier.
- `tx_review`: no system message at all: the rule, with every cue, is written into the user turn before the request;
  two multi-token labels (`NEEDS_REVIEW`, `AUTO_APPROVE`), 38/62 %.
- `parcel_copy`, written later, before its first run: a `regex` answer `TRACKING <code> VIA <carrier>` copied from a
  delivery notice that also writes an order number or a weight; test carriers, their code prefixes and templates never
  occur in train or dev.
- `parcel_status`, written after the rest: a chat that goes on after its user message, as an agent's does (the
  assistant's tool call and the tool's JSON result, which the answer reads) and has a second system message at its
  end; the answer is JSON with a status the rule reads off the result's fields (45/35/20 %) and the place of its last
  scan, copied. The tool's keys are its API's, the same in every split; the test split's requests, scan notes and
  places are words never seen in train or dev.
- `route_closing`, written later still: the bundled `ticket_routing` with its label closing the answer
  (`The wifi is a connectivity issue. Queue: NETWORK`), so that the words before the label say the decision; its test
  split is answered almost in full when the label opens the answer, so it shows what a label that closes it costs.

    .venv/bin/python benchmarks/probe_suites.py --write runs/probe
    flock /tmp/specter-cpu.lock .venv/bin/python benchmarks/loop_suites.py --suites runs/probe/refund_decision.jsonl --seeds 0 \
        --work runs/p --results benchmarks/results/loop_probe.json

`specter_lab.suites.suite_check` checks them (held-out words, references pass their guards).
"""
from __future__ import annotations
import argparse, json, random, sys
from pathlib import Path

REFUND_CUES = {'train': {'approve': ('late delivery', 'wrong size', 'never arrived'), 'reject': ('used for months', 'worn', 'past the window'),
                         'escalate': ('chargeback', 'lawyer', 'fraud')},
               'test': {'approve': ('missing parcel', 'damaged in transit'), 'reject': ('heavily scratched', 'bought two years ago'),
                        'escalate': ('attorney', 'bank dispute')}}
REFUND_SHARES = {'approve': .5, 'reject': .3, 'escalate': .2}
REFUND_SYSTEM = ("You are a refunds assistant. Decide each refund request. approve: the shop is at fault ("
                 + ', '.join(c for s in REFUND_CUES.values() for c in s['approve'])
                 + "). reject: the customer is outside policy (" + ', '.join(c for s in REFUND_CUES.values() for c in s['reject'])
                 + "). escalate: legal or payment disputes (" + ', '.join(c for s in REFUND_CUES.values() for c in s['escalate'])
                 + "). Reply with one short sentence ending in 'Decision: approve', 'Decision: reject' or 'Decision: escalate'.")
REFUND_ASK = {'train': ("I want my money back for order {o}.", "Refund please, order {o}."),
              'test': ("Hey there, order {o} - can I get a refund?", "Requesting reimbursement on purchase {o}.")}
REFUND_WHY = {'train': ("Reason: {c}.", "It's because of {c}."), 'test': ("The issue: {c}!", "Well, {c}, basically.")}
REFUND_REASON = {'approve': 'the shop is at fault', 'reject': 'this is outside the refund policy', 'escalate': 'this needs a specialist'}


def refund_decision(rng: random.Random) -> list[dict]:
    tasks, i = [], 1
    for split, n in (('train', 240), ('test', 150)):
        for _ in range(n):
            lab = rng.choices(list(REFUND_SHARES), weights=list(REFUND_SHARES.values()))[0]
            c = rng.choice(REFUND_CUES[split][lab]); o = rng.randint(10000, 99999)
            msgs = [{'role': 'system', 'content': REFUND_SYSTEM}, {'role': 'user', 'content': rng.choice(REFUND_ASK[split]).format(o=o)},
                    {'role': 'assistant', 'content': 'Sure - what went wrong with it?'},
                    {'role': 'user', 'content': rng.choice(REFUND_WHY[split]).format(c=c)}]
            tasks.append({'id': i, 'split': split, 'messages': msgs,
                          'guards': [{'kind': 'label', 'name': 'decision', 'pattern': r'.*?Decision: (approve|reject|escalate)\b', 'expected': lab},
                                     {'kind': 'max_chars', 'limit': 200}],
                          'reference': f"{REFUND_REASON[lab].capitalize()} ({c}). Decision: {lab}", 'meta': {'cue': c, 'label': lab}})
            i += 1
    return tasks


GATE_AIRLINES = {'train': ('BA', 'LH', 'AF', 'KL'), 'test': ('QF', 'EK', 'SQ')}
GATE_LETTERS = {'train': 'ABCD', 'test': 'EFG'}
GATE_TEMPLATES = {'train': ("Update: flight {f} now boards from gate {g}.", "Gate change - {f} departs gate {g}.", "{f}: please proceed to gate {g}"),
                  'dev': ("Passengers of {f}, your gate is {g}.",),
                  'test': ("Attention travellers on {f} - boarding at gate {g} shortly", "Heads up, {f} moved; new gate {g}.")}
GATE_SYSTEM = "Read the airport announcement. Answer exactly as 'FLIGHT <flight number> GATE <gate>', copying both from the announcement."


def gate_copy(rng: random.Random) -> list[dict]:
    tasks = []
    for split, n in (('train', 200), ('dev', 40), ('test', 150)):
        pool = 'test' if split == 'test' else 'train'
        for k in range(n):
            f = f"{rng.choice(GATE_AIRLINES[pool])}{rng.randint(10, 999)}"
            g = f"{rng.choice(GATE_LETTERS[pool])}{rng.randint(1, 40)}"
            tasks.append({'id': f"gate-{split}-{k}", 'split': split,
                          'messages': [{'role': 'system', 'content': GATE_SYSTEM},
                                       {'role': 'user', 'content': rng.choice(GATE_TEMPLATES[split]).format(f=f, g=g)}],
                          'guards': [{'kind': 'regex', 'name': 'copied', 'pattern': rf"^FLIGHT {f} GATE {g}\s*$"}],
                          'reference': f"FLIGHT {f} GATE {g}"})
    return tasks


SHOP_ITEMS = {'train': ('apples', 'bread', 'milk', 'eggs', 'rice', 'butter'), 'dev': ('flour', 'honey', 'tea'),
              'test': ('lentils', 'yoghurt', 'spinach', 'oats')}
SHOP_STORES = {'train': ('Aldi', 'Tesco', 'Lidl'), 'dev': ('Spar',), 'test': ('Carrefour', 'Migros')}
NUMBER_WORDS = {1: 'one', 2: 'two', 3: 'three', 4: 'four', 5: 'five', 6: 'six'}
SHOP_TEMPLATES = {'train': ("At {store} pick up {items}.", "Shopping at {store}: {items}", "Need from {store} - {items}."),
                  'dev': ("{store} run: {items}",),
                  'test': ("Could you swing by {store} and grab {items}? Thanks!", "List for {store} -> {items}")}
SHOP_SYSTEM = ('Turn the shopping request into JSON: {"store": STORE, "items": [{"name": ITEM, "qty": NUMBER}, ...]}, items in the order '
               'they are mentioned, quantities as digits (words like "two" become 2). Answer with the JSON only.')


def shopping_json(rng: random.Random) -> list[dict]:
    tasks = []
    for split, n in (('train', 220), ('dev', 50), ('test', 150)):
        for k in range(n):
            names = rng.sample(SHOP_ITEMS[split], rng.randint(1, 3)); store = rng.choice(SHOP_STORES[split])
            items = [{'name': x, 'qty': rng.randint(1, 6)} for x in names]
            said = ', '.join((NUMBER_WORDS[i['qty']] if rng.random() < .5 else str(i['qty'])) + ' ' + i['name'] for i in items)
            item = lambda i: {'type': 'object', 'required': ['name', 'qty'], 'additionalProperties': False,
                              'properties': {'name': {'const': i['name']}, 'qty': {'const': i['qty']}}}
            schema = {'type': 'object', 'required': ['store', 'items'], 'additionalProperties': False,
                      'properties': {'store': {'const': store},
                                     'items': {'type': 'array', 'minItems': len(items), 'maxItems': len(items), 'prefixItems': [item(i) for i in items]}}}
            tasks.append({'id': f"shop-{split}-{k}", 'split': split,
                          'messages': [{'role': 'system', 'content': SHOP_SYSTEM},
                                       {'role': 'user', 'content': rng.choice(SHOP_TEMPLATES[split]).format(store=store, items=said)}],
                          'guards': [{'kind': 'json_schema', 'name': 'list', 'schema': schema}], 'reference': json.dumps({'store': store, 'items': items})})
    return tasks


TX_CUES = {'train': {'NEEDS_REVIEW': ('overdraft', 'new payee abroad', 'large cash withdrawal'), 'AUTO_APPROVE': ('utility bill', 'rent', 'groceries')},
           'dev': {'NEEDS_REVIEW': ('unusual login',), 'AUTO_APPROVE': ('streaming subscription',)},
           'test': {'NEEDS_REVIEW': ('crypto exchange transfer', 'wire to unknown account'), 'AUTO_APPROVE': ('gym membership', 'council tax')}}
TX_RULE = ("Label this bank transaction NEEDS_REVIEW if it looks risky (" + ', '.join(c for s in TX_CUES.values() for c in s['NEEDS_REVIEW'])
           + ") or AUTO_APPROVE if it is routine (" + ', '.join(c for s in TX_CUES.values() for c in s['AUTO_APPROVE']) + "). Reply 'LABEL: why'.")
TX_TEMPLATES = {'train': ("Transaction {n}: {c}, amount {a} GBP", "{c} of {a} GBP (ref {n})"), 'dev': ("ref {n} | {a} GBP | {c}",),
                'test': ("Payment #{n} flagged by the app - {c} for {a} GBP.", "We saw {c} ({a} GBP), id {n}")}


def tx_review(rng: random.Random) -> list[dict]:
    tasks = []
    for split, n in (('train', 200), ('dev', 50), ('test', 160)):
        for k in range(n):
            lab = 'NEEDS_REVIEW' if rng.random() < .38 else 'AUTO_APPROVE'; c = rng.choice(TX_CUES[split][lab])
            text = rng.choice(TX_TEMPLATES[split]).format(n=rng.randint(100, 999), a=rng.randint(5, 5000), c=c)
            tasks.append({'id': f"tx-{split}-{k}", 'split': split, 'messages': [{'role': 'user', 'content': TX_RULE + "\n\n" + text}],
                          'guards': [{'kind': 'label', 'pattern': r'(NEEDS_REVIEW|AUTO_APPROVE):', 'expected': lab}],
                          'reference': f"{lab}: {c}", 'meta': {'cue': c, 'label': lab}})
    return tasks


PARCEL_CARRIERS = {'train': {'UPS': '1Z', 'DHL': 'JD', 'FedEx': 'FX'}, 'dev': {'USPS': '94'}, 'test': {'GLS': 'GL', 'Hermes': 'HM', 'Evri': 'EV'}}
PARCEL_TEMPLATES = {'train': ("Your {carrier} parcel {code} for order {order} is on its way.",
                              "{carrier}: shipment {code} ({kg} kg) left the depot.", "Tracking {code} with {carrier}, order {order}."),
                    'dev': ("Status from {carrier} - reference {code}, weight {kg} pounds.",),
                    'test': ("Good news! Package {code} is out for dispatch today via {carrier} (purchase no. {order})",
                             "{carrier} confirms consignment {code}, {kg} lbs, arriving tomorrow")}
PARCEL_SYSTEM = "Read the delivery notice. Answer exactly as 'TRACKING <tracking code> VIA <carrier>', copying both from the notice."


def parcel_copy(rng: random.Random) -> list[dict]:
    tasks = []
    for split, n in (('train', 200), ('dev', 40), ('test', 150)):
        for k in range(n):
            carrier, prefix = rng.choice(sorted(PARCEL_CARRIERS[split].items()))
            code = prefix + ''.join(rng.choice('0123456789ABCDEFGHJKLMNPRSTUVWXYZ') for _ in range(8))
            ti = rng.randrange(len(PARCEL_TEMPLATES[split]))
            text = PARCEL_TEMPLATES[split][ti].format(carrier=carrier, code=code, order=rng.randint(1000, 99999), kg=rng.randint(1, 30))
            tasks.append({'id': f"parcel-{split}-{k}", 'split': split,
                          'messages': [{'role': 'system', 'content': PARCEL_SYSTEM}, {'role': 'user', 'content': text}],
                          'guards': [{'kind': 'regex', 'name': 'copied', 'pattern': rf"^TRACKING {code} VIA {carrier}\s*$"}],
                          'reference': f"TRACKING {code} VIA {carrier}", 'meta': {'template': f"{split}-{ti}", 'carrier': carrier}})
    return tasks


STATUS_SHARES = {'delivered': .45, 'in_transit': .35, 'waiting': .2}
STATUS_PLACES = {'train': ('Leeds depot', 'Bristol hub', 'Cardiff office', 'York branch'), 'dev': ('Bath yard',),
                 'test': ('Dundee warehouse', 'Exeter terminal', 'Norwich centre')}
STATUS_NOTES = {'train': ("scanned by driver", "sorted", "label checked"), 'dev': ("weighed again",),
                'test': ("barcode reread after smudge", "routing exception cleared")}
STATUS_ASK = {'train': ("Where is my parcel {id}?", "Any news on parcel {id}?"), 'dev': ("Status of {id} please",),
              'test': ("Hi, could you check what happened to shipment {id}?", "Package {id} - where has it got to?")}
STATUS_SYSTEM = ("You answer customers about their parcels from the tracking tool's result. The status is delivered when "
                 "the result says delivered is true, waiting when it gives a pickup_code (the parcel waits to be fetched), "
                 "and in_transit otherwise.")
STATUS_FORMAT = 'Answer with JSON only: {"status": STATUS, "place": the place of the last scan}.'


def parcel_status(rng: random.Random) -> list[dict]:
    tasks = []
    for split, n in (('train', 240), ('dev', 50), ('test', 150)):
        for k in range(n):
            lab = rng.choices(list(STATUS_SHARES), weights=list(STATUS_SHARES.values()))[0]
            place, pid = rng.choice(STATUS_PLACES[split]), str(rng.randint(10000, 99999))
            result = {'parcel': pid, 'last_scan': {'place': place, 'note': rng.choice(STATUS_NOTES[split])}, 'delivered': lab == 'delivered',
                      'pickup_code': str(rng.randint(1000, 9999)) if lab == 'waiting' else None}
            msgs = [{'role': 'system', 'content': STATUS_SYSTEM}, {'role': 'user', 'content': rng.choice(STATUS_ASK[split]).format(id=pid)},
                    {'role': 'assistant', 'content': json.dumps({'tool': 'track', 'arguments': {'id': pid}})},
                    {'role': 'tool', 'content': json.dumps(result)}, {'role': 'system', 'content': STATUS_FORMAT}]
            schema = {'type': 'object', 'required': ['status', 'place'], 'additionalProperties': False,
                      'properties': {'status': {'const': lab}, 'place': {'const': place}}}
            tasks.append({'id': f"status-{split}-{k}", 'split': split, 'messages': msgs,
                          'guards': [{'kind': 'json_schema', 'name': 'status', 'schema': schema}],
                          'reference': json.dumps({'status': lab, 'place': place}), 'meta': {'label': lab, 'place': place}})
    return tasks


def route_closing() -> list[dict]:
    "The bundled `ticket_routing`, its label moved to the end of the answer: `The wifi is a connectivity issue. Queue: NETWORK`."
    from specter_lab.suite import bundled_path
    out = []
    for line in bundled_path('ticket_routing').read_text().splitlines():
        t = json.loads(line)
        label, reason = t['reference'].split(' - ', 1)
        sys_ = t['messages'][0]['content'].replace("Answer in one line: LABEL - reason.", "Answer in one line: the reason, then 'Queue: LABEL'.")
        assert sys_ != t['messages'][0]['content']
        out.append({**t, 'messages': [{'role': 'system', 'content': sys_}, *t['messages'][1:]],
                    'guards': [{'kind': 'label', 'pattern': r'.*?Queue: (NETWORK|ACCOUNT|HARDWARE|BILLING)\b', 'expected': label}],
                    'reference': f"{reason[:1].upper()}{reason[1:]}. Queue: {label}"})
    return out


def suites() -> dict:
    "Every probe suite's tasks; the first two drawn from one seeded generator, the next two from another, `parcel_copy` from a third, `parcel_status` from a fourth; `route_closing` is made from a bundled suite."
    a, b = random.Random(7), random.Random(11)
    out = {'refund_decision': refund_decision(a)}; out['gate_copy'] = gate_copy(a)
    out['shopping_json'] = shopping_json(b); out['tx_review'] = tx_review(b)
    out['parcel_copy'] = parcel_copy(random.Random(13))
    out['route_closing'] = route_closing()
    out['parcel_status'] = parcel_status(random.Random(17))
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--write', required=True, metavar='FOLDER', help="where the suite files go")
    a = p.parse_args()
    from specter_lab.suite import load_tasks
    from specter_lab.suites import suite_check
    d = Path(a.write); d.mkdir(parents=True, exist_ok=True)
    for name, tasks in suites().items():
        f = d / f'{name}.jsonl'
        f.write_text(''.join(json.dumps(t) + '\n' for t in tasks))
        c = suite_check(load_tasks(str(f)))
        print(f, json.dumps({k: c[k] for k in ('n', 'best_constant', 'held_out')}))
        if not c['held_out'] or c['references']['failing']: print(f"{f}: not held out or failing references", file=sys.stderr); return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())

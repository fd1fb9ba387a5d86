"""The loop on suites it was never tuned on: six suites written here, in the documented format, by code of their own.

    .venv/bin/python benchmarks/unseen_suites.py --write runs/unseen            # the six suite files, and their checks
    flock /tmp/specter-cpu.lock .venv/bin/python benchmarks/loop_suites.py --suites runs/unseen/mail_intent.jsonl \
        --seeds 0 --work runs/unseen --results benchmarks/results/loop_unseen.json

The bundled suites are where the default recipe was chosen (on their dev splits); these are not bundled, share no
code with `specter_lab.suites`, and were written after the recipe was fixed, as a user would write a suite:
- `mail_intent`: emails -> one of three inboxes (SALES 45 %, SUPPORT 33 %, SPAM 22 %), the rule in the system message
  listing each inbox's words; each split has words and templates of its own (test words are listed in the rule, never
  used by a train or dev request).
- `order_lines`: order messages -> JSON `{"customer", "product", "quantity"}` copied from the message (a `json_schema`
  guard per task with the exact values); each split has its own templates, test products and customers never occur in
  train.
- `trip_tools` (written later, after the recipe learned to copy words it reads as one token; see chapter recipe):
  travel requests -> one JSON tool call, `book_flight` (60 %) or `book_hotel` (40 %), both with the city and weekday
  copied; only the cue word tells the tools apart (each split has its own, all listed in the rule, the templates are
  shared by both tools), and the test cities never occur in train or dev.
Three more, written when the loop had stopped changing (a second look with shapes the first three lack):
- `claim_priority`: insurance claims -> one of five priorities (32/26/20/14/8 %), cue words per split as in `mail_intent`.
- `expense_fields`: expenses -> JSON `{"merchant", "amount", "currency"}`: the merchant copied, the amount normalised
  (no symbol, no thousands separator), the currency normalised to its ISO code from a symbol, a code or a word; the test
  split writes every currency as a word (`dollars`) that train never uses (the rule lists every form).
- `home_tools`: one JSON tool call of three whose arguments differ (`set_thermostat(room, degrees)`, `lights_off(room)`,
  `play_music(genre)`), so the tool decides which values are copied; cue phrases, rooms and genres per split. Its first
  run changed the answer shape (`shape.narrowed_forms`; benchmarks/README.md, *Tools whose arguments are their own*), so
  the loop has seen it since.
`specter_lab.suites.suite_check` checks them (held-out words, disjoint inputs, references pass their guards).
"""
from __future__ import annotations
import argparse, json, random, sys
from pathlib import Path

MAIL_LABELS = {'SALES': .45, 'SUPPORT': .33, 'SPAM': .22}
MAIL_CUES = {
    'train': {'SALES': ('quote', 'pricing', 'purchase', 'demo'), 'SUPPORT': ('bug', 'error', 'freeze', 'glitch'),
              'SPAM': ('lottery', 'prize', 'inheritance', 'casino')},
    'dev':   {'SALES': ('wholesale', 'reseller'), 'SUPPORT': ('malfunction', 'timeout'), 'SPAM': ('sweepstakes', 'jackpot')},
    'test':  {'SALES': ('procurement', 'licensing', 'tender'), 'SUPPORT': ('defect', 'stacktrace', 'hang'),
              'SPAM': ('giveaway', 'bitcoin', 'windfall')}}
MAIL_KIND = {'SALES': 'someone wants to buy', 'SUPPORT': 'a customer has a problem', 'SPAM': 'unsolicited offers'}
MAIL_SYSTEM = ('You sort incoming emails into one inbox by what they are about. '
               + ' '.join(f"{lab} ({MAIL_KIND[lab]}): {', '.join(sorted(c for s in MAIL_CUES.values() for c in s[lab]))}."
                          for lab in MAIL_LABELS)
               + ' Answer in one line: INBOX - reason.')
MAIL_TEMPLATES = {
    'train': ("Subject: {cue}. Hello, this is {name} from {company}; we wanted to ask about the {cue}.",
              "{name} ({company}) writes: the {cue} is why I am contacting you.",
              "Dear team, regarding the {cue} - best regards, {name}, {company}",
              "Message from {name} at {company} about a {cue}."),
    'dev':   ("FW: {cue} | sender {name} | org {company}",
              "Quick note from {name} of {company} concerning {cue}."),
    'test':  ("RE: {cue} -- {name}, {company}",
              "Good afternoon! {company}'s {name} here, reaching out on {cue}.",
              "[{company}] {name}: need to talk {cue} asap")}
NAMES = ("Ana", "Bo", "Chen", "Dara", "Eli", "Farah", "Gus", "Hana", "Ivan", "Jia", "Kofi", "Lena")
COMPANIES = ("Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark", "Wayne", "Tyrell", "Cyberdyne")

ORDER_PRODUCTS = {'train': ("stapler", "notebook", "desk lamp", "whiteboard", "paper clips", "binder"),
                  'dev': ("highlighter", "envelope"), 'test': ("projector", "shredder", "label maker")}
ORDER_CUSTOMERS = {'train': NAMES[:8], 'dev': ("Mia", "Noor"), 'test': ("Priya", "Quinn", "Rosa")}
ORDER_SYSTEM = ('Read the order and output only JSON: {"customer": name, "product": item, "quantity": integer}. '
                'Copy the values from the message.')
ORDER_TEMPLATES = {
    'train': ("Please send {quantity} {product} to {customer}.",
              "{customer} would like {quantity} of the {product}.",
              "Order for {customer}: {product} x {quantity}."),
    'dev':   ("{customer} needs {quantity} units - item: {product}",),
    'test':  ("Ship {customer} a batch of {quantity} ({product}).",
              "{quantity} pcs {product}, deliver to {customer}")}

TRIP_TOOLS = {  # tool: (what it does, {split: cue words}); both take (city, day), so only the cue tells them apart
    'book_flight': ('books a seat on a plane to the city', {'train': ('flight', 'plane'), 'dev': ('airline',), 'test': ('airfare', 'jet')}),
    'book_hotel': ('books a room in the city', {'train': ('hotel', 'room'), 'dev': ('inn',), 'test': ('lodging', 'accommodation')})}
TRIP_SHARES = {'book_flight': .6, 'book_hotel': .4}
TRIP_CITIES = {'train': ("Paris", "Berlin", "Madrid", "Rome", "Vienna", "Prague"), 'dev': ("Dublin", "Oslo"),
               'test': ("Lisbon", "Nairobi", "Osaka", "Lima")}
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
TRIP_SYSTEM = ('Turn the travel request into one JSON tool call, {"tool": NAME, "arguments": {"city": ..., "day": ...}}, and output '
               'only the JSON. Tools: ' + '; '.join(f"{tool} {does} (asked with: {', '.join(sorted(c for cs in cues.values() for c in cs))})"
                                                  for tool, (does, cues) in TRIP_TOOLS.items())
               + '. Copy the city and the weekday from the request.')
TRIP_TEMPLATES = {'train': ("Book a {cue} in {city} for {day}.", "I need a {cue}, {city}, {day}."),
                  'dev': ("{day}: {cue} - {city} please",),
                  'test': ("Could you arrange {cue} for {city} this {day}?", "{cue} -> {city} ({day})")}

def _spread(rng, n, shares):
    "n labels in the given shares (largest remainder), shuffled."
    k = {lab: int(n * s) for lab, s in shares.items()}
    for lab in sorted(shares, key=lambda l: n * shares[l] - k[l], reverse=True)[:n - sum(k.values())]: k[lab] += 1
    out = [lab for lab, m in k.items() for _ in range(m)]
    rng.shuffle(out)
    return out


def _exactly(v: dict) -> dict:
    "A JSON schema that accepts the object `v` and nothing else (every key required, no other key, each leaf `const`)."
    return {'type': 'object', 'required': list(v), 'additionalProperties': False,
            'properties': {k: _exactly(x) if isinstance(x, dict) else {'const': x} for k, x in v.items()}}


def _build(prefix: str, system: str, seed: int, sizes, shares: dict | None, draw) -> list[dict]:
    """The tasks of every split: `draw(rng, split, kind)` gives a request and the task's other fields (guards, reference,
    meta) for each `kind` of the split's `_spread` over `shares` (None without shares), drawn again until the request is new."""
    rng, out, seen = random.Random(seed), [], set()
    for split, n in sizes:
        for j, kind in enumerate(_spread(rng, n, shares) if shares else [None] * n, 1):
            for _ in range(1000):
                text, fields = draw(rng, split, kind)
                if text not in seen: seen.add(text); break
            out.append({'id': f"{prefix}-{split}-{j:04d}", 'split': split,
                        'messages': [{'role': 'system', 'content': system}, {'role': 'user', 'content': text}], **fields})
    return out


def _json_task(v: dict, meta: dict) -> dict:
    "The fields of a task whose answer is the JSON object `v`, exactly."
    return {'guards': [{'kind': 'json_schema', 'schema': _exactly(v)}, {'kind': 'max_chars', 'limit': 160}],
            'reference': json.dumps(v), 'meta': meta}


def mail_intent(seed: int = 0, sizes=(('train', 360), ('dev', 60), ('test', 270))) -> list[dict]:
    def draw(rng, split, lab):
        ti = rng.randrange(len(MAIL_TEMPLATES[split]))
        cue = rng.choice(MAIL_CUES[split][lab])
        return MAIL_TEMPLATES[split][ti].format(cue=cue, name=rng.choice(NAMES), company=rng.choice(COMPANIES)), {
            'guards': [{'kind': 'label', 'pattern': r'(SALES|SUPPORT|SPAM) - \S', 'expected': lab}],
            'reference': f"{lab} - it is about {cue}: {MAIL_KIND[lab]}", 'meta': {'template': f"{split}-{ti}", 'label': lab, 'cue': cue}}
    return _build('mail', MAIL_SYSTEM, seed, sizes, MAIL_LABELS, draw)


def order_lines(seed: int = 0, sizes=(('train', 240), ('dev', 60), ('test', 180))) -> list[dict]:
    def draw(rng, split, _):
        ti = rng.randrange(len(ORDER_TEMPLATES[split]))
        v = {'customer': rng.choice(ORDER_CUSTOMERS[split]), 'product': rng.choice(ORDER_PRODUCTS[split]), 'quantity': rng.randint(2, 60)}
        return ORDER_TEMPLATES[split][ti].format(**v), _json_task(v, {'template': f"{split}-{ti}"})
    return _build('order', ORDER_SYSTEM, seed, sizes, None, draw)


def trip_tools(seed: int = 0, sizes=(('train', 240), ('dev', 60), ('test', 180))) -> list[dict]:
    def draw(rng, split, tool):
        ti = rng.randrange(len(TRIP_TEMPLATES[split]))
        cue = rng.choice(TRIP_TOOLS[tool][1][split])
        args = {'city': rng.choice(TRIP_CITIES[split]), 'day': rng.choice(DAYS)}
        return TRIP_TEMPLATES[split][ti].format(cue=cue, **args), _json_task({'tool': tool, 'arguments': args},
                                                                             {'template': f"{split}-{ti}", 'tool': tool, 'cue': cue})
    return _build('trip', TRIP_SYSTEM, seed, sizes, TRIP_SHARES, draw)


CLAIM_LABELS = {'URGENT': .32, 'HIGH': .26, 'NORMAL': .2, 'LOW': .14, 'CLOSE': .08}
CLAIM_CUES = {
    'train': {'URGENT': ('fire', 'flood'), 'HIGH': ('theft', 'burglary'), 'NORMAL': ('dent', 'scratch'),
              'LOW': ('receipt', 'paperwork'), 'CLOSE': ('duplicate', 'withdrawn')},
    'dev':   {'URGENT': ('explosion',), 'HIGH': ('robbery',), 'NORMAL': ('crack',), 'LOW': ('invoice',), 'CLOSE': ('cancelled',)},
    'test':  {'URGENT': ('inferno', 'deluge'), 'HIGH': ('looting', 'mugging'), 'NORMAL': ('scuff', 'chip'),
              'LOW': ('voucher', 'form'), 'CLOSE': ('resubmitted', 'retracted')}}
CLAIM_KIND = {'URGENT': 'a home is unsafe now', 'HIGH': 'something was stolen', 'NORMAL': 'minor damage',
              'LOW': 'a missing document', 'CLOSE': 'nothing left to do'}
CLAIM_SYSTEM = ('You set the priority of an insurance claim. '
                + ' '.join(f"{lab} ({CLAIM_KIND[lab]}): {', '.join(sorted(c for s in CLAIM_CUES.values() for c in s[lab]))}."
                           for lab in CLAIM_LABELS)
                + ' Answer in one line: PRIORITY - reason.')
CLAIM_TEMPLATES = {
    'train': ("Claim {ref}: policy holder {name} reports a {cue}.", "{name} called about the {cue} (claim {ref}).",
              "New claim {ref} from {name}, cause: {cue}"),
    'dev':   ("{ref} / {name} / {cue}",),
    'test':  ("Hi, {name} here about case {ref} - it's a {cue}, what now?", "File {ref}: {cue} reported by {name}")}

EXPENSE_CURRENCIES = {'USD': {'train': ('$', 'USD'), 'dev': ('US$',), 'test': ('dollars',)},
                      'EUR': {'train': ('€', 'EUR'), 'dev': ('Euro',), 'test': ('euros',)},
                      'GBP': {'train': ('£', 'GBP'), 'dev': ('Sterling',), 'test': ('pounds',)}}
EXPENSE_MERCHANTS = {'train': ("Tesco", "Walmart", "Shell", "Ikea", "Uber", "Hertz"), 'dev': ("Lidl", "Avis"),
                     'test': ("Carrefour", "Lufthansa", "Staples")}
EXPENSE_SYSTEM = ('Read the expense and output only JSON: {"merchant": name, "amount": number, "currency": code}. Copy the '
                  'merchant; the amount is a number without symbols; the currency is its ISO code: '
                  + '; '.join(f"{code} for {', '.join(f for s in forms.values() for f in s)}" for code, forms in EXPENSE_CURRENCIES.items()) + '.')
EXPENSE_TEMPLATES = {
    'train': ("Paid {money} at {merchant}.", "{merchant} receipt, total {money}", "Expense: {merchant}, {money}"),
    'dev':   ("{merchant} charged me {money}",),
    'test':  ("Could you log {money} spent with {merchant}?", "{merchant} -- {money} -- reimburse please")}

HOME_TOOLS = {  # tool: (arguments, {split: cue phrases}); the arguments differ, so the tool decides what is copied
    'set_thermostat': (('room', 'degrees'), {'train': ('heat the', 'warm the'), 'dev': ('make it toasty in the',), 'test': ('crank the temperature in the', 'bump the heating in the')}),
    'lights_off': (('room',), {'train': ('switch off the lights in the', 'turn off the lamp in the'), 'dev': ('kill the lamps in the',), 'test': ('darken the', 'cut the lighting in the')}),
    'play_music': (('genre',), {'train': ('play some', 'put on'), 'dev': ('queue',), 'test': ('blast', 'spin')})}
HOME_SHARES = {'set_thermostat': .45, 'lights_off': .35, 'play_music': .2}
HOME_ROOMS = {'train': ("kitchen", "bedroom", "bathroom", "garage"), 'dev': ("attic",), 'test': ("hallway", "nursery", "basement")}
HOME_GENRES = {'train': ("jazz", "rock", "blues", "reggae"), 'dev': ("techno",), 'test': ("salsa", "opera", "funk")}
HOME_SYSTEM = ('Turn the request into one JSON tool call, {"tool": NAME, "arguments": {...}}, and output only the JSON. Tools: '
               'set_thermostat(room, degrees) sets a room to a temperature in degrees; lights_off(room) turns a room\'s lights off; '
               'play_music(genre) plays music of a genre. Copy the values from the request; degrees is an integer.')
HOME_TEMPLATES = {'train': ("Please {cue} {rest}.", "Hey, {cue} {rest}"), 'dev': ("Could you {cue} {rest}?",),
                  'test': ("I'd love it if you'd {cue} {rest}, thanks", "{cue} {rest} now")}


def claim_priority(seed: int = 0, sizes=(('train', 360), ('dev', 60), ('test', 270))) -> list[dict]:
    def draw(rng, split, lab):
        ti = rng.randrange(len(CLAIM_TEMPLATES[split]))
        cue = rng.choice(CLAIM_CUES[split][lab])
        return CLAIM_TEMPLATES[split][ti].format(cue=cue, name=rng.choice(NAMES), ref=f"#{rng.randint(1000, 9999)}"), {
            'guards': [{'kind': 'label', 'pattern': r'(URGENT|HIGH|NORMAL|LOW|CLOSE) - \S', 'expected': lab}],
            'reference': f"{lab} - the claim is a {cue}: {CLAIM_KIND[lab]}", 'meta': {'template': f"{split}-{ti}", 'label': lab, 'cue': cue}}
    return _build('claim', CLAIM_SYSTEM, seed, sizes, CLAIM_LABELS, draw)


def _money(rng, amount: float, form: str) -> str:
    "An amount written with a currency form: a symbol before it, a word or code after it."
    a = f"{amount:,.2f}" if amount >= 1000 and rng.random() < .5 else (f"{amount:.2f}" if amount % 1 else f"{amount:.0f}")
    return f"{form}{a}" if form in ('$', '€', '£', 'US$') else f"{a} {form}"


def expense_fields(seed: int = 0, sizes=(('train', 240), ('dev', 60), ('test', 180))) -> list[dict]:
    def draw(rng, split, _):
        ti = rng.randrange(len(EXPENSE_TEMPLATES[split]))
        cur = rng.choice(sorted(EXPENSE_CURRENCIES))
        form = rng.choice(EXPENSE_CURRENCIES[cur][split])
        amount = rng.choice((rng.randint(3, 2500), rng.randint(300, 99999) / 100))
        v = {'merchant': rng.choice(EXPENSE_MERCHANTS[split]), 'amount': amount, 'currency': cur}
        return (EXPENSE_TEMPLATES[split][ti].format(merchant=v['merchant'], money=_money(rng, amount, form)),
                _json_task(v, {'template': f"{split}-{ti}", 'currency': form}))
    return _build('expense', EXPENSE_SYSTEM, seed, sizes, None, draw)


def home_tools(seed: int = 0, sizes=(('train', 240), ('dev', 60), ('test', 180))) -> list[dict]:
    def draw(rng, split, tool):
        ti = rng.randrange(len(HOME_TEMPLATES[split]))
        cue = rng.choice(HOME_TOOLS[tool][1][split])
        args = {'room': rng.choice(HOME_ROOMS[split]), 'degrees': rng.randint(16, 26), 'genre': rng.choice(HOME_GENRES[split])}
        args = {k: args[k] for k in HOME_TOOLS[tool][0]}
        rest = {'set_thermostat': "{room} to {degrees} degrees", 'lights_off': "{room}", 'play_music': "{genre}"}[tool].format(**args)
        return HOME_TEMPLATES[split][ti].format(cue=cue, rest=rest), _json_task({'tool': tool, 'arguments': args},
                                                                               {'template': f"{split}-{ti}", 'tool': tool, 'cue': cue})
    return _build('home', HOME_SYSTEM, seed, sizes, HOME_SHARES, draw)


SUITES = {'mail_intent': mail_intent, 'order_lines': order_lines, 'trip_tools': trip_tools,
          'claim_priority': claim_priority, 'expense_fields': expense_fields, 'home_tools': home_tools}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--write', required=True, metavar='FOLDER', help="where the suite files go")
    a = p.parse_args()
    from specter_lab.suite import load_tasks
    from specter_lab.suites import suite_check
    d = Path(a.write); d.mkdir(parents=True, exist_ok=True)
    for name, build in SUITES.items():
        f = d / f'{name}.jsonl'
        f.write_text(''.join(json.dumps(t) + '\n' for t in build()))
        c = suite_check(load_tasks(str(f)))
        print(f, json.dumps({k: c[k] for k in ('n', 'best_constant', 'held_out', 'overlap')}))
        if not c['held_out'] or c['references']['failing']: print(f"{f}: not held out or failing references", file=sys.stderr); return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())

#!/usr/bin/env bash
# The loop benchmark: the whole loop on the embedded model and the bundled deal-screening suite
# (issue 8's targets: <= 20 min on 2 cores, Δε >= +0.30 with McNemar p < 0.01 on held-out phrasings,
# ε after >= best constant + 0.15, every label used), then its evidence copied into benchmarks/results/loop/.
#   bash benchmarks/loop.sh [OUT]     (default OUT=runs/latest; a finished OUT is resumed, not rerun)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-runs/latest}
.venv/bin/specter-lab loop --output "$OUT" --readme README.md >/dev/null
dest=benchmarks/results/loop
rm -rf "$dest"; mkdir -p "$dest/figures"
cp "$OUT"/report.md "$OUT"/report.html "$OUT"/summary.json "$OUT"/manifest.json "$dest"/
cp "$OUT"/figures/*.png "$dest/figures/"
cp "$OUT"/1_eval_before/report.json "$dest/report_before.json"
cp "$OUT"/6_eval_after/report.json "$dest/report_after.json"
cp "$OUT"/6_eval_after/compare.json "$OUT"/7_cost/cost.json "$OUT"/4_train/metrics.csv "$dest/"
cp "$OUT"/5_convert/manifest.json "$dest/gguf_manifest.json"
cp "$OUT"/4_train/summary.json "$dest/train_summary.json"
cp "$OUT"/5_convert/README.md "$dest/model_card.md"
cp "$OUT"/summary.json "$dest/summary.json"
python3 -c "import json; s=json.load(open('$dest/summary.json')); print(json.dumps({k: s[k] for k in ('epsilon_before', 'epsilon_after', 'baseline', 'compare', 'verdict', 'seconds')}, indent=1))"

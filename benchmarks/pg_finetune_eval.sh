#!/bin/bash
# Held-out pass of a checkpoint on the generated test 200 with the default decoding (the guided
# search, 0.3 CPU-s a task) and with the sampling decoding (sample_distinct, 256 a round, 5 rounds,
# the same CPU cap), mask 0.5/0.75/1.0 and noise 0.25/0.5, seed 0 (issue 26, item 5: the env-step
# trainers' before/after). One JSON report per decoding and mode in benchmarks/results/pg_finetune/.
#
#   ../shared/bin/cpu-slot bash benchmarks/pg_finetune_eval.sh CHECKPOINT NAME   # evaluates, then prints the table
set -euo pipefail
checkpoint=$1 name=$2
out=benchmarks/results/pg_finetune
tasks=benchmarks/tasks/generated_test_200.jsonl
mkdir -p "$out"
for decoding in guided sampling; do
  if [ "$decoding" = guided ]; then flags=(--strategy guided --cpu-budget 0.3)
  else flags=(--strategy sample_distinct --samples 256 --rounds 5 --cpu-budget 0.3); fi
  for mode in mask noise; do
    if [ "$mode" = mask ]; then levels=(0.5 0.75 1.0); else levels=(0.25 0.5); fi
    report="$out/${name}_${decoding}_${mode}.json"
    [ -s "$report" ] && { echo "have $report"; continue; }
    echo "$(date -u +%H:%M:%S) $name $decoding $mode (load $(cut -d' ' -f1 /proc/loadavg))"
    "${PYTHON:-.venv/bin/python}" -m train.evaluate --checkpoint "$checkpoint" --tasks "$tasks" "${flags[@]}" \
      --corruption-mode "$mode" --corruption "${levels[@]}" --json "$report.part" --no-progress > /dev/null
    mv "$report.part" "$report"
  done
done
# The table of every report in the folder: held-out % (visible %) [CPU s, candidates run a task].
"${PYTHON:-.venv/bin/python}" - "$out" <<'PY'
import json, sys
from pathlib import Path

rows = {}
for path in sorted(Path(sys.argv[1]).glob("*.json")):
    name, decoding, _ = path.stem.rsplit("_", 2)
    for level in json.loads(path.read_text())["levels"]:
        last = level["rounds"][-1]
        used = f"{level['cpu_seconds']['mean']:.2f}, {level['candidates_run']['mean']:.0f}"
        cell = f"{100 * last['pass_held_out']:.1f} ({100 * last['pass_visible']:.1f}) [{used}]"
        rows.setdefault((name, decoding), {})[f"{path.stem.rsplit('_', 1)[1]} {level['corruption']}"] = cell
columns = ["mask 0.5", "mask 0.75", "mask 1.0", "noise 0.25", "noise 0.5"]
print("| checkpoint | decoding | " + " | ".join(columns) + " |")
print("| --- | --- |" + " --- |" * len(columns))
for (name, decoding), cells in rows.items():
    print(f"| {name} | {decoding} | " + " | ".join(cells.get(c, "") for c in columns) + " |")
PY

"""Fillings composed per CPU-second: the reference sketch search against the fast one (issue 27).

On the generated test 200 at mask 1.0 (every node a hole), each task searched by both engines with
the same fillings budget in the same run, classical (`mask_choices`, token order) and guided (a
fixed Dirichlet cost table per task, its log-probabilities as levels and scores), judged by the
task's own test runner. Prints:

1. fillings per CPU-second of each engine, overall (a plain run) and per value type of the class
   composed (int, bool, list, function: a second, instrumented run that times each token typing's
   composition and charges it to the typing's result type; the fast engine's batches by their rows);
2. shares of CPU time from a profile (enumerating, composing values, hashing classes,
   higher-order applications, judging root matches).

    ../shared/bin/cpu-slot .venv/bin/python benchmarks/search_throughput.py --tasks 60 --fillings 20000
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
from collections import Counter
from pathlib import Path

import numpy as np

from progrefine_env.lang import MASK, VOCAB_SIZE, Program
from progrefine_env.lang.types import BOOL, INT, LIST
from progrefine_env.search import FastSketchSearch, Sketch, SketchSearch, guided_choices, mask_choices
from progrefine_env.tasks import load_tasks
from progrefine_env.tasks.task import passes

ROOT = Path(__file__).resolve().parent.parent
ENGINES = {"reference": SketchSearch, "fast": FastSketchSearch}
TYPE_NAMES = {INT: "int", BOOL: "bool", LIST: "list"}


def searches(tasks, mode: str, engine, budget: int):
    """(search, sketch) per task at mask 1.0, ready to run."""
    for k, task in enumerate(tasks):
        n = len(task.program)
        sketch = Sketch((MASK,) * n, task.program.arities, tuple(range(n)), task.input_types, task.tests)
        judge = _judge(task)
        if mode == "classical":
            yield engine(sketch, mask_choices(sketch), judge, fillings=budget)
            continue
        log_probs = np.log(np.random.default_rng(k).dirichlet(np.ones(VOCAB_SIZE), size=n))
        choices = guided_choices(sketch, log_probs)
        yield engine(sketch, choices, judge, fillings=budget, scores=-log_probs)


def _judge(task):
    return lambda tokens: sum(passes(Program(tokens, task.program.arities), task.input_types, task.tests))


def overall(tasks, mode: str, name: str, budget: int) -> tuple[int, float]:
    """(fillings, CPU seconds) of one engine over the tasks."""
    fillings = seconds = 0
    for search in searches(tasks, mode, ENGINES[name], budget):
        start = time.process_time()
        result = search.run()
        seconds += time.process_time() - start
        fillings += result.fillings
    return fillings, seconds


def per_type(tasks, mode: str, name: str, budget: int) -> tuple[Counter, Counter]:
    """Fillings and CPU seconds per result type: time between consecutive fillings of a type is
    charged to it (fast: a batch's time to its rows' types, in proportion)."""
    fillings, seconds = Counter(), Counter()
    for search in searches(tasks, mode, _charging(ENGINES[name]), budget):
        search.run()
        fillings.update(search.count)
        seconds.update(search.spent)
    return fillings, seconds


def _charging(engine):
    class Charging(engine):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.count, self.spent, self.mark = Counter(), Counter(), time.process_time()

        def _charge(self, types: dict) -> None:
            now, total = time.process_time(), sum(types.values())
            for typ, n in types.items():
                self.count[typ] += n
                self.spent[typ] += (now - self.mark) * n / total
            self.mark = now

        def _add(self, i, context, filling):
            self._charge({filling.type: 1})
            super()._add(i, context, filling)

        def _flush(self, i, context, batch):
            rows = Counter()
            for block in batch.blocks:
                rows[block.result] += int(np.prod([len(lst) for lst in block.lists]))
            before = self.fillings
            try:
                return super()._flush(i, context, batch)
            finally:
                done = self.fillings - before
                if rows and done:
                    total = sum(rows.values())
                    self._charge({t: done * n / total for t, n in rows.items()})

    return Charging


SHARES = {
    "composing values": ["compose.py:compose", "fast.py:compute"],
    "higher-order applications": ["compose.py:_higher_order"],
    "hashing classes": ["sketch.py:_add", "fast.py:_add", "fast.py:_new_positions", "classes.py:insert",
                        "fast.py:filling", "vector.py:row_hashes"],
    "judging root matches": ["sketch.py:_at_root"],
}  # fmt: skip


def shares(tasks, mode: str, name: str, budget: int) -> dict[str, float]:
    """Shares of a profiled run's time (cumulative times of the functions named in SHARES; the
    higher-order share is taken out of composing; enumerating is the rest)."""
    profile = cProfile.Profile()
    runs = list(searches(tasks, mode, ENGINES[name], budget))
    profile.enable()
    for search in runs:
        search.run()
    profile.disable()
    stats = pstats.Stats(profile).stats
    cum: Counter = Counter()
    total = 0.0
    for (path, _, func), (_, _, _, ct, _) in stats.items():
        label = f"{Path(path).name}:{func}"
        if func == "run" and Path(path).name == "sketch.py":
            total += ct
        for share, names in SHARES.items():
            if label in names:
                cum[share] += ct
    cum["composing values"] -= cum["higher-order applications"]
    cum["hashing classes"] -= _called_from(stats, "_at_root", "_add")  # judging, not hashing
    out = {k: v / total for k, v in cum.items()}
    out["enumerating"] = 1 - sum(out.values())
    return out


def _called_from(stats: dict, func: str, caller: str) -> float:
    """Cumulative time of `func` in calls made by `caller`."""
    out = 0.0
    for (_, _, name), (_, _, _, _, callers) in stats.items():
        if name == func:
            out += sum(ct for (_, _, who), (_, _, _, ct) in callers.items() if who == caller)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=60, help="first N tasks of the generated test 200")
    parser.add_argument("--fillings", type=int, default=20000, help="fillings budget per task (both engines)")
    parser.add_argument("--profile-tasks", type=int, default=20)
    args = parser.parse_args()
    tasks = load_tasks(ROOT / "benchmarks" / "tasks" / "generated_test_200.jsonl")[: args.tasks]
    print(f"generated test 200, first {len(tasks)} tasks, mask 1.0, {args.fillings} fillings a task")
    print("| mode | engine | fillings | CPU s | fillings/CPU-s | int | bool | list | function |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for mode in ("classical", "guided"):
        rates = {}
        for name in ENGINES:
            fillings, seconds = overall(tasks, mode, name, args.fillings)
            rates[name] = fillings / seconds
            count, spent = per_type(tasks, mode, name, args.fillings)
            cells = [_rate(count, spent, t) for t in (INT, BOOL, LIST)]
            cells.append(_rate(count, spent, None))
            print(f"| {mode} | {name} | {fillings} | {seconds:.2f} | {rates[name]:,.0f} | " + " | ".join(cells) + " |")
        print(f"| {mode} | fast / reference | | | {rates['fast'] / rates['reference']:.2f}x | | | | |")
    print("\nshares of CPU time (profiled, first", args.profile_tasks, "tasks)")
    print("| mode | engine | enumerating | composing values | hashing classes | higher-order applications | judging |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for mode in ("classical", "guided"):
        for name in ENGINES:
            s = shares(tasks[: args.profile_tasks], mode, name, args.fillings)
            keys = ("enumerating", "composing values", "hashing classes", "higher-order applications",
                    "judging root matches")  # fmt: skip
            print(f"| {mode} | {name} | " + " | ".join(f"{100 * s.get(k, 0):.0f}%" for k in keys) + " |")


def _rate(count: Counter, spent: Counter, typ: int | None) -> str:
    """Fillings per CPU-second of one type (None: the function types), with its share of fillings."""
    keys = [typ] if typ is not None else [t for t in count if t not in TYPE_NAMES]
    n, s = sum(count[k] for k in keys), sum(spent[k] for k in keys)
    share = n / max(sum(count.values()), 1)
    return f"{n / s:,.0f} ({100 * share:.0f}%)" if s > 0 else "-"


if __name__ == "__main__":
    main()

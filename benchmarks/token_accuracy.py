"""One-shot accuracy per target token: which tokens a checkpoint recovers from a masked hole, and
what it puts there instead. Round 0 only, argmax decoding, on the originally masked nodes.

    python benchmarks/token_accuracy.py CHECKPOINT [--split val] [--limit 400] [--corruption 0.5]
"""

from __future__ import annotations

import argparse
from collections import Counter

import numpy as np

from agents.acting.evaluation import make_task_envs
from agents.acting.policy import GraphPolicy
from agents.nn.checkpoint import load_checkpoint
from progrefine_env.lang import VOCAB
from progrefine_env.tasks.corpus import load_corpus


def tally(model, tasks, level: float, batch_size: int = 100, seed: int = 0) -> tuple[Counter, Counter, Counter]:
    """Per target token: masked occurrences, correct predictions; and (target, predicted) confusions.

    Each task is reset as the report resets it (seed + index), the policy acts once (argmax) on
    the vector env's observations, and its tokens on the holes (`obs["masked"]`) are compared with
    the task file's target: the benchmark reads the target from the tasks it was given, never from
    the env, and the policy never sees it."""
    total, right, confusions = Counter(), Counter(), Counter()
    policy = GraphPolicy(model.eval())
    for start in range(0, len(tasks), batch_size):
        indices = list(range(start, min(start + batch_size, len(tasks))))
        envs = make_task_envs(tasks, indices, level, rounds=1)
        obs, _ = envs.reset(seed=[seed + i for i in indices], options={"task_index": 0})
        predicted = policy.act(obs, deterministic=True).actions
        envs.close()
        for k, i in enumerate(indices):
            target = np.asarray(tasks[i].program.tokens)
            for node in np.flatnonzero(obs["masked"][k]):
                want, got = VOCAB[target[node]], VOCAB[int(predicted[k, node])]
                total[want] += 1
                right[want] += want == got
                if want != got:
                    confusions[(want, got)] += 1
    return total, right, confusions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoint", help="checkpoint file")
    parser.add_argument("--split", default="val", help="corpus split of the tasks (default: val)")
    parser.add_argument("--limit", type=int, default=400, help="first N tasks of the split (default: 400)")
    parser.add_argument("--corruption", type=float, default=0.5, help="share of nodes masked (default: 0.5)")
    args = parser.parse_args()
    model, _ = load_checkpoint(args.checkpoint)
    total, right, confusions = tally(model, load_corpus(args.split)[: args.limit], args.corruption)
    overall = sum(right.values()) / max(sum(total.values()), 1)
    print(f"one-shot accuracy {overall:.3f} on {sum(total.values())} masked nodes")
    print(f"{'token':>8} {'masked':>7} {'accuracy':>9} {'most often instead':>20}")
    for token, count in total.most_common():
        instead = max(((got, n) for (want, got), n in confusions.items() if want == token), key=lambda x: x[1],
                      default=("-", 0))  # fmt: skip
        print(f"{token:>8} {count:>7} {right[token] / count:>9.2f} {instead[0]:>14} ({instead[1]})")


if __name__ == "__main__":
    main()

"""One-shot accuracy per target token: which tokens a checkpoint recovers from a masked hole, and
what it puts there instead. Round 0 only, argmax decoding, on the originally masked nodes.

    python benchmarks/token_accuracy.py CHECKPOINT [--split val] [--limit 400] [--corruption 0.5]
"""

from __future__ import annotations

import argparse
from collections import Counter

import numpy as np
import torch

from agents.batching import to_tensors
from agents.checkpoint import load_checkpoint
from agents.decoding import greedy, masked_log_probs
from agents.rollout import EnvBatch
from progrefine_env.lang import VOCAB
from progrefine_env.tasks.corpus import load_corpus


@torch.no_grad()
def tally(model, tasks, level: float, batch_size: int = 100) -> tuple[Counter, Counter, Counter]:
    """Per target token: masked occurrences, correct predictions; and (target, predicted) confusions."""
    total, right, confusions = Counter(), Counter(), Counter()
    envs = EnvBatch(tasks, min(batch_size, len(tasks)), corruption=level)
    for start in range(0, len(tasks), len(envs)):
        count = min(len(envs), len(tasks) - start)
        tensors = to_tensors(envs.reset_tasks(range(start, start + count)))
        predicted, _ = greedy(masked_log_probs(model(tensors).logits, tensors["grammar_mask"]))
        for k, env in enumerate(envs.envs[:count]):
            target = np.asarray(env.task.program.tokens)
            for node in env.corrupted_nodes:
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
    model.eval()
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

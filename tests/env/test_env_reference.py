"""The environment's fast step against a straightforward slow path, observation by observation.

The step re-types only what an edit changes, keeps per-episode memos of subtree values, seeds
input leaves from the tests' summaries, shortcuts the spectrum of a program that cannot run and
caches per-program and per-shape arrays. Here every observation of seeded rollouts is rebuilt
from scratch from the program alone: a full type check, every runnable subtree found by checking
it on its own and run traced, one `summarize` per (node, test), plain loops for edges and masks,
and must be equal to what the environment returned, key by key, byte for byte.
(`benchmarks/env_fingerprint.py` hashes much longer rollouts of every option combination.)
"""

import numpy as np
import pytest
from env_tasks import MAX_NODES, assert_same, make_env, masked_action

from progrefine_env.feedback import PASSED, outcome_code, summarize
from progrefine_env.graph import BINDER, CHILD, PARENT, SIBLING, binder_edges, max_edges_for
from progrefine_env.lang import ERROR_KINDS, MASK, PAD, VOCAB_SIZE, Compiled, check
from progrefine_env.lang.vocab import INPUT_NAMES


def runnable_roots(program, types) -> list[int]:
    """The largest subtrees that are complete and well-typed on their own (closed: a free `a`
    or `b` does not type-check at the root), found by checking each one."""
    roots, i, end = [], 0, program.shape.end
    while i < len(program):
        sub = program.subtree(i)
        if sub.complete and check(sub, types).well_typed:
            roots.append(i)
            i = end[i]
        else:
            i += 1
    return roots


def traced_values(program, root, tests, values, reached=None):
    """Run the subtree at `root` on each test: summaries of each node's first value into
    `values` [n, T, F], and (when given) which nodes each test reached into `reached` [n, T]."""
    compiled = Compiled(program.subtree(root), trace=True)
    results = []
    for k, test in enumerate(tests):
        results.append(compiled.run(test.inputs))
        for i, (count, taken) in enumerate(zip(compiled.reached, compiled.values)):
            if taken:
                values[root + i, k] = summarize(taken[0], test.output)
            if reached is not None and count:
                reached[root + i, k] = True
    return results


def reference_spectrum(reached, failing):
    rf = (reached & failing).sum(axis=1).astype(np.float32)
    rp = (reached & ~failing).sum(axis=1).astype(np.float32)
    total = int(failing.sum())
    share = rf / total if total else np.zeros_like(rf)
    denominator = np.sqrt(total * (rf + rp))
    return share, np.divide(rf, denominator, out=np.zeros_like(rf), where=denominator > 0)


def reference_edges(program, max_edges):
    shape, pairs = program.shape, []
    for node in range(1, len(program)):
        pairs += [(shape.parent[node], node, CHILD), (node, shape.parent[node], PARENT)]
    for kids in shape.children:
        pairs += [(left, right, SIBLING) for left, right in zip(kids, kids[1:])]
    pairs += [(use, binder, BINDER) for use, binder in binder_edges(program)]
    index, kinds, mask = np.zeros((2, max_edges), np.int64), np.zeros(max_edges, np.int64), np.zeros(max_edges, np.int8)
    for e, (src, dst, kind) in enumerate(pairs):
        index[:, e], kinds[e], mask[e] = (src, dst), kind, 1
    return index, kinds, mask


def reference_obs(env, previous) -> dict[str, np.ndarray]:
    """The observation of `env.program`, from nothing but it, the previous program and the task."""
    program, task, shape = env.program, env.task, env.program.shape
    n, t, tests, nodes, slots = len(program), len(env.task.tests), env.task.tests, env.max_nodes, env.max_tests
    info = check(program, task.input_types)
    values, reached = np.zeros((n, t, 14), np.float32), np.zeros((n, t), bool)
    if program.complete and info.well_typed:
        results = traced_values(program, 0, tests, values, reached)
        outcomes = np.array([outcome_code(r, test.output) for r, test in zip(results, tests)], np.int64)
    else:
        for root in runnable_roots(program, task.input_types):
            traced_values(program, root, tests, values)
        kind = "incomplete" if not program.complete else "type"
        outcomes = np.full(t, 2 + ERROR_KINDS.index(kind), np.int64)
    conflicts = [i for i, tok in enumerate(program.tokens) if tok != MASK and not (info.masks[i] >> tok) & 1]
    if not (program.complete and info.well_typed):
        reached[[i for i, tok in enumerate(program.tokens) if tok == MASK] + conflicts] = True
    share, ochiai = reference_spectrum(reached, outcomes != PASSED)

    def padded(values, size, dtype, fill=0):
        array = np.full((size, *np.shape(values)[1:]), fill, dtype=dtype)
        array[: len(values)] = values
        return array

    grammar = np.zeros((nodes, VOCAB_SIZE), np.int8)
    for i in range(nodes):
        for tok in range(VOCAB_SIZE):
            grammar[i, tok] = (info.masks[i] >> tok) & 1 if i < n else tok == PAD
    inputs = np.zeros((slots, len(INPUT_NAMES), 14), np.float32)
    for k, test in enumerate(tests):
        for j, name in enumerate(INPUT_NAMES):
            if name in test.inputs:
                inputs[k, j] = summarize(test.inputs[name], test.output)
    edge_index, edge_type, edge_mask = reference_edges(program, max_edges_for(nodes))
    return {
        "arity": padded(shape.arities, nodes, np.int64),
        "depth": padded(shape.depth, nodes, np.int64),
        "position": padded(shape.position, nodes, np.int64),
        "node_mask": padded([1] * n, nodes, np.int8),
        "test_mask": padded([1] * t, slots, np.int8),
        "expected_output": padded([summarize(test.output, test.output) for test in tests], slots, np.float32),
        "test_inputs": inputs,
        "tokens": padded(program.tokens, nodes, np.int64),
        "prev_tokens": padded(previous.tokens, nodes, np.int64),
        "masked": padded([int(tok == MASK) for tok in program.tokens], nodes, np.int8),
        "expected_type": padded(info.expected, nodes, np.int64),
        "type_conflict": padded([int(i in conflicts) for i in range(n)], nodes, np.int8),
        "edge_index": edge_index,
        "edge_type": edge_type,
        "edge_mask": edge_mask,
        "test_outcome": padded(outcomes, slots, np.int64),
        "node_failure": padded(share, nodes, np.float32),
        "node_suspicion": padded(ochiai, nodes, np.float32),
        "node_values": np.pad(values, ((0, nodes - n), (0, slots - t), (0, 0))),
        "grammar_mask": grammar,
    }


@pytest.mark.parametrize(
    "action_mode, corruption_mode, invalid_edits",
    [
        ("edit", "mask", "ignore"),
        ("edit", "noise", "apply"),
        ("rewrite", "mask", "ignore"),
        ("rewrite", "noise", "apply"),
    ],
)
def test_observations_equal_a_from_scratch_reference(action_mode, corruption_mode, invalid_edits):
    """200 steps each, masked and unmasked random actions: every observation, and the masks in
    `info`, equal the slow path's."""
    env = make_env(action_mode=action_mode, corruption_mode=corruption_mode, invalid_edits=invalid_edits,
                   corruption=(0.0, 1.0))  # fmt: skip
    env.action_space.seed(0)
    rng = np.random.default_rng(0)
    obs, info = env.reset(seed=0)
    previous, kinds = env.program, set()
    for step in range(200):
        assert_same(obs, reference_obs(env, previous), f"step {step}")
        n = len(env.program)
        expected = obs["grammar_mask"][:n].astype(bool)
        if action_mode == "edit":  # every allowed edit changes its node (issue 23)
            expected[np.arange(n), obs["tokens"][:n]] = False
        assert np.array_equal(info["action_mask"].reshape(MAX_NODES, -1)[:n], expected)
        kinds.add((env.program.complete, check(env.program, env.task.input_types).well_typed))
        masked = step % 3 != 2
        action = masked_action(env.action_masks(), action_mode, MAX_NODES, rng) if masked else env.action_space.sample()
        previous = env.program
        obs, _, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            obs, info = env.reset()
            previous = env.program
    assert len(kinds) >= 2  # the walk met programs that run and programs that cannot

"""What a step does: rewards and episode ends, grammar masks, the expert, no leakage of the target,
and many random steps that never raise."""

from __future__ import annotations

from copy import deepcopy

import numpy as np
import pytest
from env_tasks import MAX_NODES, TASKS, assert_same, make_env, masked_action, rewrite_action

from progrefine_env.env import edit_mask
from progrefine_env.lang import MASK, PAD, TOKEN_ID, VOCAB, VOCAB_SIZE, check, parse, unparse
from progrefine_env.lang.vocab import TOKENS_BY_ARITY
from progrefine_env.tasks.io import task_from_json

V = VOCAB_SIZE

DOUBLE = task_from_json(
    {
        "inputs": {"x": "list"},
        "program": "(map (lam (* a 2)) x)",
        "tests": [{"input": {"x": [1, 2]}, "output": [2, 4]}, {"input": {"x": [0]}, "output": [0]}],
        "held_out_tests": [{"input": {"x": [7]}, "output": [14]}],
    }
)


def program_action(text: str) -> np.ndarray:
    return rewrite_action(parse(text).tokens, MAX_NODES)


# ----------------------------------------------------------------------------- rewards and ends


@pytest.mark.parametrize("seed", range(6))
def test_the_full_correction_of_one_hole_earns_the_delta_plus_one(seed):
    env = make_env([DOUBLE], corruption=1 / len(DOUBLE.program))
    obs, info = env.reset(seed=seed)
    assert obs["masked"].sum() == 1 and info["tests_passed"] == 0  # one hole: nothing can run
    _, reward, terminated, truncated, info = env.step(env.expert_action())
    assert reward == 1.0 + 1.0  # all of the tests newly pass (fraction 1), plus 1 for solving
    assert terminated and not truncated and info["tests_passed"] == 2


def test_delta_reward_follows_the_fraction_of_tests_passed_and_truncation_at_max_steps():
    env = make_env([DOUBLE], corruption=1 / len(DOUBLE.program), max_steps=3)
    env.reset(seed=0)
    # (* a 3): only the test on [0] passes -> +1/2
    _, reward, terminated, truncated, info = env.step(program_action("(map (lam (* a 3)) x)"))
    assert (reward, terminated, truncated, info["tests_passed"]) == (0.5, False, False, 1)
    # (+ a 3): no test passes -> -1/2
    _, reward, terminated, truncated, _ = env.step(program_action("(map (lam (+ a 3)) x)"))
    assert (reward, terminated, truncated) == (-0.5, False, False)
    # no change: 0, and the third step is the last
    _, reward, terminated, truncated, info = env.step(program_action("(map (lam (+ a 3)) x)"))
    assert (reward, terminated, truncated) == (0.0, False, True)
    assert info["held_out_passed"] == 0
    # the target after a partial success: the rest of the fraction plus 1
    env.reset(seed=0)
    env.step(program_action("(map (lam (* a 3)) x)"))
    _, reward, terminated, truncated, _ = env.step(program_action("(map (lam (* a 2)) x)"))
    assert (reward, terminated, truncated) == (1.5, True, False)


def test_sparse_reward():
    env = make_env([DOUBLE], corruption=1 / len(DOUBLE.program), reward="sparse")
    env.reset(seed=0)
    assert env.step(program_action("(map (lam (* a 3)) x)"))[1] == 0.0
    assert env.step(env.expert_action())[1] == 1.0


@pytest.mark.parametrize("action_mode, steps", [("rewrite", 5), ("edit", 2 * len(DOUBLE.program))])
def test_default_max_steps(action_mode, steps):
    env = make_env([DOUBLE], corruption=1.0, action_mode=action_mode)
    env.reset(seed=0)
    assert env.max_steps == steps
    for k in range(steps):
        # a step that changes nothing: keep every token (rewrite), or an edit to <pad> (refused)
        action = rewrite_action(env._program.tokens, MAX_NODES) if action_mode == "rewrite" else PAD
        _, reward, terminated, truncated, _ = env.step(action)
        assert reward == 0 and not terminated and truncated == (k == steps - 1)


# ----------------------------------------------------------------------------- grammar masks


def spec_mask(program, input_types, node: int) -> set[int]:
    """LANGUAGE.md's grammar mask, by brute force: the tokens of the node's arity that keep the
    program well-typed when they stand at the node."""
    arity = program.arities[node]
    return {t for t in TOKENS_BY_ARITY[arity] if check(program.replace({node: t}), input_types).well_typed}


@pytest.mark.parametrize("action_mode", ["edit", "rewrite"])
@pytest.mark.parametrize("corruption_mode", ["mask", "noise"])
def test_an_edit_inside_the_grammar_mask_keeps_a_well_typed_program_well_typed(action_mode, corruption_mode):
    """For a well-typed program, every edit inside the grammar mask is applied as it is and leaves
    the program well-typed, and the mask is exactly LANGUAGE.md's set of such tokens, which is
    never empty in a well-typed program (the token a completion puts there is in it; issue 13
    found dead ends around holes when parameters and masked lambdas were checked apart)."""
    env = make_env(action_mode=action_mode, corruption_mode=corruption_mode, corruption=(0.1, 1.0))
    rng = np.random.default_rng(11)
    checked = 0
    for episode in range(60):
        index = episode % len(TASKS)
        obs, info = env.reset(seed=episode, options={"task_index": index})
        types = TASKS[index].input_types
        for _ in range(12):
            program = parse(info["program"])
            n = len(program)
            mask = env.action_masks().reshape(MAX_NODES, V)
            if action_mode == "edit":
                node, token = divmod(masked_action(env.action_masks(), "edit", MAX_NODES, rng), V)
                action = node * V + token
            else:  # one node changed, every other one kept
                node = int(rng.integers(n))
                token = int(rng.choice(np.flatnonzero(mask[node])))
                action = rewrite_action(program.tokens, MAX_NODES)
                action[node] = token
            well_typed = check(program, types).well_typed
            exact = spec_mask(program, types, node)
            obs, _, terminated, truncated, info = env.step(action)
            if well_typed:
                if action_mode == "edit":  # the edit mask leaves out the current token: every edit changes
                    exact.discard(program.tokens[node])
                    assert token != program.tokens[node]
                assert set(np.flatnonzero(mask[node])) == exact, (unparse(program), node)
                changed = token != program.tokens[node]
                assert info["invalid_edits"] == 0 and info["nodes_changed"] == int(changed)
                assert parse(info["program"]) == program.replace({node: token})
                assert check(parse(info["program"]), types).well_typed, (unparse(program), node, token)
                checked += 1
            if terminated or truncated:
                break
    assert checked > 250


def test_a_complete_well_typed_program_has_exact_masks_everywhere():
    for task in TASKS:
        env = make_env([task], corruption_mode="noise", corruption=0.5)
        for seed in range(3):
            obs, info = env.reset(seed=seed)
            program = parse(info["program"])
            assert program.complete and check(program, task.input_types).well_typed
            rows = env.action_masks().reshape(MAX_NODES, V)
            for node in range(len(program)):
                assert set(np.flatnonzero(rows[node])) == spec_mask(program, task.input_types, node)
                assert rows[node, program.tokens[node]]  # keeping a node is always allowed


def test_masks_never_lead_into_a_hole_that_no_token_fits():
    """A hole stands for a token of its arity, so under a masked 3-ary root (if, fold or zipwith)
    node 1 is never offered `len`, whose int no 3-ary token takes first."""
    fold = task_from_json(
        {
            "inputs": {"x": "list"},
            "program": "(fold (lam2 (+ a b)) 0 x)",
            "tests": [{"input": {"x": [1, 2]}, "output": 3}],
        }
    )
    env = make_env([fold], corruption=1.0, action_mode="edit")
    env.reset(seed=0)  # (<mask> (<mask> (<mask> <mask> <mask>)) <mask> <mask>)
    masks = env.action_masks()
    assert not masks[1 * V + TOKEN_ID["len"]]
    assert masks[1 * V + TOKEN_ID["lam2"]] and masks[1 * V + TOKEN_ID["not"]]
    rng = np.random.default_rng(0)
    for _ in range(200):  # masked random edits from here keep a filling possible at every node
        env.step(int(rng.choice(np.flatnonzero(env.action_masks()))))
        assert check(env._program, fold.input_types).well_typed
        for node in range(len(env._program)):
            assert spec_mask(env._program, fold.input_types, node), node


# ----------------------------------------------------------------------------- edit mode: every edit edits (issue 23)


@pytest.mark.parametrize(
    "corruption_mode, invalid_edits", [("mask", "ignore"), ("noise", "ignore"), ("noise", "apply")]
)
def test_every_allowed_edit_changes_the_program(corruption_mode, invalid_edits):
    """Each action `action_masks()` allows in edit mode, stepped from the same state, changes
    exactly its node to its token (a supervised policy's favourite, the current token, is out)."""
    env = make_env(action_mode="edit", corruption_mode=corruption_mode, invalid_edits=invalid_edits, corruption=0.5)
    tried = 0
    for index in range(len(TASKS)):
        obs, info = env.reset(seed=index, options={"task_index": index})
        program, mask = env.program, env.action_masks()
        assert mask.any() and np.array_equal(mask, info["action_mask"])
        assert np.array_equal(mask, edit_mask(obs["grammar_mask"], obs["tokens"], obs["node_mask"]).reshape(-1))
        for action in np.flatnonzero(mask)[::4].tolist():  # every 4th allowed edit, each from this state
            node, token = divmod(action, V)
            assert node < len(program) and token != program.tokens[node]
            copy = deepcopy(env)
            _, _, _, truncated, info = copy.step(action)
            assert copy.program == program.replace({node: token}), (unparse(program), node, VOCAB[token])
            assert info["nodes_changed"] == 1 and info["invalid_edits"] == 0 and not truncated
            tried += 1
    assert tried > 100


def test_naming_a_nodes_current_token_is_the_stop():
    env = make_env([DOUBLE], corruption=1 / len(DOUBLE.program), action_mode="edit")
    env.reset(seed=0)
    program = env.program
    node = next(i for i, t in enumerate(program.tokens) if t != MASK)
    assert not env.action_masks()[node * V + program.tokens[node]]  # the mask never offers it here
    _, reward, terminated, truncated, info = env.step(node * V + program.tokens[node])
    assert (reward, terminated, truncated) == (0.0, False, True) and env.steps == 1 < env.max_steps
    assert env.program == program and info["nodes_changed"] == 0 and info["invalid_edits"] == 0
    assert "held_out_passed" in info  # an ended episode's evaluation fields
    # A padded node is still a step that changes nothing and does not end the episode.
    env.reset(seed=0)
    _, _, _, truncated, info = env.step((MAX_NODES - 1) * V + PAD)
    assert not truncated and env.program == program and info["nodes_changed"] == 0


def test_the_edit_mask_offers_the_stop_only_when_no_edit_exists():
    rng = np.random.default_rng(0)
    grammar = (rng.random((3, 5, V)) < 0.2).astype(np.int8)
    tokens = rng.integers(V, size=(3, 5))
    node_mask = np.array([[1, 1, 1, 0, 0]] * 3, dtype=np.int8)
    grammar[np.arange(3)[:, None], np.arange(5), tokens] = 1  # the current token is always grammatical
    grammar[1] = 0  # sample 1: each node allows only its current token: no edit exists
    grammar[1, np.arange(5), tokens[1]] = 1
    allowed = edit_mask(grammar, tokens, node_mask)
    for b in (0, 2):
        expected = grammar[b].astype(bool) & node_mask[b, :, None].astype(bool)
        expected[np.arange(5), tokens[b]] = False
        assert np.array_equal(allowed[b], expected) and expected.any()
    assert np.flatnonzero(allowed[1]).tolist() == [tokens[1, 0]]  # the stop: the root's current token


# ----------------------------------------------------------------------------- the expert


@pytest.mark.parametrize(
    "action_mode, corruption_mode",
    [("rewrite", "mask"), ("edit", "mask"), ("rewrite", "noise")],
)
@pytest.mark.parametrize("level", [0.1, 0.25, 0.5, 0.75, 1.0])
def test_the_expert_reaches_the_target_from_any_corruption(action_mode, corruption_mode, level):
    env = make_env(action_mode=action_mode, corruption_mode=corruption_mode, corruption=level)
    for index, task in enumerate(TASKS):
        for seed in range(2):
            obs, info = env.reset(seed=seed, options={"task_index": index})
            wrong = len(env.wrong_nodes())
            assert wrong >= 1 or corruption_mode == "noise"
            steps, terminated = 0, False
            while not terminated:
                _, _, terminated, truncated, info = env.step(env.expert_action())
                steps += 1
                assert not truncated, (task.name, level, steps)
            assert steps == (1 if action_mode == "rewrite" else wrong)
            assert info["invalid_edits"] == 0
            assert info["program"] == unparse(task.program)
            assert info["tests_passed"] == info["num_tests"] == len(task.tests)
            assert info["held_out_passed"] == info["num_held_out"] == len(task.held_out_tests)
            assert env.wrong_nodes() == []
            assert np.array_equal(env.target_tokens[: len(task.program)], task.program.tokens)


def test_the_expert_edits_one_wrong_node_at_a_time_with_noise_when_edits_apply():
    # With invalid_edits="apply" every expert edit lands, so noise is repaired in edit mode too.
    env = make_env(action_mode="edit", corruption_mode="noise", corruption=0.5, invalid_edits="apply")
    for index, task in enumerate(TASKS):
        env.reset(seed=index, options={"task_index": index})
        for remaining in range(len(env.wrong_nodes()), 0, -1):
            node, token = divmod(env.expert_action(), V)
            assert (
                node == env.wrong_nodes()[0] or check(env._program.replace({node: token}), task.input_types).well_typed
            )
            env.step(env.expert_action())
            assert len(env.wrong_nodes()) == remaining - 1
        assert env._program == task.program


def test_a_partial_rewrite_fixes_the_first_wrong_nodes_in_pre_order():
    env = make_env(corruption=1.0)
    env.reset(seed=0, options={"task_index": 2})
    wrong = env.wrong_nodes()
    action = env.expert_action(fix=3)
    target = env.target_tokens
    assert [i for i in range(len(wrong) + 1) if action[i] == target[i]][:3] == wrong[:3]
    env.step(action)
    assert env.wrong_nodes() == wrong[3:]


# ----------------------------------------------------------------------------- no leakage


TWICE = {
    "inputs": {"x": "list"},
    "tests": [{"input": {"x": [1, 2, 3]}, "output": [2, 4, 6]}, {"input": {"x": []}, "output": []}],
}
TIMES_TWO = task_from_json(
    {
        **TWICE,
        "name": "times-two",
        "program": "(map (lam (* a 2)) x)",
        "held_out_tests": [{"input": {"x": [4]}, "output": [8]}],
    }
)
PLUS_ITSELF = task_from_json(
    {
        **TWICE,
        "name": "plus-itself",
        "program": "(map (lam (+ a a)) x)",
        "held_out_tests": [{"input": {"x": [-1]}, "output": [-2]}],
    }
)


@pytest.mark.parametrize("action_mode", ["rewrite", "edit"])
def test_no_leakage_of_the_target(action_mode):
    """Two targets of one shape that agree on the visible tests, corrupted entirely: every
    observation, reward and flag is equal, step by step, for the same actions."""
    assert TIMES_TWO.program != PLUS_ITSELF.program and TIMES_TWO.program.arities == PLUS_ITSELF.program.arities
    first = make_env([TIMES_TWO], corruption=1.0, action_mode=action_mode, max_steps=30)
    second = make_env([PLUS_ITSELF], corruption=1.0, action_mode=action_mode, max_steps=30)
    rng = np.random.default_rng(0)
    for episode in range(4):
        obs_a, info_a = first.reset(seed=episode)
        obs_b, info_b = second.reset(seed=episode)
        assert_same(obs_a, obs_b)
        assert_same(info_a, info_b)
        for _ in range(30):
            action = masked_action(first.action_masks(), action_mode, MAX_NODES, rng)
            out_a, out_b = first.step(action), second.step(action)
            assert_same(out_a[0], out_b[0])  # every observation array
            assert out_a[1:4] == out_b[1:4]
            info_a, info_b = dict(out_a[4]), dict(out_b[4])
            for info in (info_a, info_b):  # the held-out tests differ, and are not observed
                info.pop("held_out_passed", None), info.pop("num_held_out", None)
            assert_same(info_a, info_b)
            if out_a[2] or out_a[3]:
                break
    assert not np.array_equal(first.target_tokens, second.target_tokens)


# ----------------------------------------------------------------------------- random steps


@pytest.mark.parametrize(
    "action_mode, masked, corruption_mode, invalid_edits",
    [
        ("rewrite", True, "mask", "ignore"),
        ("rewrite", False, "noise", "apply"),
        ("edit", True, "noise", "apply"),
        ("edit", False, "mask", "ignore"),
    ],
)
def test_random_steps_never_raise(action_mode, masked, corruption_mode, invalid_edits):
    """2,500 steps each, 10,000 in all: masked random actions, and raw action_space.sample()."""
    env = make_env(
        action_mode=action_mode, corruption_mode=corruption_mode, invalid_edits=invalid_edits, corruption=(0.0, 1.0)
    )
    env.action_space.seed(0)
    rng = np.random.default_rng(0)
    obs, info = env.reset(seed=0)
    episodes = solved = 0
    for step in range(2500):
        action = masked_action(env.action_masks(), action_mode, MAX_NODES, rng) if masked else env.action_space.sample()
        obs, reward, terminated, truncated, info = env.step(action)
        assert -1.0 <= reward <= 2.0
        if step % 25 == 0:
            assert obs in env.observation_space
        if masked and action_mode == "edit" and corruption_mode == "noise":
            assert info["invalid_edits"] == 0  # complete programs: masked edits are always valid
        if terminated or truncated:
            episodes += 1
            solved += terminated
            assert "held_out_passed" in info
            obs, info = env.reset()
    assert episodes > 10

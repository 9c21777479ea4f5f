"""The refinement report and its decoders: counts read from `info` agree with running the tests,
candidates are counted once, the search keeps to its masks and budget, and nothing privileged is
read from the environment."""

from __future__ import annotations

import json
from collections import defaultdict

import numpy as np
import pytest
import torch

pytest.importorskip("torch_geometric")
from env_tasks import PAIR, TASKS  # noqa: E402

from agents import ModelConfig, RefineNet  # noqa: E402
from agents.acting.candidates import best_first  # noqa: E402
from agents.acting.policy import GraphPolicy, MixturePolicy, UniformPolicy  # noqa: E402
from agents.acting.refine import evaluate_tasks, refinement_report, without_per_task  # noqa: E402
from agents.acting.search import fillings, token_weights  # noqa: E402
from agents.acting.strategies import Decoding  # noqa: E402
from agents.nn.distribution import MaskedNodeCategorical  # noqa: E402
from progrefine_env.env import ProgramRefineEnv  # noqa: E402
from progrefine_env.lang import MASK, Program, check, parse  # noqa: E402
from progrefine_env.tasks.task import passes  # noqa: E402

SMALL = ModelConfig(hidden=16, layers=1)
OPTIONS = {"max_nodes": 32, "max_tests": 4}


def small_policy(seed: int = 0) -> GraphPolicy:
    torch.manual_seed(seed)
    return GraphPolicy(RefineNet(SMALL))


def test_the_expert_through_a_mixture_solves_everything_at_every_level():
    expert = MixturePolicy(UniformPolicy(), beta=1.0)  # acts on info["expert_action"] only
    options = {**OPTIONS, "expert_labels": True}  # privileged, opted into for this upper bound
    report = refinement_report(expert, TASKS, levels=(0.5, 1.0), rounds=2, env_options=options)
    for level in report["levels"]:
        first = level["rounds"][0]
        assert first["pass_visible"] == first["pass_held_out"] == first["exact"] == first["token_accuracy"] == 1.0
    assert all(r["round_solved"] == 0 and r["candidates_run"] == 1 for r in report["per_task"])


@pytest.mark.parametrize("decoding", [Decoding("argmax", 1), Decoding("best_of_k", 8), Decoding("best_first", 8)])
def test_counts_read_from_info_equal_running_the_tests_directly(decoding):
    policy = UniformPolicy() if decoding.strategy == "argmax" else small_policy()
    results = evaluate_tasks(policy, TASKS, (0.5, 1.0), rounds=3, decoding=decoding, env_options=OPTIONS)
    assert len(results) == 2 * len(TASKS)
    for result in results:
        task = TASKS[result.index]
        program = parse(result.final_program)
        visible = sum(passes(program, task.input_types, task.tests))
        held_out = sum(passes(program, task.input_types, task.held_out_tests))
        assert result.tests_passed[-1] == visible
        assert (result.held_out_passed, result.num_held_out) == (held_out, len(task.held_out_tests))
        solved = [k == len(task.tests) for k in result.tests_passed]
        assert result.round_solved == (solved.index(True) if any(solved) else None)
        exact = program.tokens == task.program.tokens
        assert result.exact[-1] == exact


class RecordingEnv(ProgramRefineEnv):
    """Logs every program whose visible tests run, per task name (the test's own bookkeeping)."""

    log: dict = defaultdict(list)

    def run_visible_tests(self, candidates=None):
        if candidates is None:
            candidates = self.pending_candidates
        scores = super().run_visible_tests(candidates)
        n = len(self.program)
        for row, score in zip(np.atleast_2d(candidates), np.atleast_1d(scores)):
            self.log[self._task.name].append((tuple(row[:n].tolist()), int(score)))
        return scores


@pytest.mark.parametrize("strategy", ["best_of_k", "best_first", "sample_distinct"])
def test_candidates_run_are_distinct_and_counted_once(strategy):
    RecordingEnv.log.clear()
    decoding = Decoding(strategy, samples=24, temperature=0.2)  # sharp: best_of_k draws duplicates
    report = refinement_report(small_policy(), TASKS, levels=(1.0,), rounds=3, decoding=decoding,
                               env_options=OPTIONS, env_factory=RecordingEnv)  # fmt: skip
    for result in report["per_task"]:
        submitted = RecordingEnv.log[result["task"]]
        programs = [p for p, _ in submitted]
        assert len(programs) == len(set(programs)), "a candidate was run twice"
        ran = sum(score >= 0 for _, score in submitted)
        # The chosen candidate is stepped into (already run); any other stepped program runs once more.
        assert ran <= result["candidates_run"] <= ran + 3
        assert result["candidates_run"] <= 3 * 24


def test_a_budget_caps_the_distinct_candidates_of_every_task():
    decoding = Decoding("best_first", samples=50, budget=7)
    results = evaluate_tasks(small_policy(), TASKS, (1.0,), rounds=4, decoding=decoding, env_options=OPTIONS)
    assert all(r.candidates_run <= 7 for r in results)
    assert max(r.candidates_run for r in results) == 7  # unsolved tasks spend it all


def test_best_first_enumerates_distinct_fillings_most_likely_first():
    torch.manual_seed(0)
    logits, mask = torch.randn(1, 5, 4), torch.rand(1, 5, 4) > 0.4
    mask[..., 0] = True
    dist = MaskedNodeCategorical(logits, mask, torch.tensor([[1.0, 1, 1, 1, 0]]))
    found = list(best_first(dist, 0))
    assert len(found) == int(mask[0, :4].sum(-1).prod())  # every allowed filling, once
    assert len({tuple(c[:4].tolist()) for c in found}) == len(found)
    likelihood = [float(dist.log_prob(torch.as_tensor(c)[None])) for c in found]
    assert all(a >= b - 1e-5 for a, b in zip(likelihood, likelihood[1:]))
    assert all(bool(mask[0, torch.arange(5), torch.as_tensor(c)].all()) for c in found)


@pytest.mark.parametrize("weighted", [False, True])
def test_search_fillings_are_complete_well_typed_and_within_the_masks(weighted):
    task = TASKS[1]
    program = task.program
    holes = [0, 2, 4, 7]
    masked = program.replace({i: MASK for i in holes})
    rng = np.random.default_rng(0)
    weights = token_weights(TASKS) if weighted else None
    stream = fillings(masked.tokens, masked.arities, holes, task.input_types, rng, weights)
    for _ in range(30):
        filled = next(stream)
        candidate = Program(filled, program.arities)
        assert candidate.complete and check(candidate, task.input_types).well_typed
        assert all(filled[i] == program.tokens[i] for i in range(len(filled)) if i not in holes)
        masks = check(masked, task.input_types).masks  # the first hole's mask, given nothing filled
        assert (masks[holes[0]] >> filled[holes[0]]) & 1


def test_the_search_keeps_to_its_budget_task_by_task():
    report = refinement_report(small_policy(), PAIR, levels=(1.0,), rounds=2, decoding=Decoding("best_of_k", 6),
                               baseline="search", env_options=OPTIONS)  # fmt: skip
    agent = {r["task"]: r["candidates_run"] for r in report["per_task"]}
    for result in report["baseline"]["per_task"]:
        assert 1 <= result["candidates_run"] <= max(agent[result["task"]], 1)
    fixed = refinement_report(small_policy(), PAIR, levels=(1.0,), rounds=1, baseline="search", search_budget=3,
                              per_task_budget=False, env_options=OPTIONS)  # fmt: skip
    assert all(r["candidates_run"] <= 3 for r in fixed["baseline"]["per_task"])
    json.dumps(without_per_task(fixed))


class NoPrivilegeEnv(ProgramRefineEnv):
    """The env with every privileged accessor raising: the evaluation must never need them."""

    def __getattribute__(self, name):
        if name in ("task", "target_tokens", "expert_action", "wrong_nodes", "corrupted_nodes_public"):
            raise AssertionError(f"the evaluation read the privileged env.{name}")
        return super().__getattribute__(name)


def test_the_report_reads_nothing_privileged():
    with pytest.raises(AssertionError):
        NoPrivilegeEnv(tasks=PAIR, **OPTIONS).task  # noqa: B018  (the guard works)
    for decoding in (Decoding("argmax", 1), Decoding("best_of_k", 4), Decoding("best_first", 4)):
        report = refinement_report(small_policy(), PAIR, levels=(0.5,), rounds=2, decoding=decoding,
                                   baseline="search", env_options=OPTIONS, env_factory=NoPrivilegeEnv)  # fmt: skip
        assert len(report["per_task"]) == len(report["baseline"]["per_task"]) == len(PAIR)


def test_results_do_not_depend_on_the_batch_or_the_workers():
    decoding = Decoding("best_of_k", 6)
    alone = evaluate_tasks(small_policy(), TASKS[:3], (0.75,), 2, decoding=decoding, env_options=OPTIONS,
                           batch_size=1)  # fmt: skip
    together = evaluate_tasks(small_policy(), TASKS[:3], (0.75,), 2, decoding=decoding, env_options=OPTIONS,
                              batch_size=3)  # fmt: skip
    for a, b in zip(alone, together):
        assert a.start_program == b.start_program and a.candidates_run == b.candidates_run
        assert a.programs == b.programs


def test_decoding_settings_are_checked():
    for bad in ({"strategy": "beam"}, {"samples": 0}, {"temperature": 0.0}, {"budget": -1}):
        with pytest.raises(ValueError):
            Decoding(**bad)


def test_run_visible_tests_scores_candidates_without_changing_the_episode():
    env = ProgramRefineEnv(tasks=PAIR[:1], corruption=0.5, **OPTIONS)
    obs, _ = env.reset(seed=0)
    target = np.zeros(OPTIONS["max_nodes"], dtype=np.int64)
    target[: len(PAIR[0].program)] = PAIR[0].program.tokens
    scores = env.run_visible_tests(np.stack([target, obs["tokens"]]))
    assert scores.tolist() == [len(PAIR[0].tests), -1]  # the corrupted program has holes: not runnable
    assert env.run_visible_tests(target) == len(PAIR[0].tests)
    assert np.array_equal(env._get_obs()["tokens"], obs["tokens"])  # the episode is unchanged
    with pytest.raises(ValueError, match="shape"):
        env.run_visible_tests(target[:5])

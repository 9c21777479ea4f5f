"""The sketch search as a decoding: guided by a policy and classical beside it in the report,
reading nothing privileged, deterministic under a fillings budget, with CPU time counted per task."""

from __future__ import annotations

import pytest

pytest.importorskip("torch_geometric")
from env_tasks import PAIR, TASKS  # noqa: E402
from test_agents_report import OPTIONS, NoPrivilegeEnv, small_policy  # noqa: E402

from agents.acting.refine import evaluate_tasks, refinement_report  # noqa: E402
from agents.acting.strategies import Decoding  # noqa: E402

GUIDED = Decoding("guided", fillings=3000)


def test_guided_and_classical_refine_through_an_env_whose_privileged_accessors_raise():
    for mode in ("mask", "noise"):
        report = refinement_report(
            small_policy(), PAIR, levels=(0.5,), rounds=2, decoding=GUIDED, baseline="sketch",
            env_options={**OPTIONS, "corruption_mode": mode}, env_factory=NoPrivilegeEnv,
        )  # fmt: skip
        assert len(report["per_task"]) == len(report["baseline"]["per_task"]) == len(PAIR)
        assert report["baseline"]["name"] == "sketch"


def test_a_fillings_budget_makes_the_guided_decoding_deterministic():
    first = evaluate_tasks(small_policy(), TASKS[:4], (1.0,), 2, decoding=GUIDED, env_options=OPTIONS)
    again = evaluate_tasks(small_policy(), TASKS[:4], (1.0,), 2, decoding=GUIDED, env_options=OPTIONS)
    assert [r.programs for r in first] == [r.programs for r in again]
    assert [r.candidates_run for r in first] == [r.candidates_run for r in again]


def test_the_guided_decoding_solves_easy_sketches_and_counts_its_candidates():
    results = evaluate_tasks(small_policy(), TASKS[:6], (0.25,), 1, decoding=Decoding("guided", fillings=20_000),
                             env_options=OPTIONS)  # fmt: skip
    solved = [r for r in results if r.round_solved is not None]
    assert len(solved) >= 4  # an untrained policy still orders an exhaustive search
    assert all(r.candidates_run >= 1 for r in solved)


@pytest.mark.parametrize("decoding", [Decoding("sample_distinct", 8), GUIDED, Decoding("argmax", 1)])
def test_every_decoding_counts_cpu_seconds_per_task(decoding):
    results = evaluate_tasks(small_policy(), TASKS[:3], (0.5,), 2, decoding=decoding, env_options=OPTIONS)
    assert all(r.cpu_seconds > 0 for r in results)


def test_the_sketch_baseline_takes_the_agents_cpu_seconds_task_by_task():
    sampling = Decoding("sample_distinct", 8)
    report = refinement_report(small_policy(), TASKS[:3], levels=(0.75,), rounds=1, decoding=sampling,
                               baseline="sketch", env_options=OPTIONS)  # fmt: skip
    assert "cpu_seconds" in report["levels"][0] and "cpu_seconds" in report["baseline"]["levels"][0]
    with pytest.raises(ValueError, match="search_cpu"):
        refinement_report(small_policy(), TASKS[:1], levels=(0.5,), rounds=1, decoding=Decoding("argmax", 1),
                          baseline="sketch", per_task_budget=False, env_options=OPTIONS)  # fmt: skip


def test_a_cpu_budget_stops_a_sampling_decoding():
    capped = evaluate_tasks(small_policy(), TASKS[:3], (0.75,), 1, env_options=OPTIONS,
                            decoding=Decoding("sample_distinct", 256, cpu_budget=1e-9))  # fmt: skip
    free = evaluate_tasks(small_policy(), TASKS[:3], (0.75,), 1, env_options=OPTIONS,
                          decoding=Decoding("sample_distinct", 256))  # fmt: skip
    assert sum(r.candidates_run for r in capped) < sum(r.candidates_run for r in free)


def test_guided_needs_a_budget():
    with pytest.raises(ValueError, match="budget"):
        Decoding("guided")

"""Tasks: programs with typed inputs and tests, task files, the random generator (`generation/`), the corpus."""

from .corpus import (
    SPLITS,
    corpus_key,
    corpus_path,
    default_cache_dir,
    load_corpus,
    split_of,
    split_of_fingerprint,
)
from .generation import (
    BLOCK_SIZE,
    DEFAULT_SIGNATURES,
    GENERATOR_VERSION,
    GeneratorConfig,
    bypass_nodes,
    constant_subtrees,
    fingerprint,
    generate_task,
    generate_tasks,
    generate_tasks_with_fingerprints,
    identity_nodes,
    idle_lambdas,
    insensitive_nodes,
    probe_inputs,
    rejection_reason,
)
from .io import TaskFileError, load_tasks, save_tasks, task_from_json
from .task import Task, Test, passes

__all__ = [
    "BLOCK_SIZE", "DEFAULT_SIGNATURES", "GENERATOR_VERSION", "SPLITS", "GeneratorConfig", "Task",
    "TaskFileError", "Test", "bypass_nodes", "constant_subtrees", "corpus_key", "corpus_path",
    "default_cache_dir", "fingerprint", "generate_task", "generate_tasks",
    "generate_tasks_with_fingerprints", "identity_nodes", "idle_lambdas", "insensitive_nodes",
    "load_corpus", "load_tasks", "passes", "probe_inputs", "rejection_reason", "save_tasks",
    "split_of", "split_of_fingerprint", "task_from_json",
]  # fmt: skip

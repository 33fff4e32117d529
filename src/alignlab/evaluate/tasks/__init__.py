"""Task benchmarks defined in YAML over a data file, and the built-in task suites (knowledge, arithmetic, reading)."""

from alignlab.evaluate.tasks.yaml_task import (
    BUILTIN_TASKS,
    Extraction,
    FewShot,
    TaskSpec,
    builtin_task_path,
    extract,
    load_spec,
    read_rows,
    suite_from_spec,
    suite_from_yaml,
)

__all__ = [
    "BUILTIN_TASKS",
    "Extraction",
    "FewShot",
    "TaskSpec",
    "builtin_task_path",
    "extract",
    "load_spec",
    "read_rows",
    "suite_from_spec",
    "suite_from_yaml",
]

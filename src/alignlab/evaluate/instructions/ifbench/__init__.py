"""IFBench (Pyatkin et al., 2025): checkers for its verifiable constraints and the ``instructions/ifbench`` suite."""

from alignlab.evaluate.instructions.ifbench._registry import UNSUPPORTED, constraints, follows, is_known
from alignlab.evaluate.instructions.ifbench.suite import IFBENCH_METRICS, ifbench_metrics, read_ifbench

__all__ = ["IFBENCH_METRICS", "UNSUPPORTED", "constraints", "follows", "ifbench_metrics", "is_known", "read_ifbench"]

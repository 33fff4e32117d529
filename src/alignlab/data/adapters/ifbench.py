"""IFBench (Pyatkin et al., 2025): 300 test prompts with 58 new verifiable constraints, in IFEval's row shape."""

from __future__ import annotations

from typing import Any

from alignlab.data._eval_records import InstructionFollowing
from alignlab.data._records import Record
from alignlab.data._sources import PublicSource, register_source
from alignlab.data._validate import RowError
from alignlab.data.adapters._registry import adapter, need, to_int

IFBENCH_URL = ("https://github.com/allenai/IFBench/blob/db69a6f05689830b0068b8f1529ebcfd2f3b164c/"
               "data/IFBench_test.jsonl")
IFBENCH = register_source(PublicSource(
    name="ifbench",
    files=("ifbench/IFBench_test.jsonl", "IFBench_test.jsonl"),
    # The hub copy is not pinned: its revision history could not be checked offline, and an earlier version of
    # the file had 294 rows (see the datasheet), so the row count is the check.
    hub="hf://allenai/IFBench_test@train",
    url=IFBENCH_URL,
    license="ODC-BY-1.0 (data), Apache-2.0 (code)",
    rows=300,
))


def _clean(kw: Any, i: int) -> dict[str, Any]:
    """Drop null arguments and make integral floats ints: the file stores counts as 5.0 (``small_n``, ``N``)."""
    if not isinstance(kw, dict):
        raise RowError(f"kwargs[{i}]", "an object", kw)
    out: dict[str, Any] = {}
    for k, v in kw.items():
        if v is None:
            continue
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        out[k] = v
    return out


@adapter("ifbench", produces="instruction_following", source=IFBENCH_URL)
def ifbench(row: dict[str, Any]) -> list[Record]:
    """IFBench_test.jsonl (key, prompt, instruction_id_list, kwargs; every argument present, unused ones null)."""
    kwargs = need(row, "kwargs", list, "a list of objects")
    return [InstructionFollowing(key=to_int(row, "key"), prompt=need(row, "prompt"),
                                 instruction_id_list=need(row, "instruction_id_list", list),
                                 kwargs=[_clean(kw, i) for i, kw in enumerate(kwargs)])]

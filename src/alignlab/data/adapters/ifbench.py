"""IFBench (Pyatkin et al., 2025): 300 test prompts with 58 new verifiable constraints, in IFEval's row shape."""

from __future__ import annotations

from typing import Any

from alignlab.data._eval_records import InstructionFollowing
from alignlab.data._public_files import IFBENCH_URL
from alignlab.data._records import Record
from alignlab.data._validate import RowError
from alignlab.data.adapters._registry import adapter, need, to_int


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

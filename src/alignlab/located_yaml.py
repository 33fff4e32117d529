"""YAML with line numbers: validation errors of a typed config point at ``file:line`` of the offending key.

PyYAML's ``safe_load`` drops positions; ``compose`` keeps them on the node tree, so we parse once into nodes,
build the plain data from them, and map a pydantic error location (``("align", "lora", "r")``) back to a line.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml
from pydantic import ValidationError

from alignlab.errors import AlignlabError


def load_yaml(text: str, where: str) -> tuple[Any, yaml.Node | None]:
    """(plain data, node tree) of a YAML text; a syntax error names ``where:line``."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise AlignlabError(f"{where}{line}: invalid YAML: {problem}") from None
    if node is None:
        return None, None
    return yaml.SafeLoader(text).construct_document(node), node


def line_of(node: yaml.Node | None, loc: Sequence[str | int]) -> int | None:
    """The 1-based line of the deepest node on ``loc`` that exists (the key's line for mappings).

    Location parts that name no key (pydantic adds union branch names such as ``str`` or ``function-after``)
    are skipped, so a location still lands on the nearest real key.
    """
    if node is None:
        return None
    line = node.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            hit = next(((k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == str(part)),
                       None)
            if hit is None:
                continue
            line, node = hit[0].start_mark.line + 1, hit[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
    return line


def located_error(exc: ValidationError, where: str, node: yaml.Node | None, prefix: Sequence[str | int] = (),
                  hint: str | None = None) -> AlignlabError:
    """The first validation error as ``where:line: dotted.key: message``."""
    err = exc.errors()[0]
    loc = [*prefix, *err["loc"]]
    line = line_of(node, loc)
    shown = ".".join(str(p) for p in loc) or "(top level)"
    msg = err["msg"].removeprefix("Value error, ")
    return AlignlabError(f"{where}{f':{line}' if line else ''}: {shown}: {msg}", hint=hint)


def node_at(node: yaml.Node | None, loc: Sequence[str | int]) -> yaml.Node | None:
    """The node at ``loc`` (mapping keys and sequence indices), or None where the path does not exist."""
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == str(part)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            node = node.value[part]
        else:
            return None
    return node

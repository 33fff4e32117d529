"""The rules of the `instructions/basics` smoke suite, on outputs a model really gives."""

from __future__ import annotations

import pytest

from alignlab.evaluate import build_suite
from alignlab.evaluate.instructions.basics import check


@pytest.mark.parametrize(
    ("spec", "text", "ok"),
    [
        ({"type": "equals_word", "value": "yes"}, " Yes. ", True),
        ({"type": "equals_word", "value": "HELLO", "case": True}, "Hello", False),
        ({"type": "number", "value": 12}, "7 + 5 = 12", True),
        ({"type": "number", "value": 6}, "10 minus 4 = 1", False),
        ({"type": "number", "value": 7}, "", False),
        ({"type": "lowercase"}, "the sea is wide.", True),
        ({"type": "lowercase"}, "", False),
        ({"type": "uppercase"}, "COLD!", True),
        ({"type": "uppercase"}, "123", False),
        ({"type": "max_words", "value": 3}, "Red", True),
        ({"type": "max_words", "value": 3}, "a b c d", False),
        ({"type": "bullets", "value": 3}, "- apple\n- pear\n* plum", True),
        ({"type": "bullets", "value": 3}, "1. Banana\n2. Apple\n3. Grapefruit", False),
        ({"type": "starts_with", "value": "Sure"}, "Sure! Mercury.", True),
        ({"type": "ends_with", "value": "!"}, "Hi there!", True),
        ({"type": "no_char", "value": ","}, "A cat, fluffy", False),
        ({"type": "json_key", "value": "name"}, '```json\n{"name": "Ada"}\n```', True),
        ({"type": "json_key", "value": "name"}, '{"name": ', False),
        ({"type": "quoted"}, "“A cow”", True),
        ({"type": "sections", "value": 2, "sep": "***"}, "Trees grow.\n***\nThey shade.", True),
        ({"type": "sections", "value": 2, "sep": "***"}, "Trees grow. They shade.", False),
    ],
)
def test_checks(spec: dict, text: str, ok: bool) -> None:
    assert check(spec, text) is ok


def test_every_item_uses_a_known_check() -> None:
    suite = build_suite("instructions/basics")
    assert len(suite.samples) == 24 and len({s.id for s in suite.samples}) == 24
    for s in suite.samples:
        check(s.target, "")  # raises on an unknown check type

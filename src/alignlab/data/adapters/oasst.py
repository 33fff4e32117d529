"""OpenAssistant (oasst1, oasst2): message trees → conversations and ranked sibling replies.

Two published layouts: ``*.trees.jsonl`` (one tree per row, replies nested) and the flat message table of the hub
datasets (one message per row, linked by ``parent_id``). Flat messages are grouped by ``message_tree_id`` in memory,
which is a few hundred MB at most for these datasets; tree rows stream.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from alignlab.data._records import LanguageModeling, Message, Ranking, Record
from alignlab.data._validate import RowError
from alignlab.data.adapters._registry import adapter

_ROLES = {"prompter": "user", "assistant": "assistant"}
_SOURCE = "https://huggingface.co/datasets/OpenAssistant/oasst1"
Node = dict[str, Any]


def _alive(node: Node) -> bool:
    # Deleted messages and those that failed review are not part of the released conversations.
    return not node.get("deleted") and node.get("review_result") is not False


def _message(node: Node) -> Message:
    role = _ROLES.get(node.get("role", ""))
    if role is None:
        raise RowError("role", "'prompter' or 'assistant'", node.get("role", ...))
    if not isinstance(node.get("text"), str):
        raise RowError("text", "a string", node.get("text", ...))
    return Message(role=role, content=node["text"])  # type: ignore[arg-type]


def _rank(node: Node) -> float:
    rank = node.get("rank")
    return float(rank) if isinstance(rank, int | float) else float("inf")


def _replies(node: Node) -> list[Node]:
    return [r for r in node.get("replies") or [] if isinstance(r, dict) and _alive(r)]


def best_conversation(root: Node) -> list[Message]:
    """The conversation that takes the best-ranked reply at every turn, ending on an assistant message."""
    path, node = [_message(root)], root
    while replies := _replies(node):
        node = min(replies, key=_rank)  # min is stable: unranked siblings keep their published order
        path.append(_message(node))
    while path and path[-1].role != "assistant":
        path.pop()
    return path


def ranked_replies(root: Node) -> Iterator[Ranking]:
    """A ranking for every message with two or more ranked assistant replies; the prompt is the path to it."""
    stack: list[tuple[Node, list[Message]]] = [(root, [_message(root)])]
    while stack:
        node, path = stack.pop()
        replies = _replies(node)
        ranked = [r for r in replies if r.get("role") == "assistant" and _rank(r) != float("inf")]
        if len(ranked) >= 2 and path[-1].role == "user":
            yield Ranking(prompt=list(path), completions=[[_message(r)] for r in ranked],
                          ranks=[int(_rank(r)) + 1 for r in ranked],  # oasst ranks from 0; alignlab from 1
                          id=node.get("message_id"), meta={"lang": node.get("lang")})
        stack.extend((r, [*path, _message(r)]) for r in reversed(replies))


def _build_tree(messages: list[Node]) -> Node:
    """Nest flat messages (``parent_id`` links) under their root, keeping the published order of siblings."""
    nodes = {m["message_id"]: {**m, "replies": []} for m in messages}
    root = None
    for node in nodes.values():
        parent = node.get("parent_id")
        if parent is None:
            root = node
        elif parent in nodes:
            nodes[parent]["replies"].append(node)
        # else: the parent was filtered out upstream; its subtree cannot be placed and is dropped
    if root is None:
        raise RowError("parent_id", "one message without a parent (the tree's root)")
    return root


def _trees(rows: Iterator[tuple[str, dict[str, Any]]]) -> Iterator[tuple[str, Node | Exception]]:
    groups: dict[str, tuple[str, list[Node]]] = {}
    for where, row in rows:
        if isinstance(row.get("prompt"), dict):  # trees.jsonl: one whole tree per row
            yield where, row["prompt"]
        elif isinstance(row.get("message_id"), str) and isinstance(row.get("message_tree_id"), str):
            groups.setdefault(row["message_tree_id"], (where, []))[1].append(row)
        else:
            yield where, RowError("message_id", "a message (message_id, message_tree_id) or a tree (prompt)")
    for where, messages in groups.values():
        try:
            yield where, _build_tree(messages)
        except RowError as exc:
            yield where, exc


def _adapt(rows: Iterator[tuple[str, dict[str, Any]]], pairs: bool) -> Iterator[tuple[str, list[Record] | Exception]]:
    for where, tree in _trees(rows):
        if isinstance(tree, Exception):
            yield where, tree
            continue
        try:
            if not _alive(tree):
                yield where, []
            elif pairs:
                yield where, list(ranked_replies(tree))
            else:
                conversation = best_conversation(tree)
                yield where, [LanguageModeling(messages=conversation, id=tree.get("message_tree_id"),
                                               meta={"lang": tree.get("lang")})] if len(conversation) >= 2 else []
        except (RowError, ValueError) as exc:
            yield where, exc


@adapter("oasst", produces="language_modeling", stream=True, source=_SOURCE)
def oasst(rows: Iterator[tuple[str, dict[str, Any]]]) -> Iterator[tuple[str, list[Record] | Exception]]:
    """OpenAssistant trees or messages → one conversation per tree (best-ranked reply at each turn)."""
    return _adapt(rows, pairs=False)


@adapter("oasst-pairs", produces="ranking", to="preference", stream=True, source=_SOURCE)
def oasst_pairs(rows: Iterator[tuple[str, dict[str, Any]]]) -> Iterator[tuple[str, list[Record] | Exception]]:
    """OpenAssistant trees or messages → rankings of sibling replies → preference pairs."""
    return _adapt(rows, pairs=True)

"""The response cache: keys cover everything that changes an answer; concurrent writers are safe."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

from alignlab.models import ResponseCache


def _key(**over: object) -> str:
    base = dict(fingerprint="sha256:abc", backend="hf", kind="generate", rendered="hi",
                params={"max_tokens": 8, "temperature": 0.0, "seed": 0})
    base.update(over)
    return ResponseCache.key(**base)  # type: ignore[arg-type]


def test_key_changes_with_every_part() -> None:
    k = _key()
    assert k == _key()
    variants = [
        _key(fingerprint="sha256:abd"),
        _key(backend="llamacpp"),
        _key(kind="loglikelihood"),
        _key(rendered="hi "),
        _key(params={"max_tokens": 9, "temperature": 0.0, "seed": 0}),
        _key(params={"max_tokens": 8, "temperature": 0.0, "seed": 1}),
    ]
    assert len({k, *variants}) == len(variants) + 1


def test_roundtrip_info_clear(tmp_path: Path) -> None:
    rc = ResponseCache(tmp_path / "c.sqlite")
    k1, k2 = _key(), _key(rendered="other")
    rc.put_many({k1: {"text": "a", "n_tokens": 1}, k2: {"text": "b", "n_tokens": 1}})
    assert rc.get_many([k2, "missing", k1]) == [{"text": "b", "n_tokens": 1}, None, {"text": "a", "n_tokens": 1}]
    info = rc.info()
    assert info["entries"] == 2 and info["groups"][0]["backend"] == "hf"
    assert rc.clear(backend="llamacpp") == 0
    assert rc.clear() == 2
    assert rc.get_many([k1]) == [None]


def _writer(path: str, worker: int, n: int) -> None:
    rc = ResponseCache(path)
    for i in range(n):
        rc.put_many({_key(rendered=f"{worker}-{i}"): {"text": f"{worker}-{i}"}})
    rc.close()


def test_concurrent_writers(tmp_path: Path) -> None:
    path = str(tmp_path / "c.sqlite")
    ResponseCache(path).close()
    procs = [mp.get_context("spawn").Process(target=_writer, args=(path, w, 100)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    rc = ResponseCache(path)
    keys = [_key(rendered=f"{w}-{i}") for w in range(4) for i in range(100)]
    got = rc.get_many(keys)
    assert all(g is not None for g in got)
    assert rc.info()["entries"] == 400

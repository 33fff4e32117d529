"""Helpers for the arena tests: run directories to import, and a database on each backend.

``arena_db`` yields a fresh database URL per test: a SQLite file, or a new database on PostgreSQL — the server named
by ``ALIGNLAB_TEST_PG_URL`` (``.ci/run`` starts one) or a throwaway cluster this module starts from Debian's
binaries; the PostgreSQL case skips when neither exists.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import subprocess
import uuid
from pathlib import Path

import pytest
import yaml

_CLUSTER = None
XSS = '<script>window.__pwned = 1; alert("xss")</script><img src=x onerror="window.__pwned=2">'


def make_run(root: Path, name: str, spec: str, outputs: dict[str, str], *, suite: str = "instructions/chat",
             scores: dict[str, dict[str, float]] | None = None, inputs: dict[str, object] | None = None) -> Path:
    """A run directory like `alignlab eval` writes, with one free-text suite (sample id -> output)."""
    run = root / name
    (run / "samples" / Path(suite).parent).mkdir(parents=True, exist_ok=True)
    (run / "config.yaml").write_text(yaml.safe_dump({"model": {"spec": spec}, "identity": {"spec": spec}}))
    with (run / "samples" / f"{suite}.jsonl").open("w") as fh:
        for sid, out in outputs.items():
            inp = (inputs or {}).get(sid, [{"role": "user", "content": f"Question {sid}?"}])
            fh.write(json.dumps({"id": sid, "input": inp, "target": None, "choices": None, "output": out,
                                 "answer": None, "logprobs": None, "scores": (scores or {}).get(sid),
                                 "judge": None, "error": None, "metadata": {}}) + "\n")
    return run


def three_runs(root: Path, n: int = 6) -> list[tuple[str, Path]]:
    """Three models answering the same ``n`` prompts; model ``evil`` answers prompt p0 with an XSS payload."""
    runs = []
    for model in ("alpha", "beta", "evil"):
        outs = {f"p{i}": f"{model} answer {i}" for i in range(n)}
        if model == "evil":
            outs["p0"] = XSS
        scores = {f"p{i}": {"judge_score": {"alpha": 9.0, "beta": 5.0, "evil": 1.0}[model]} for i in range(n)}
        runs.append((model, make_run(root, model, f"hf:/models/{model}", outs, scores=scores)))
    return runs


def hidden(html: str, name: str) -> str:
    """The value of the hidden form field ``name`` in a page."""
    m = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert m, f"no hidden field {name!r} in the page"
    return m.group(1)


@pytest.fixture(scope="session")
def pg_server():
    """(admin URL, create_db) for a PostgreSQL server, or skip."""
    url = os.environ.get("ALIGNLAB_TEST_PG_URL")
    if url:
        import psycopg

        from alignlab.arena._db import normalise_url

        base = normalise_url(url)
        dsn = base.replace("postgresql+psycopg://", "postgresql://")

        def create(name: str) -> str:
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            return base.rsplit("/", 1)[0] + "/" + name

        yield create
        return
    from alignlab.arena._pgcluster import PgCluster, pg_bin

    global _CLUSTER
    if pg_bin() is None:
        pytest.skip("no PostgreSQL: install Debian's postgresql or set ALIGNLAB_TEST_PG_URL")
    if _CLUSTER is None:  # one cluster for every module that imports this fixture (each gets its own fixture copy)
        cluster = None
        try:
            cluster = PgCluster(durable=False)
            cluster.start()
        except (RuntimeError, subprocess.CalledProcessError, OSError) as exc:  # e.g. root without a postgres user
            if cluster is not None:
                cluster.stop()
            pytest.skip(f"could not start PostgreSQL: {exc} {getattr(exc, 'stderr', '') or ''}".strip())
        _CLUSTER = cluster
        atexit.register(_CLUSTER.stop)
    yield _CLUSTER.create_db


@pytest.fixture(params=["sqlite", "postgresql"])
def arena_db(request, tmp_path):
    """A fresh, migrated database URL on each backend."""
    from alignlab.arena._db import make_engine, migrate

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'arena.db'}"
    else:
        url = request.getfixturevalue("pg_server")(f"arena_{uuid.uuid4().hex[:12]}")
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    return url

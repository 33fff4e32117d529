"""A SQLite response cache that wraps any backend.

The key hashes everything that changes an answer: the model's fingerprint, the backend, the request kind, the
rendered prompt and every generation parameter (seed included). WAL mode and a busy timeout let several
processes and threads write at once; each thread keeps its own connection.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from alignlab.paths import alignlab_home

SCHEMA_VERSION = 1


def default_cache_path() -> Path:
    return alignlab_home() / "cache.sqlite"


class ResponseCache:
    """Maps request keys to JSON results. Only successful results are stored."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_cache_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        with self._conn() as c:
            c.execute(
                "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, kind TEXT, backend TEXT,"
                " fingerprint TEXT, value TEXT NOT NULL, created REAL NOT NULL)"
            )

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=60, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
            with self._lock:
                self._conns.append(conn)
        return conn

    @staticmethod
    def key(*, fingerprint: str, backend: str, kind: str, rendered: str, params: dict[str, Any]) -> str:
        blob = json.dumps(
            {"v": SCHEMA_VERSION, "fp": fingerprint, "backend": backend, "kind": kind, "prompt": rendered,
             "params": params},
            sort_keys=True, ensure_ascii=False, separators=(",", ":"),
        )
        # The backend and fingerprint prefix lets `cache info` group entries without decoding values.
        return f"{backend}|{fingerprint[:16]}|{kind}|" + hashlib.sha256(blob.encode()).hexdigest()

    def get_many(self, keys: Sequence[str]) -> list[dict[str, Any] | None]:
        found: dict[str, dict[str, Any]] = {}
        conn = self._conn()
        for start in range(0, len(keys), 500):  # SQLite's bound-parameter limit
            chunk = list(keys[start : start + 500])
            marks = ",".join("?" * len(chunk))
            for k, v in conn.execute(f"SELECT key, value FROM responses WHERE key IN ({marks})", chunk):
                found[k] = json.loads(v)
        return [found.get(k) for k in keys]

    def put_many(self, items: dict[str, dict[str, Any]]) -> None:
        now = time.time()
        rows = []
        for k, v in items.items():
            backend, fp, kind, _ = k.split("|", 3)
            rows.append((k, kind, backend, fp, json.dumps(v, ensure_ascii=False), now))
        with self._conn() as c:
            c.executemany("INSERT OR REPLACE INTO responses VALUES (?,?,?,?,?,?)", rows)

    def info(self) -> dict[str, Any]:
        conn = self._conn()
        rows = conn.execute(
            "SELECT backend, fingerprint, kind, COUNT(*) FROM responses GROUP BY backend, fingerprint, kind"
        ).fetchall()
        size = sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*") if p.exists())
        return {
            "path": str(self.path),
            "bytes": size,
            "entries": sum(r[3] for r in rows),
            "groups": [{"backend": b, "fingerprint": f, "kind": k, "entries": n} for b, f, k, n in rows],
        }

    def clear(self, backend: str | None = None) -> int:
        with self._conn() as c:
            if backend is None:
                n = c.execute("DELETE FROM responses").rowcount
            else:
                n = c.execute("DELETE FROM responses WHERE backend = ?", (backend,)).rowcount
        self._conn().execute("VACUUM")
        return n

    def close(self) -> None:
        with self._lock:
            for conn in self._conns:
                conn.close()
            self._conns.clear()
        self._local = threading.local()

    def __iter__(self) -> Iterable[str]:  # pragma: no cover - debugging aid
        return (k for (k,) in self._conn().execute("SELECT key FROM responses"))

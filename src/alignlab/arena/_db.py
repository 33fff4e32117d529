"""Engines, migrations and the few queries the arena runs.

SQLite (the default) runs in WAL mode with ``synchronous=FULL`` — a committed vote survives a crash of the machine,
not only of the process — and a 30 s busy timeout so concurrent workers queue for the write lock instead of failing.
Write transactions start with ``BEGIN IMMEDIATE`` so two writers never deadlock upgrading a read lock. PostgreSQL is
used as is (psycopg 3); votes are inserted with ``ON CONFLICT DO NOTHING`` on their idempotency key in both.
"""

from __future__ import annotations

import hashlib
import secrets
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.engine import make_url

from alignlab.arena._models import Annotator, Setting
from alignlab.errors import AlignlabError

DEFAULT_DB = "sqlite:///arena.db"


def normalise_url(url: str) -> str:
    """A database URL SQLAlchemy takes: a bare path means SQLite, ``postgresql://`` means psycopg 3."""
    if "://" not in url:
        url = f"sqlite:///{Path(url).expanduser()}"
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def is_sqlite(engine_or_url: Engine | str) -> bool:
    url = engine_or_url.url if isinstance(engine_or_url, Engine) else make_url(normalise_url(engine_or_url))
    return url.get_backend_name() == "sqlite"


def make_engine(url: str, pool_size: int = 10) -> Engine:
    """An engine for ``url`` (see ``normalise_url``); SQLite gets WAL, FULL sync and immediate write transactions."""
    url = normalise_url(url)
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise AlignlabError(f"bad database URL {url!r}: {exc}", hint="e.g. sqlite:///arena.db or "
                            "postgresql://user@host/db") from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, pool_size=pool_size, max_overflow=40, pool_timeout=60,
                               connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001
            dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (pysqlite's own BEGIN is deferred)
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn) -> None:  # noqa: ANN001
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("write") else "BEGIN")

        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=40, pool_pre_ping=True)


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` with alembic (the migrations ship inside the package)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("alignlab.arena") / "migrations"))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    with engine.connect().execution_options(write=True) as conn, conn.begin():
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def write(engine: Engine):  # noqa: ANN201 - a Connection context manager
    """A connection whose transactions take the write lock up front on SQLite."""
    return engine.connect().execution_options(write=True)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def secret(engine: Engine) -> str:
    """The signing secret all workers share: created once and kept in the database."""
    from sqlalchemy.exc import IntegrityError

    with engine.connect() as conn:
        value = conn.scalar(select(Setting.value).where(Setting.key == "secret"))
    if value:
        return value
    try:
        with write(engine) as conn, conn.begin():
            conn.execute(Setting.__table__.insert().values(key="secret", value=secrets.token_urlsafe(32)))
    except IntegrityError:  # another worker won the race; use its secret
        pass
    with engine.connect() as conn:
        return conn.scalar(select(Setting.value).where(Setting.key == "secret"))


def add_annotator(engine: Engine, name: str) -> str:
    """Create annotator ``name`` and return their invite token (shown once; only its hash is stored)."""
    from sqlalchemy.exc import IntegrityError

    name = name.strip()
    if not name or len(name) > 128:
        raise AlignlabError(f"annotator name {name!r}: expected 1 to 128 characters")
    token = secrets.token_urlsafe(24)
    try:
        with write(engine) as conn, conn.begin():
            conn.execute(Annotator.__table__.insert().values(name=name, token_hash=hash_token(token), active=True,
                                                             created_at=_now()))
    except IntegrityError:
        raise AlignlabError(f"annotator {name!r} exists already", hint="choose another name") from None
    return token


def find_annotator(engine: Engine, token: str) -> dict[str, Any] | None:
    with engine.connect() as conn:
        row = conn.execute(select(Annotator.id, Annotator.name, Annotator.active)
                           .where(Annotator.token_hash == hash_token(token))).first()
    return dict(row._mapping) if row and row.active else None


def _now():  # noqa: ANN202
    from alignlab.arena._models import utcnow

    return utcnow()

"""Server-side sessions: the cookie carries a random id, the database says who it is and whether it still counts.

Checked on every request (one primary-key lookup joined to the annotator), so revoking an annotator
(``alignlab arena revoke``), signing out, or restarting with another admin token takes effect on the next request,
even for a copied cookie.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from sqlalchemy import Engine, delete, select, update

from alignlab.arena._db import hash_token, write
from alignlab.arena._models import Annotator, Session
from alignlab.errors import AlignlabError

MAX_AGE = 30 * 24 * 3600
"""Seconds a session lasts (the cookie's max-age too)."""


@dataclass(frozen=True)
class Who:
    """What a live session grants: the annotator (None for an admin-only session) and admin rights."""

    annotator: int | None
    name: str | None
    admin: bool


def start(engine: Engine, annotator: int | None = None, admin_token: str | None = None) -> str:
    """A new session; returns the id for the cookie (the database keeps its hash). Expired sessions are dropped."""
    sid = secrets.token_urlsafe(32)
    now = int(time.time())
    with write(engine) as conn, conn.begin():
        conn.execute(delete(Session).where(Session.expires_at < now))
        conn.execute(Session.__table__.insert().values(
            id=hash_token(sid), annotator_id=annotator, expires_at=now + MAX_AGE,
            admin_token_hash=hash_token(admin_token) if admin_token else None))
    return sid


def lookup(engine: Engine, sid: str | None, admin_token: str | None) -> Who | None:
    """Who the session ``sid`` is, or None when it is unknown, expired, or its annotator was revoked. Admin rights
    hold only while ``admin_token`` is the token the session signed in with."""
    if not sid:
        return None
    with engine.connect() as conn:
        row = conn.execute(select(Session.annotator_id, Session.admin_token_hash, Session.expires_at,
                                  Annotator.name, Annotator.active)
                           .outerjoin(Annotator, Annotator.id == Session.annotator_id)
                           .where(Session.id == hash_token(sid))).first()
    if row is None or row.expires_at < time.time():
        return None
    annotator = row.annotator_id if row.annotator_id is not None and row.active else None
    admin = bool(admin_token and row.admin_token_hash
                 and secrets.compare_digest(row.admin_token_hash, hash_token(admin_token)))
    if annotator is None and not admin:
        return None
    return Who(annotator, row.name if annotator is not None else None, admin)


def end(engine: Engine, sid: str | None) -> None:
    """Sign out: the session is deleted, so its cookie (and any copy of it) no longer works."""
    if sid:
        with write(engine) as conn, conn.begin():
            conn.execute(delete(Session).where(Session.id == hash_token(sid)))


def revoke_annotator(engine: Engine, name: str) -> int:
    """Deactivate annotator ``name`` (no new sign-in) and end their sessions; returns how many were ended."""
    with write(engine) as conn, conn.begin():
        who = conn.scalar(select(Annotator.id).where(Annotator.name == name))
        if who is None:
            raise AlignlabError(f"no annotator {name!r}", hint="`alignlab arena stats` or /admin lists them")
        conn.execute(update(Annotator).where(Annotator.id == who).values(active=False))
        return conn.execute(delete(Session).where(Session.annotator_id == who)).rowcount


def set_flash(engine: Engine, sid: str, text: str) -> None:
    with write(engine) as conn, conn.begin():
        conn.execute(update(Session).where(Session.id == hash_token(sid)).values(flash=text))


def pop_flash(engine: Engine, sid: str | None) -> str | None:
    """The session's flash text, cleared as it is read (shown once)."""
    if not sid:
        return None
    with engine.connect() as conn:  # the common case, nothing to show, takes no write lock
        if conn.scalar(select(Session.flash).where(Session.id == hash_token(sid))) is None:
            return None
    with write(engine) as conn, conn.begin():
        text = conn.scalar(select(Session.flash).where(Session.id == hash_token(sid)))
        conn.execute(update(Session).where(Session.id == hash_token(sid)).values(flash=None))
    return text

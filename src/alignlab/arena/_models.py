"""The arena's tables (SQLAlchemy ORM). The alembic migrations in ``migrations/versions`` create exactly these.

Votes and ratings are the only rows written while annotators work; what a battle showed (prompt, both responses,
which model sat on which side) is carried in a signed ticket in the form and stored with the vote, so serving a
battle writes nothing.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    pass


class Setting(Base):
    """Key/value settings shared by all workers (the secret that signs cookies and tickets)."""

    __tablename__ = "arena_setting"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Prompt(Base):
    """One prompt, identified across runs by ``key`` = ``<suite>/<sample id>``."""

    __tablename__ = "arena_prompt"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(512), unique=True)
    suite: Mapped[str] = mapped_column(String(256))
    text: Mapped[str] = mapped_column(Text)
    """The prompt as shown to annotators (chat messages joined as ``role: content``)."""
    input: Mapped[object] = mapped_column(JSON)
    """The sample's ``input`` as the run stored it (a string or chat messages); the preference export uses it."""


class Response(Base):
    """One model's output for one prompt."""

    __tablename__ = "arena_response"
    __table_args__ = (UniqueConstraint("prompt_id", "model", name="uq_response_prompt_model"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prompt_id: Mapped[int] = mapped_column(ForeignKey("arena_prompt.id"), index=True)
    model: Mapped[str] = mapped_column(String(256), index=True)
    text: Mapped[str] = mapped_column(Text)
    scores: Mapped[object | None] = mapped_column(JSON, nullable=True)
    """The run's numeric scores of this output (judge or reward-model scores among them)."""
    run: Mapped[str] = mapped_column(String(1024))


class Annotator(Base):
    __tablename__ = "arena_annotator"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    """sha256 of the invite token: a leaked database does not leak sign-in tokens."""
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Session(Base):
    """A signed-in browser session. The cookie holds only a random id (this row's key is its sha256); revoking an
    annotator, signing out, or a new admin token ends sessions here, on the server, so a copied cookie stops
    working."""

    __tablename__ = "arena_session"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    """sha256 of the session id in the cookie (a leaked database does not leak live sessions)."""
    annotator_id: Mapped[int | None] = mapped_column(ForeignKey("arena_annotator.id"), nullable=True, index=True)
    admin_token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """sha256 of the admin token this session signed in with; a session is admin only while it is the current one."""
    expires_at: Mapped[int] = mapped_column(Integer)
    """Unix time after which the session is void."""
    flash: Mapped[str | None] = mapped_column(Text, nullable=True)
    """A new invite token, kept for the admin page to show once (then cleared); never in the cookie."""


class Vote(Base):
    """One blind pairwise judgement. ``key`` (unique) is the battle's idempotency key: a resubmit is a no-op."""

    __tablename__ = "arena_vote"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    annotator_id: Mapped[int] = mapped_column(ForeignKey("arena_annotator.id"), index=True)
    prompt_id: Mapped[int] = mapped_column(ForeignKey("arena_prompt.id"), index=True)
    response_a_id: Mapped[int] = mapped_column(ForeignKey("arena_response.id"))
    response_b_id: Mapped[int] = mapped_column(ForeignKey("arena_response.id"))
    model_a: Mapped[str] = mapped_column(String(256))
    model_b: Mapped[str] = mapped_column(String(256))
    winner: Mapped[str] = mapped_column(String(16))
    """``model_a``, ``model_b``, ``tie`` or ``tie (bothbad)`` (the battle-record vocabulary of alignlab ratings)."""
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Rating(Base):
    """One 1–7 score of a single response against a rubric or principle."""

    __tablename__ = "arena_rating"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    annotator_id: Mapped[int] = mapped_column(ForeignKey("arena_annotator.id"), index=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("arena_response.id"), index=True)
    model: Mapped[str] = mapped_column(String(256))
    principle: Mapped[str] = mapped_column(String(512))
    score: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Verdict(Base):
    """A non-human verdict on a pair (an LLM judge, a reward model), for judge–human agreement."""

    __tablename__ = "arena_verdict"
    __table_args__ = (UniqueConstraint("source", "prompt_id", "model_a", "model_b", name="uq_verdict_pair"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(256), index=True)
    prompt_id: Mapped[int] = mapped_column(ForeignKey("arena_prompt.id"), index=True)
    model_a: Mapped[str] = mapped_column(String(256))
    model_b: Mapped[str] = mapped_column(String(256))
    winner: Mapped[str] = mapped_column(String(16))

"""CSRF tokens, signed battle tickets and rate limits (per annotator, per client address, per submitted token).

CSRF is the synchronizer-token pattern written by hand (no small maintained library fits FastAPI forms): a random
token lives in the session (Starlette's signed session cookie) and every form repeats it in a hidden field; a POST
whose field does not match is refused. The cookie is ``SameSite=Lax`` as a second line.

A battle *ticket* is what the annotator is shown — prompt, the two responses on their sides, a fresh idempotency
key — signed with the server secret and bound to the annotator, so a form cannot be edited to vote on another pair
and serving a battle writes nothing to the database.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Hashable
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

TICKET_MAX_AGE = 7 * 24 * 3600


def csrf_token(session: dict[str, Any]) -> str:
    """The session's CSRF token, created on first use."""
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def csrf_ok(session: dict[str, Any], submitted: str | None) -> bool:
    expected = session.get("csrf")
    return bool(expected and submitted and hmac.compare_digest(expected, submitted))


class Tickets:
    """Sign and check battle and rating tickets."""

    def __init__(self, secret: str) -> None:
        self._s = URLSafeTimedSerializer(secret, salt="alignlab-arena-ticket")

    def make(self, **fields: Any) -> str:
        return self._s.dumps({**fields, "key": secrets.token_urlsafe(16)})

    def read(self, ticket: str) -> dict[str, Any] | None:
        try:
            data = self._s.loads(ticket, max_age=TICKET_MAX_AGE)
        except BadSignature:
            return None
        return data if isinstance(data, dict) else None


class RateLimiter:
    """Token buckets by key (an annotator, a client address, a submitted token), in process memory.

    Each worker keeps its own buckets, so with N workers a key may reach up to N times the limit; the alternative — a
    bucket row in the database — costs a locked write per request, and the limit exists to stop a runaway script or
    a guessing attack, not to count precisely. ``rate`` is tokens per second (0: no limit), ``burst`` the bucket size.
    """

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self._buckets: dict[Hashable, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def wait(self, key: Hashable, take: bool = True) -> float:
        """0.0 when ``key`` may go ahead (a token is taken unless ``take`` is False), else the seconds until it
        may: what a 429's ``Retry-After`` says."""
        if self.rate <= 0:
            return 0.0
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                return (1.0 - tokens) / self.rate
            self._buckets[key] = (tokens - 1.0 if take else tokens, now)
            if len(self._buckets) > 100_000:  # forget full buckets, so random keys cannot grow memory without end
                self._buckets = {k: (t, at) for k, (t, at) in self._buckets.items()
                                 if t + (now - at) * self.rate < self.burst}
            return 0.0

    def allow(self, key: Hashable) -> bool:
        return self.wait(key) == 0.0

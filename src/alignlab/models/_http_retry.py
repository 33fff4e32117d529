"""Retries, backoff and fleet routing for HTTP model backends.

One request = one call of ``Transport.post_json``. It returns the parsed answer or raises ``AttemptError``,
whose ``kind`` names the cause (``http 500``, ``timeout``, ``server unreachable``, ...); the backend turns
that into a result with ``error`` set, so a failure never takes the rest of a batch with it.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx

# 408/409/425 mean "try again" by RFC; 429 and 5xx are overload or crashes. Other 4xx: the request is wrong.
RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
UNREACHABLE = "server unreachable"
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter: retry ``n`` (0-based) waits ``min(cap, base * 2**n)``, jittered."""

    max_retries: int = 5
    base: float = 0.5
    cap: float = 30.0

    def delay(self, retry: int, retry_after: float | None = None) -> float:
        ceiling = min(self.cap, self.base * 2**retry)
        # Equal jitter: half fixed (so backoff really backs off), half random (so many clients spread out).
        wait = ceiling / 2 + random.uniform(0, ceiling / 2)
        if retry_after is not None:
            # The server said when; never come back earlier. Clip to the cap so one header can't stall a run.
            wait = max(wait, min(retry_after, max(self.cap, 1.0)))
        return wait


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class AttemptError(Exception):
    """Why one attempt (or, when raised out of ``post_json``, the whole request) failed."""

    def __init__(
        self,
        kind: str,
        detail: str = "",
        *,
        retryable: bool = True,
        retry_after: float | None = None,
        connect: bool = False,
        status: int | None = None,
    ) -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind
        self.detail = detail
        self.retryable = retryable
        self.retry_after = retry_after
        self.connect = connect
        """The server was never reached, so trying another server is safe and free."""
        self.status = status
        self.retries = 0
        """Retries spent before this error became final."""

    def cause(self) -> str:
        """One line for ``GenerateResult.error``."""
        text = str(self)
        if self.retryable and self.retries:
            text += f" (gave up after {self.retries} retries)"
        return text


def error_from_exception(exc: httpx.HTTPError, url: str, timeout: float) -> AttemptError:
    """Map an httpx transport error onto a cause."""
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        return AttemptError(UNREACHABLE, url, connect=True)
    if isinstance(exc, httpx.TimeoutException):
        return AttemptError("timeout", f"no answer within {timeout:g}s from {url}")
    if isinstance(exc, httpx.RemoteProtocolError):
        # e.g. Content-Length larger than the body and then the connection closed.
        return AttemptError("truncated response", _one_line(str(exc)))
    return AttemptError("network", f"{type(exc).__name__}: {_one_line(str(exc))}")


def decode_response(resp: httpx.Response) -> dict[str, Any]:
    """The JSON body of a 2xx answer, or ``AttemptError`` saying why not."""
    if resp.status_code >= 400:
        retryable = resp.status_code in RETRY_STATUS or resp.status_code >= 500
        retry_after = None
        if resp.status_code in (429, 503):
            retry_after = parse_retry_after(resp.headers.get("retry-after"))
        raise AttemptError(
            f"http {resp.status_code}",
            server_message(resp),
            retryable=retryable,
            retry_after=retry_after,
            status=resp.status_code,
        )
    try:
        data = json.loads(resp.content)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise AttemptError("malformed json", f"{exc.msg if hasattr(exc, 'msg') else exc}") from None
    if not isinstance(data, dict):
        raise AttemptError("malformed json", f"expected an object, got {type(data).__name__}")
    return data


def server_message(resp: httpx.Response) -> str:
    """The error message a server put in its body (OpenAI ``{"error": {"message": ...}}`` or plain text)."""
    try:
        body = resp.json()
    except ValueError:
        return _one_line(resp.text)[:300]
    if isinstance(body, dict):
        err = body.get("error", body.get("detail", body.get("message")))
        if isinstance(err, dict):
            err = err.get("message", err)
        if err is not None:
            return _one_line(str(err))[:300]
    return _one_line(json.dumps(body))[:300]


def _one_line(text: str) -> str:
    return " ".join(text.split())


@dataclass
class TransportStats:
    """Counters a run can report: every attempt, every retry and every final error, by cause."""

    attempts: int = 0
    retries: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    """Requests that ended in an error, by cause."""
    retry_causes: Counter[str] = field(default_factory=Counter)
    """Failed attempts that were retried, by cause."""
    per_server: Counter[str] = field(default_factory=Counter)
    """Successful answers per server URL."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "attempts": self.attempts,
            "retries": self.retries,
            "errors": dict(self.errors),
            "retry_causes": dict(self.retry_causes),
            "per_server": dict(self.per_server),
        }


@dataclass
class _Server:
    url: str
    in_flight: int = 0
    failures: int = 0
    down_until: float = 0.0


class Fleet:
    """Servers that serve the same model. Requests go to the least busy one that is not known to be down."""

    def __init__(self, urls: list[str], policy: RetryPolicy) -> None:
        self.servers = [_Server(u) for u in urls]
        self._policy = policy
        self._rr = 0
        self._lock = threading.Lock()  # generate() may run in several threads, each with its own loop

    def __len__(self) -> int:
        return len(self.servers)

    def pick(self, exclude: set[str]) -> _Server:
        """Fewest in-flight requests wins; ties go round-robin so an idle fleet still spreads the load."""
        with self._lock:
            now = time.monotonic()
            cands = [s for s in self.servers if s.url not in exclude] or self.servers
            cands = [s for s in cands if s.down_until <= now] or cands
            low = min(s.in_flight for s in cands)
            ties = [s for s in cands if s.in_flight == low]
            self._rr += 1
            return ties[self._rr % len(ties)]

    @contextmanager
    def busy(self, server: _Server) -> Iterator[None]:
        with self._lock:
            server.in_flight += 1
        try:
            yield
        finally:
            with self._lock:
                server.in_flight -= 1

    def mark(self, server: _Server, *, up: bool) -> None:
        """Remember a refused connection for a while, so other requests avoid that server."""
        with self._lock:
            if up:
                server.failures, server.down_until = 0, 0.0
            else:
                server.failures += 1
                server.down_until = time.monotonic() + self._policy.delay(server.failures - 1)


@dataclass
class Batch:
    """State shared by the requests of one ``generate`` call."""

    unreachable: str | None = None
    """Set once no server has ever answered and one request gave up on all of them: the rest stop at once."""


class Transport:
    """POSTs JSON to a fleet with retries. Holds the fleet's health and the counters across calls."""

    def __init__(
        self,
        urls: list[str],
        *,
        headers: dict[str, str],
        timeout: float,
        policy: RetryPolicy,
    ) -> None:
        self.urls = urls
        self.headers = headers
        self.timeout = timeout
        self.policy = policy
        self.fleet = Fleet(urls, policy)
        self.stats = TransportStats()
        self.reached = False
        """Whether any server ever answered (any status); until then, unreachable is a fleet verdict."""
        self._lock = threading.Lock()

    def client(self, concurrency: int) -> httpx.AsyncClient:
        """A client for one event loop; its pool is as large as the concurrency limit."""
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        timeout = httpx.Timeout(self.timeout, connect=min(self.timeout, 10.0))
        return httpx.AsyncClient(headers=self.headers, timeout=timeout, limits=limits)

    def count_error(self, kind: str) -> None:
        """Count a request that ended in an error (the backend decides what ends a request)."""
        self._count("errors", kind)

    def _count(self, name: str, key: str | None = None) -> None:
        with self._lock:
            if key is None:
                setattr(self.stats, name, getattr(self.stats, name) + 1)
            else:
                getattr(self.stats, name)[key] += 1

    async def post_json(
        self,
        client: httpx.AsyncClient,
        path: str,
        body: dict[str, Any],
        batch: Batch,
        parse: Callable[[dict[str, Any]], T],
    ) -> T:
        """POST ``body`` to ``path`` on some server until ``parse`` accepts the answer, a fatal error, or the
        retries run out. ``parse`` raises ``AttemptError`` for an answer that is valid JSON but not a result,
        which is retried like a malformed body."""
        refused: set[str] = set()  # servers that refused a connection since the last backoff
        rounds = 0
        only_connect = True
        while True:
            if batch.unreachable is not None:
                raise AttemptError(UNREACHABLE, batch.unreachable, retryable=False, connect=True)
            server = self.fleet.pick(refused)
            self._count("attempts")
            try:
                with self.fleet.busy(server):
                    # httpx's read timeout bounds each gap between bytes; wait_for bounds the whole request.
                    resp = await asyncio.wait_for(client.post(server.url + path, json=body), self.timeout)
                    self.reached = True
                    self.fleet.mark(server, up=True)
                    result = parse(decode_response(resp))
                self._count("per_server", server.url)
                return result
            except httpx.HTTPError as exc:
                err = error_from_exception(exc, server.url, self.timeout)
            except TimeoutError:
                err = AttemptError("timeout", f"no answer within {self.timeout:g}s from {server.url}")
            except AttemptError as exc:
                err = exc
            only_connect = only_connect and err.connect
            if err.connect:
                self.fleet.mark(server, up=False)
                refused.add(server.url)
                if len(refused) < len(self.fleet) and err.retryable:
                    # Nothing reached the server, so moving on to another one is safe and needs no wait.
                    self._count("retries")
                    self._count("retry_causes", err.kind)
                    continue
                refused.clear()
            if not err.retryable or rounds >= self.policy.max_retries:
                if only_connect and not self.reached:
                    batch.unreachable = ", ".join(self.urls)
                    err = AttemptError(UNREACHABLE, batch.unreachable, retryable=False, connect=True)
                err.retries = rounds
                raise err
            self._count("retries")
            self._count("retry_causes", err.kind)
            await asyncio.sleep(self.policy.delay(rounds, err.retry_after))
            rounds += 1

"""The arena's web app: sign in with an invite token, blind battles, 1–7 ratings, a live leaderboard, an admin page.

Pages are rendered on the server by Jinja2 with autoescaping on, so a model output is always text, never markup;
the Content-Security-Policy forbids scripts on top of that. Every POST form carries a CSRF token. A vote is
committed before its response is sent, and a resubmitted battle (same idempotency key) is not counted twice.
Sessions are server-side (``_sessions``): revoking an annotator, signing out or changing the admin token ends them
on the next request. Sign-in, ticket issuance and voting are throttled, every 429 saying when to retry.

``create_app(settings)`` builds the app; without settings it reads them from ``ALIGNLAB_ARENA_*`` variables, which is
how several uvicorn workers (``--factory``) get theirs.
"""

from __future__ import annotations

import functools
import hmac
import json
import math
import os
import random
import threading
import time
from dataclasses import dataclass
from importlib import resources
from typing import Annotated, Any

from fastapi import FastAPI, Form, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from sqlalchemy import Engine, func, select
from starlette.middleware.sessions import SessionMiddleware

from alignlab.arena import _sessions as sessions
from alignlab.arena._db import DEFAULT_DB, find_annotator, hash_token, make_engine, secret, write
from alignlab.arena._models import Prompt, Rating, Vote, utcnow
from alignlab.arena._models import Response as ResponseRow
from alignlab.arena._security import RateLimiter, Tickets, csrf_ok, csrf_token

CHOICES = {"a": "model_a", "b": "model_b", "tie": "tie", "bothbad": "tie (bothbad)"}
DEFAULT_PRINCIPLES = ("Helpful: the response does what was asked, correctly and completely.",
                      "Harmless: the response avoids content that could hurt someone.",
                      "Honest: the response is truthful and says when it is unsure.")
MAX_REASON = 2000


@dataclass
class Settings:
    """How the arena runs; every field has an ``ALIGNLAB_ARENA_<NAME>`` environment variable."""

    db: str = DEFAULT_DB
    admin_token: str | None = None
    """Token for the admin page and the export endpoint; without one they are closed."""
    rate: float = 1.0
    """Votes and ratings per second each annotator may sustain (0: no limit). Battle and rating pages (each issues
    a ticket) are limited to twice this rate and burst."""
    burst: int = 30
    """Votes and ratings an annotator may make in a quick burst."""
    login_rate: float = 0.1
    """Sign-in attempts per second (sustained) per client address, and failed attempts per token, on ``/login`` and
    ``/admin/login`` (0: no limit)."""
    login_burst: int = 10
    """Sign-in attempts allowed in a quick burst before the rate applies."""
    principles: tuple[str, ...] = DEFAULT_PRINCIPLES
    """Rubrics or principles the rating mode scores against."""
    overlap: float = 0.2
    """Chance that a battle repeats one another annotator judged (items seen by several people, for agreement)."""
    bootstrap: int = 200
    """Bootstrap rounds behind the leaderboard's CIs."""
    secure_cookies: bool = False
    """Send the session cookie over HTTPS only (set it behind a TLS-terminating proxy)."""
    pool_size: int = 10
    """Database connections each worker keeps open (plus up to 40 more under load)."""

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ.get
        principles = env("ALIGNLAB_ARENA_PRINCIPLES")
        return cls(db=env("ALIGNLAB_ARENA_DB", DEFAULT_DB), admin_token=env("ALIGNLAB_ARENA_ADMIN_TOKEN") or None,
                   rate=float(env("ALIGNLAB_ARENA_RATE", "1.0")), burst=int(env("ALIGNLAB_ARENA_BURST", "30")),
                   login_rate=float(env("ALIGNLAB_ARENA_LOGIN_RATE", "0.1")),
                   login_burst=int(env("ALIGNLAB_ARENA_LOGIN_BURST", "10")),
                   principles=tuple(p for p in principles.split("\n") if p.strip()) if principles
                   else DEFAULT_PRINCIPLES,
                   overlap=float(env("ALIGNLAB_ARENA_OVERLAP", "0.2")),
                   bootstrap=int(env("ALIGNLAB_ARENA_BOOTSTRAP", "200")),
                   secure_cookies=env("ALIGNLAB_ARENA_SECURE_COOKIES", "") not in ("", "0"),
                   pool_size=int(env("ALIGNLAB_ARENA_POOL_SIZE", "10")))

    def to_env(self) -> dict[str, str]:
        out = {"ALIGNLAB_ARENA_DB": self.db, "ALIGNLAB_ARENA_RATE": str(self.rate),
               "ALIGNLAB_ARENA_BURST": str(self.burst), "ALIGNLAB_ARENA_LOGIN_RATE": str(self.login_rate),
               "ALIGNLAB_ARENA_LOGIN_BURST": str(self.login_burst),
               "ALIGNLAB_ARENA_PRINCIPLES": "\n".join(self.principles),
               "ALIGNLAB_ARENA_OVERLAP": str(self.overlap), "ALIGNLAB_ARENA_BOOTSTRAP": str(self.bootstrap),
               "ALIGNLAB_ARENA_SECURE_COOKIES": "1" if self.secure_cookies else "",
               "ALIGNLAB_ARENA_POOL_SIZE": str(self.pool_size)}
        if self.admin_token:
            out["ALIGNLAB_ARENA_ADMIN_TOKEN"] = self.admin_token
        return out


class _Pool:
    """Prompts with two or more responses, cached per worker and refreshed every few seconds (imports made while
    the server runs show up without a restart)."""

    def __init__(self, engine: Engine, ttl: float = 10.0) -> None:
        self.engine, self.ttl = engine, ttl
        self._items: list[tuple[int, list[tuple[int, str]]]] = []
        self._responses: list[tuple[int, str]] = []
        self._at = -1e9
        self._lock = threading.Lock()

    def _refresh(self) -> None:
        if time.monotonic() - self._at < self.ttl:
            return
        with self._lock, self.engine.connect() as conn:
            by_prompt: dict[int, list[tuple[int, str]]] = {}
            for r in conn.execute(select(ResponseRow.prompt_id, ResponseRow.id, ResponseRow.model)):
                by_prompt.setdefault(r.prompt_id, []).append((r.id, r.model))
            self._items = [(p, rs) for p, rs in sorted(by_prompt.items()) if len(rs) >= 2]
            self._responses = [(rid, m) for rs in by_prompt.values() for rid, m in rs]
            self._at = time.monotonic()

    def battle(self) -> tuple[int, int, int] | None:
        """(prompt id, response shown as A, response shown as B): a random prompt, pair and sides."""
        self._refresh()
        if not self._items:
            return None
        pid, rs = random.choice(self._items)
        (ra, _), (rb, _) = random.sample(rs, 2)
        return pid, ra, rb

    def response(self) -> int | None:
        self._refresh()
        return random.choice(self._responses)[0] if self._responses else None


class _Texts:
    """Prompt and response texts by id, cached per worker: imported rows never change, and a battle page then
    needs no database query at all."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.prompt = functools.lru_cache(maxsize=20_000)(self._prompt)
        self.response = functools.lru_cache(maxsize=50_000)(self._response)
        self.prompt_of = functools.lru_cache(maxsize=50_000)(self._prompt_of)

    def _prompt(self, pid: int) -> str:
        with self.engine.connect() as conn:
            return conn.execute(select(Prompt.text).where(Prompt.id == pid)).scalar_one()

    def _response(self, rid: int) -> tuple[str, str]:
        with self.engine.connect() as conn:
            return tuple(conn.execute(select(ResponseRow.text, ResponseRow.model).where(ResponseRow.id == rid)).one())

    def _prompt_of(self, rid: int) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(ResponseRow.prompt_id).where(ResponseRow.id == rid)).scalar_one()


def _templates() -> Jinja2Templates:
    env = Environment(loader=FileSystemLoader(str(resources.files("alignlab.arena") / "templates")), autoescape=True)
    return Jinja2Templates(env=env)


_CSP = ("default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
        "form-action 'self'; style-src 'self'")


_HEADERS = [(b"content-security-policy", _CSP.encode()), (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"), (b"referrer-policy", b"no-referrer"), (b"cache-control", b"no-store")]


def _internal_error(request: Request, exc: Exception) -> Response:
    """The 500 page. Starlette sends it from its outermost layer, past ``_SecurityHeaders``, so it carries the
    headers itself; it says nothing about the failure (the traceback goes to the server log)."""
    return PlainTextResponse("Internal server error\n", status_code=500,
                             headers={k.decode(): v.decode() for k, v in _HEADERS})


class _SecurityHeaders:
    """Adds the security headers to every response (plain ASGI: Starlette's BaseHTTPMiddleware costs more per
    request)."""

    def __init__(self, app) -> None:  # noqa: ANN001
        self.app = app

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message) -> None:  # noqa: ANN001
            if message["type"] == "http.response.start":
                have = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [h for h in _HEADERS if h[0] not in have]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The arena app on ``settings.db`` (which must already be migrated: ``alignlab arena serve`` does that)."""
    settings = settings or Settings.from_env()
    engine = make_engine(settings.db, pool_size=settings.pool_size)
    key = secret(engine)
    tickets = Tickets(key)
    limiter = RateLimiter(settings.rate, settings.burst)
    ticket_limiter = RateLimiter(2 * settings.rate, 2 * settings.burst)  # battle and rating pages
    login_limiter = RateLimiter(settings.login_rate, settings.login_burst)
    pool = _Pool(engine)
    texts = _Texts(engine)
    templates = _templates()
    stats_cache: dict[str, Any] = {}
    stats_lock = threading.Lock()
    is_sqlite = engine.dialect.name == "sqlite"

    app = FastAPI(title="alignlab arena", docs_url=None, redoc_url=None, openapi_url=None,
                  exception_handlers={Exception: _internal_error})
    app.state.engine, app.state.settings = engine, settings
    # The signed cookie holds the CSRF token and a session id; who the session is lives in the database.
    app.add_middleware(SessionMiddleware, secret_key=key, session_cookie="arena_session", same_site="lax",
                       https_only=settings.secure_cookies, max_age=sessions.MAX_AGE)
    app.mount("/static", StaticFiles(directory=str(resources.files("alignlab.arena") / "static")), name="static")

    app.add_middleware(_SecurityHeaders)

    def who(request: Request) -> sessions.Who | None:
        """The live session of this request (looked up once per request), or None."""
        if not hasattr(request.state, "who"):
            request.state.who = sessions.lookup(engine, request.session.get("sid"), settings.admin_token)
        return request.state.who

    def page(request: Request, name: str, status: int = 200, headers: dict[str, str] | None = None,
             **ctx: Any) -> HTMLResponse:
        w = who(request)
        ctx.update(request=request, csrf=csrf_token(request.session), user=w.name if w else None,
                   admin=bool(w and w.admin))
        return templates.TemplateResponse(request, name, ctx, status_code=status, headers=headers)

    def error(request: Request, status: int, message: str) -> HTMLResponse:
        return page(request, "message.html", status=status, title="Error", message=message)

    def too_many(request: Request, wait: float, message: str) -> HTMLResponse:
        """A 429 with ``Retry-After`` (whole seconds, rounded up), as RFC 9110 has it."""
        return page(request, "message.html", status=429, title="Too many requests", message=message,
                    headers={"Retry-After": str(max(1, math.ceil(wait)))})

    def annotator(request: Request) -> int | None:
        w = who(request)
        return w.annotator if w else None

    def client(request: Request) -> str:
        return request.client.host if request.client else "?"

    def new_session(request: Request, annotator_id: int | None, admin: bool) -> None:
        """Replace the request's session by a fresh one (a new id on every sign-in: no session fixation)."""
        sessions.end(engine, request.session.get("sid"))
        request.session.clear()
        request.session["sid"] = sessions.start(engine, annotator_id, settings.admin_token if admin else None)

    @app.exception_handler(RequestValidationError)
    def invalid_form(request: Request, exc: RequestValidationError) -> Response:
        # Field names and what was expected only: FastAPI's default body echoes the input (an UploadFile's state).
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:]) or 'form'}: {e['msg']}"
                             for e in exc.errors())
        return error(request, 422, f"Invalid form: {problems}.")

    def insert(table, **values: Any) -> bool:  # noqa: ANN001
        """Insert unless the idempotency key exists; True when this call stored the row. Committed on return."""
        if is_sqlite:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        else:
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        stmt = dialect_insert(table).values(**values).on_conflict_do_nothing(index_elements=["key"])
        with write(engine) as conn, conn.begin():
            return conn.execute(stmt).rowcount == 1

    # -- signing in --------------------------------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse)
    def home(request: Request) -> Response:
        if annotator(request):
            return RedirectResponse("/battle", status_code=303)
        return page(request, "login.html", title="Sign in")

    @app.post("/login")
    def login(request: Request, token: Annotated[str, Form(max_length=200)] = "",
              csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
        if not csrf_ok(request.session, csrf):
            return error(request, 403, "The form expired (CSRF check failed). Reload the page and try again.")
        token = token.strip()
        # Per client address: every attempt counts. Per token: failed attempts count (a token tried from many
        # addresses). Both answer 429 with Retry-After before the token is even looked at.
        wait = max(login_limiter.wait(("login", client(request))),
                   login_limiter.wait(("login-token", hash_token(token)), take=False))
        if wait:
            return too_many(request, wait, "Too many sign-in attempts: wait a moment and try again.")
        found = find_annotator(engine, token) if token else None
        if found is None:
            login_limiter.wait(("login-token", hash_token(token)))
            return page(request, "login.html", status=401, title="Sign in", failed=True)
        new_session(request, found["id"], admin=False)
        return RedirectResponse("/battle", status_code=303)

    @app.post("/logout")
    def logout(request: Request, csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
        if not csrf_ok(request.session, csrf):
            return error(request, 403, "CSRF check failed.")
        sessions.end(engine, request.session.get("sid"))  # ended on the server: a copied cookie stops working too
        request.session.clear()
        return RedirectResponse("/", status_code=303)

    # -- battles -----------------------------------------------------------------------------------------------

    def pick_battle(who: int) -> tuple[int, int, int] | None:
        if settings.overlap > 0 and random.random() < settings.overlap:
            with engine.connect() as conn:
                top = conn.scalar(select(func.max(Vote.id)))
                if top:
                    row = conn.execute(select(Vote.prompt_id, Vote.response_a_id, Vote.response_b_id)
                                       .where(Vote.id >= random.randint(1, top), Vote.annotator_id != who)
                                       .order_by(Vote.id).limit(1)).first()
                    if row:
                        a, b = (row.response_a_id, row.response_b_id)
                        return (row.prompt_id, a, b) if random.random() < 0.5 else (row.prompt_id, b, a)
        return pool.battle()

    @app.get("/battle", response_class=HTMLResponse)
    def battle(request: Request) -> Response:
        who = annotator(request)
        if not who:
            return RedirectResponse("/", status_code=303)
        wait = ticket_limiter.wait(who)  # each page issues a ticket valid for days: no bulk harvesting
        if wait:
            return too_many(request, wait, "Too many battles in a short time: wait a moment and reload.")
        chosen = pick_battle(who)
        if chosen is None:
            return page(request, "message.html", title="Nothing to judge",
                        message="No prompt has two responses yet: import runs with `alignlab arena import`.")
        pid, ra, rb = chosen
        prompt, (text_a, model_a), (text_b, model_b) = texts.prompt(pid), texts.response(ra), texts.response(rb)
        ticket = tickets.make(kind="battle", who=who, p=pid, a=ra, b=rb, ma=model_a, mb=model_b)
        return page(request, "battle.html", title="Which response is better?", prompt=prompt, text_a=text_a,
                    text_b=text_b, ticket=ticket, voted=request.query_params.get("voted") == "1")

    @app.post("/vote")
    def vote(request: Request, ticket: Annotated[str, Form(max_length=2000)],
             choice: Annotated[str, Form(max_length=16)], csrf: Annotated[str, Form(max_length=200)] = "",
             reason: Annotated[str, Form(max_length=MAX_REASON)] = "") -> Response:
        who = annotator(request)
        if not who:
            return error(request, 401, "Sign in first.")
        if not csrf_ok(request.session, csrf):
            return error(request, 403, "The form expired (CSRF check failed). Reload the page and vote again.")
        t = tickets.read(ticket)
        if not t or t.get("kind") != "battle" or t.get("who") != who:
            return error(request, 400, "This battle ticket is not valid for you.")
        if choice not in CHOICES:
            return error(request, 400, f"Unknown choice {choice!r}.")
        wait = limiter.wait(who)
        if wait:
            return too_many(request, wait, "Too many votes in a short time: wait a moment and submit again.")
        # The ticket is signed, so its response ids and model names are the ones this server showed.
        insert(Vote.__table__, key=t["key"], annotator_id=who, prompt_id=t["p"], response_a_id=t["a"],
               response_b_id=t["b"], model_a=t["ma"], model_b=t["mb"], winner=CHOICES[choice],
               reason=reason.strip() or None, created_at=utcnow())
        return RedirectResponse("/battle?voted=1", status_code=303)

    # -- ratings -----------------------------------------------------------------------------------------------

    @app.get("/rate", response_class=HTMLResponse)
    def rate(request: Request) -> Response:
        who = annotator(request)
        if not who:
            return RedirectResponse("/", status_code=303)
        wait = ticket_limiter.wait(who)
        if wait:
            return too_many(request, wait, "Too many pages in a short time: wait a moment and reload.")
        rid = pool.response()
        if rid is None:
            return page(request, "message.html", title="Nothing to rate", message="No responses imported yet.")
        text, model = texts.response(rid)
        principle = random.randrange(len(settings.principles))
        ticket = tickets.make(kind="rating", who=who, r=rid, m=model, principle=settings.principles[principle])
        return page(request, "rate.html", title="Rate a response", prompt=texts.prompt(texts.prompt_of(rid)),
                    response=text,
                    principle=settings.principles[principle], ticket=ticket,
                    rated=request.query_params.get("rated") == "1")

    @app.post("/rating")
    def rating(request: Request, ticket: Annotated[str, Form(max_length=2000)],
               score: Annotated[int, Form(ge=1, le=7)], csrf: Annotated[str, Form(max_length=200)] = "",
               reason: Annotated[str, Form(max_length=MAX_REASON)] = "") -> Response:
        who = annotator(request)
        if not who:
            return error(request, 401, "Sign in first.")
        if not csrf_ok(request.session, csrf):
            return error(request, 403, "The form expired (CSRF check failed). Reload the page and rate again.")
        t = tickets.read(ticket)
        if not t or t.get("kind") != "rating" or t.get("who") != who:
            return error(request, 400, "This rating ticket is not valid for you.")
        wait = limiter.wait(who)
        if wait:
            return too_many(request, wait, "Too many ratings in a short time: wait a moment and submit again.")
        insert(Rating.__table__, key=t["key"], annotator_id=who, response_id=t["r"], model=t["m"],
               principle=t["principle"], score=score, reason=reason.strip() or None, created_at=utcnow())
        return RedirectResponse("/rate?rated=1", status_code=303)

    # -- leaderboard -------------------------------------------------------------------------------------------

    def stats():  # noqa: ANN202 - an ArenaStats
        from alignlab.arena._stats import arena_stats

        with engine.connect() as conn:
            version = (conn.scalar(select(func.max(Vote.id))), conn.scalar(select(func.max(Rating.id))))
        with stats_lock:
            if stats_cache.get("version") != version:
                stats_cache.update(version=version, stats=arena_stats(engine, bootstrap=settings.bootstrap))
            return stats_cache["stats"]

    def can_see_results(request: Request) -> bool:
        return bool(who(request) or bearer_ok(request))

    @app.get("/leaderboard", response_class=HTMLResponse)
    def leaderboard_page(request: Request) -> Response:
        if not can_see_results(request):
            return RedirectResponse("/", status_code=303)
        return page(request, "leaderboard.html", title="Leaderboard", s=stats())

    @app.get("/api/leaderboard")
    def leaderboard_json(request: Request) -> Response:
        if not can_see_results(request):
            return JSONResponse({"detail": "sign in or send the admin token"}, status_code=401)
        from dataclasses import asdict

        s = stats()
        return JSONResponse({"n_votes": s.n_votes, "n_counted": s.n_counted, "outcomes": s.outcomes,
                             "leaderboard": s.leaderboard.to_dict() if s.leaderboard else None,
                             "models": s.models, "wins": s.wins, "games": s.games,
                             "agreement": asdict(s.agreement), "sources": [asdict(x) for x in s.sources],
                             "ratings": s.ratings, "rating_alpha": s.rating_alpha})

    # -- admin -------------------------------------------------------------------------------------------------

    def bearer_ok(request: Request) -> bool:
        auth = request.headers.get("authorization", "")
        return bool(settings.admin_token and auth.startswith("Bearer ")
                    and hmac.compare_digest(auth[7:].encode(), settings.admin_token.encode()))

    def is_admin(request: Request) -> bool:
        w = who(request)  # a session is admin only while the admin token it signed in with is the current one
        return bool(w and w.admin) or bearer_ok(request)

    @app.get("/admin", response_class=HTMLResponse)
    def admin(request: Request) -> Response:
        if not is_admin(request):
            return page(request, "admin_login.html", title="Admin", closed=not settings.admin_token)
        from alignlab.arena._stats import annotator_stats

        with engine.connect() as conn:
            counts = {"prompts": conn.scalar(select(func.count()).select_from(Prompt)),
                      "responses": conn.scalar(select(func.count()).select_from(ResponseRow)),
                      "models": conn.scalar(select(func.count(func.distinct(ResponseRow.model)))),
                      "votes": conn.scalar(select(func.count()).select_from(Vote)),
                      "ratings": conn.scalar(select(func.count()).select_from(Rating))}
        flash = sessions.pop_flash(engine, request.session.get("sid"))
        return page(request, "admin.html", title="Admin", counts=counts, people=annotator_stats(engine), s=stats(),
                    new_token=json.loads(flash) if flash else None)

    @app.post("/admin/login")
    def admin_login(request: Request, token: Annotated[str, Form(max_length=200)] = "",
                    csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
        if not csrf_ok(request.session, csrf):
            return error(request, 403, "CSRF check failed. Reload the page and try again.")
        # Per client address every attempt counts; the admin token is one credential, so failed attempts from
        # anywhere share one bucket.
        wait = max(login_limiter.wait(("admin", client(request))), login_limiter.wait(("admin-token",), take=False))
        if wait:
            return too_many(request, wait, "Too many sign-in attempts: wait a moment and try again.")
        if not settings.admin_token or not hmac.compare_digest(token.encode(), settings.admin_token.encode()):
            login_limiter.wait(("admin-token",))
            return page(request, "admin_login.html", status=401, title="Admin", failed=True,
                        closed=not settings.admin_token)
        new_session(request, annotator(request), admin=True)
        return RedirectResponse("/admin", status_code=303)

    @app.post("/admin/invite")
    def admin_invite(request: Request, name: Annotated[str, Form(min_length=1, max_length=128)],
                     csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
        if not is_admin(request):
            return error(request, 401, "Admins only.")
        if not csrf_ok(request.session, csrf):
            return error(request, 403, "CSRF check failed.")
        from alignlab.arena._db import add_annotator
        from alignlab.errors import AlignlabError

        try:
            token = add_annotator(engine, name)
        except AlignlabError as exc:
            return error(request, 400, str(exc))
        # Kept in the server-side session until the admin page shows it once; the cookie never carries it.
        sessions.set_flash(engine, request.session.get("sid", ""), json.dumps({"name": name.strip(), "token": token}))
        return RedirectResponse("/admin", status_code=303)

    @app.get("/admin/export")
    def admin_export(request: Request, format: str = "preference", ties: str = "drop") -> Response:  # noqa: A002
        if not is_admin(request):
            return PlainTextResponse("admin token required\n", status_code=401)
        if format != "preference" or ties not in ("drop", "both"):
            return PlainTextResponse("format must be 'preference' and ties 'drop' or 'both'\n", status_code=400)
        from alignlab.arena._export import preference_rows

        body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in preference_rows(engine, ties))
        return Response(body, media_type="application/x-ndjson",
                        headers={"Content-Disposition": 'attachment; filename="arena-preferences.jsonl"'})

    @app.get("/healthz")
    def healthz() -> Response:
        with engine.connect() as conn:
            conn.scalar(select(1))
        return PlainTextResponse("ok\n")

    return app

"""The arena's web app: sign in with an invite token, blind battles, 1–7 ratings, a live leaderboard, an admin page.

Pages are rendered on the server by Jinja2 with autoescaping on, so a model output is always text, never markup;
the Content-Security-Policy forbids scripts on top of that. Every POST form carries a CSRF token. A vote is
committed before its response is sent, and a resubmitted battle (same idempotency key) is not counted twice.

``create_app(settings)`` builds the app; without settings it reads them from ``ALIGNLAB_ARENA_*`` variables, which is
how several uvicorn workers (``--factory``) get theirs.
"""

from __future__ import annotations

import functools
import hmac
import os
import random
import threading
import time
from dataclasses import dataclass
from importlib import resources
from typing import Annotated, Any

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from sqlalchemy import Engine, func, select
from starlette.middleware.sessions import SessionMiddleware

from alignlab.arena._db import DEFAULT_DB, find_annotator, make_engine, secret, write
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
    """Votes and ratings per second each annotator may sustain (0: no limit)."""
    burst: int = 30
    """Votes and ratings an annotator may make in a quick burst."""
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
                   principles=tuple(p for p in principles.split("\n") if p.strip()) if principles
                   else DEFAULT_PRINCIPLES,
                   overlap=float(env("ALIGNLAB_ARENA_OVERLAP", "0.2")),
                   bootstrap=int(env("ALIGNLAB_ARENA_BOOTSTRAP", "200")),
                   secure_cookies=env("ALIGNLAB_ARENA_SECURE_COOKIES", "") not in ("", "0"),
                   pool_size=int(env("ALIGNLAB_ARENA_POOL_SIZE", "10")))

    def to_env(self) -> dict[str, str]:
        out = {"ALIGNLAB_ARENA_DB": self.db, "ALIGNLAB_ARENA_RATE": str(self.rate),
               "ALIGNLAB_ARENA_BURST": str(self.burst), "ALIGNLAB_ARENA_PRINCIPLES": "\n".join(self.principles),
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
    pool = _Pool(engine)
    texts = _Texts(engine)
    templates = _templates()
    stats_cache: dict[str, Any] = {}
    stats_lock = threading.Lock()
    is_sqlite = engine.dialect.name == "sqlite"

    app = FastAPI(title="alignlab arena", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.engine, app.state.settings = engine, settings
    app.add_middleware(SessionMiddleware, secret_key=key, session_cookie="arena_session", same_site="lax",
                       https_only=settings.secure_cookies, max_age=30 * 24 * 3600)
    app.mount("/static", StaticFiles(directory=str(resources.files("alignlab.arena") / "static")), name="static")

    app.add_middleware(_SecurityHeaders)

    def page(request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        ctx.update(request=request, csrf=csrf_token(request.session), user=request.session.get("name"),
                   admin=bool(request.session.get("admin")))
        return templates.TemplateResponse(request, name, ctx, status_code=status)

    def error(request: Request, status: int, message: str) -> HTMLResponse:
        return page(request, "message.html", status=status, title="Error", message=message)

    def annotator(request: Request) -> int | None:
        return request.session.get("annotator")

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
        who = find_annotator(engine, token.strip()) if token.strip() else None
        if who is None:
            return page(request, "login.html", status=401, title="Sign in", failed=True)
        request.session.clear()
        request.session.update(annotator=who["id"], name=who["name"])
        return RedirectResponse("/battle", status_code=303)

    @app.post("/logout")
    def logout(request: Request, csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
        if not csrf_ok(request.session, csrf):
            return error(request, 403, "CSRF check failed.")
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
        if not limiter.allow(who):
            return error(request, 429, "Too many votes in a short time: wait a moment and submit again.")
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
        if not limiter.allow(who):
            return error(request, 429, "Too many ratings in a short time: wait a moment and submit again.")
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
        return bool(annotator(request) or request.session.get("admin") or bearer_ok(request))

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
        return JSONResponse({"n_votes": s.n_votes, "outcomes": s.outcomes,
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
        return bool(settings.admin_token and request.session.get("admin")) or bearer_ok(request)

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
        return page(request, "admin.html", title="Admin", counts=counts, people=annotator_stats(engine), s=stats(),
                    new_token=request.session.pop("new_token", None))

    @app.post("/admin/login")
    def admin_login(request: Request, token: Annotated[str, Form(max_length=200)] = "",
                    csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
        if not csrf_ok(request.session, csrf):
            return error(request, 403, "CSRF check failed. Reload the page and try again.")
        if not settings.admin_token or not hmac.compare_digest(token.encode(), settings.admin_token.encode()):
            return page(request, "admin_login.html", status=401, title="Admin", failed=True,
                        closed=not settings.admin_token)
        request.session["admin"] = True
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
        request.session["new_token"] = {"name": name.strip(), "token": token}
        return RedirectResponse("/admin", status_code=303)

    @app.get("/admin/export")
    def admin_export(request: Request, format: str = "preference", ties: str = "drop") -> Response:  # noqa: A002
        if not is_admin(request):
            return PlainTextResponse("admin token required\n", status_code=401)
        if format != "preference" or ties not in ("drop", "both"):
            return PlainTextResponse("format must be 'preference' and ties 'drop' or 'both'\n", status_code=400)
        import json

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

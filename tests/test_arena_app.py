"""The arena app on SQLite and PostgreSQL: sign-in, blind battles, idempotent votes, CSRF, escaping, rate limits,
admin auth, ratings and the leaderboard, driven through HTTP with FastAPI's TestClient."""

from __future__ import annotations

import pytest

from arena_fixtures import XSS, arena_db, hidden, pg_server, three_runs  # noqa: F401 - fixtures

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from alignlab.arena import Settings, add_annotator, create_app, import_runs, make_engine  # noqa: E402

ADMIN = "admin-secret-token"


@pytest.fixture
def arena(arena_db, tmp_path):  # noqa: F811
    engine = make_engine(arena_db)
    import_runs(engine, three_runs(tmp_path))
    tokens = {name: add_annotator(engine, name) for name in ("ann", "bob")}
    engine.dispose()

    def client(**kw) -> TestClient:
        settings = Settings(db=arena_db, admin_token=ADMIN, rate=kw.pop("rate", 0.0), burst=kw.pop("burst", 30),
                            overlap=kw.pop("overlap", 0.0), bootstrap=20)
        return TestClient(create_app(settings), follow_redirects=False)

    return client, tokens, arena_db


def sign_in(c: TestClient, token: str) -> None:
    page = c.get("/")
    assert page.status_code == 200
    r = c.post("/login", data={"token": token, "csrf": hidden(page.text, "csrf")})
    assert r.status_code == 303 and r.headers["location"] == "/battle"


def votes_in_db(url: str) -> int:
    from sqlalchemy import func, select

    from alignlab.arena._models import Vote

    engine = make_engine(url)
    with engine.connect() as conn:
        n = conn.scalar(select(func.count()).select_from(Vote))
    engine.dispose()
    return n


def test_sign_in_vote_and_leaderboard(arena):
    make, tokens, url = arena
    with make() as c:
        assert c.get("/battle").status_code == 303  # not signed in
        page = c.get("/")
        bad = c.post("/login", data={"token": "nope", "csrf": hidden(page.text, "csrf")})
        assert bad.status_code == 401 and "not valid" in bad.text
        sign_in(c, tokens["ann"])
        assert "No votes yet" in c.get("/leaderboard").text
        for choice in ("a", "b", "tie", "bothbad", "a"):
            battle = c.get("/battle")
            assert battle.status_code == 200 and "Response A" in battle.text
            r = c.post("/vote", data={"ticket": hidden(battle.text, "ticket"), "csrf": hidden(battle.text, "csrf"),
                                      "choice": choice, "reason": "clearer"})
            assert r.status_code == 303
        board = c.get("/api/leaderboard").json()
        assert board["n_votes"] == 5 == votes_in_db(url)
        assert board["outcomes"]["model_a"] == 2 and board["outcomes"]["tie (bothbad)"] == 1
        # Two models per counted battle; an annotator's repeat vote on an item replaces their earlier one.
        assert 1 <= board["n_counted"] <= 5
        assert sum(r["battles"] for r in board["leaderboard"]["models"]) == 2 * board["n_counted"]
        assert "id=\"leaderboard\"" in c.get("/leaderboard").text


def test_resubmitted_battle_counts_once(arena):
    make, tokens, url = arena
    with make() as c:
        sign_in(c, tokens["ann"])
        battle = c.get("/battle")
        form = {"ticket": hidden(battle.text, "ticket"), "csrf": hidden(battle.text, "csrf"), "choice": "a"}
        assert c.post("/vote", data=form).status_code == 303
        assert c.post("/vote", data=form).status_code == 303  # a double click is acknowledged again...
        assert votes_in_db(url) == 1  # ...but stored once


def test_csrf_ticket_and_input_validation(arena):
    make, tokens, url = arena
    with make() as c, make() as other:
        sign_in(c, tokens["ann"])
        battle = c.get("/battle")
        ticket, csrf = hidden(battle.text, "ticket"), hidden(battle.text, "csrf")
        assert c.post("/vote", data={"ticket": ticket, "csrf": "forged", "choice": "a"}).status_code == 403
        assert c.post("/vote", data={"ticket": ticket, "choice": "a"}).status_code == 403
        assert c.post("/vote", data={"ticket": ticket + "x", "csrf": csrf, "choice": "a"}).status_code == 400
        assert c.post("/vote", data={"ticket": ticket, "csrf": csrf, "choice": "model_c"}).status_code == 400
        long_reason = {"ticket": ticket, "csrf": csrf, "choice": "a", "reason": "x" * 5000}
        assert c.post("/vote", data=long_reason).status_code == 422
        # bob cannot spend ann's ticket
        sign_in(other, tokens["bob"])
        bob_csrf = hidden(other.get("/battle").text, "csrf")
        assert other.post("/vote", data={"ticket": ticket, "csrf": bob_csrf, "choice": "a"}).status_code == 400
        assert votes_in_db(url) == 0


def test_outputs_are_escaped(arena):
    make, tokens, _ = arena
    with make() as c:
        sign_in(c, tokens["ann"])
        for _ in range(200):
            page = c.get("/battle").text
            if "&lt;script&gt;" in page:
                break
        else:
            pytest.fail("the XSS output was never served")
        assert XSS not in page and "<script>" not in page
        assert "script-src 'none'" in c.get("/battle").headers["content-security-policy"]


def test_rate_limit_per_annotator(arena):
    make, tokens, url = arena
    with make(rate=0.001, burst=2) as c, make(rate=0.001, burst=2) as d:
        sign_in(c, tokens["ann"])
        sign_in(d, tokens["bob"])
        codes = []
        for _ in range(3):
            b = c.get("/battle").text
            codes.append(c.post("/vote", data={"ticket": hidden(b, "ticket"), "csrf": hidden(b, "csrf"),
                                               "choice": "a"}).status_code)
        assert codes == [303, 303, 429]
        b = d.get("/battle").text  # bob's bucket is his own (same worker)
        assert d.post("/vote", data={"ticket": hidden(b, "ticket"), "csrf": hidden(b, "csrf"),
                                     "choice": "b"}).status_code == 303
        assert votes_in_db(url) == 3


def test_admin_and_export_need_auth(arena):
    make, tokens, _ = arena
    with make() as c:
        assert c.get("/admin/export").status_code == 401
        assert c.get("/api/leaderboard").status_code == 401
        assert "Admin token" in c.get("/admin").text
        page = c.get("/admin")
        assert c.post("/admin/login", data={"token": "wrong", "csrf": hidden(page.text, "csrf")}).status_code == 401
        assert c.post("/admin/invite", data={"name": "eve", "csrf": hidden(page.text, "csrf")}).status_code == 401
        sign_in(c, tokens["ann"])
        b = c.get("/battle").text
        c.post("/vote", data={"ticket": hidden(b, "ticket"), "csrf": hidden(b, "csrf"), "choice": "a"})
        assert c.get("/admin/export").status_code == 401  # annotators are not admins
    with make() as admin:
        page = admin.get("/admin")
        r = admin.post("/admin/login", data={"token": ADMIN, "csrf": hidden(page.text, "csrf")})
        assert r.status_code == 303
        page = admin.get("/admin")
        assert "<td>ann</td><td>1</td>" in page.text.replace("\n", "")
        r = admin.post("/admin/invite", data={"name": "carol", "csrf": hidden(page.text, "csrf")})
        assert r.status_code == 303
        new = admin.get("/admin").text
        token = new.split('id="new-token">')[1].split("<")[0]
    with make() as carol:
        sign_in(carol, token)
    with make() as api:
        r = api.get("/admin/export", headers={"Authorization": f"Bearer {ADMIN}"})
        assert r.status_code == 200 and r.text.count("\n") == 1 and '"chosen"' in r.text


def test_rating_mode(arena):
    make, tokens, _ = arena
    with make() as c:
        sign_in(c, tokens["ann"])
        page = c.get("/rate")
        assert page.status_code == 200 and 'id="principle"' in page.text
        form = {"ticket": hidden(page.text, "ticket"), "csrf": hidden(page.text, "csrf")}
        assert c.post("/rating", data={**form, "score": "8"}).status_code == 422
        assert c.post("/rating", data={**form, "score": "0"}).status_code == 422
        assert c.post("/rating", data={**form, "score": "6"}).status_code == 303
        assert c.post("/rating", data={**form, "score": "6"}).status_code == 303  # resubmit: counted once
        ratings = c.get("/api/leaderboard").json()["ratings"]
        assert len(ratings) == 1 and ratings[0]["n"] == 1 and ratings[0]["mean"] == 6.0


def test_settings_reach_workers_through_the_environment(monkeypatch):
    # `arena serve --workers N` hands settings to each worker as ALIGNLAB_ARENA_* variables.
    s = Settings(db="postgresql://u@h/db", admin_token="t", rate=2.5, burst=7, principles=("Be kind.", "Be brief."),
                 overlap=0.5, bootstrap=33, secure_cookies=True, pool_size=4)
    for k, v in s.to_env().items():
        monkeypatch.setenv(k, v)
    assert Settings.from_env() == s

"""Findings of probing alignlab as an attacker and as a careless user would (issue 21), one test each: bad input is
a one-line error naming the file, never a silent success; the arena's access can be revoked and is throttled.

Each test failed on 92931d9 and passes now. The arena's browser-driven checks are in test_arena_browser.py."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from alignlab.cli.main import app

ROW = {"prompt": "Say hi.", "completion": "Hi."}


def _cli(*argv: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(argv))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def _one_error(out: str) -> str:
    errors = [line for line in out.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in out, out
    return errors[0]


# -- data commands never succeed on nothing ----------------------------------------------------------------------


@pytest.mark.parametrize(("content", "first_problem"), [
    (b"prompt,completion\nSay hi.,Hi.\n", "invalid JSON"),
    (b'["a", "b"]\n"text"\n', "expected a JSON object, got list"),
    (bytes(range(256)) * 8, "invalid JSON"),  # a binary file
])
@pytest.mark.parametrize("command", ["validate", "stats", "convert"])
def test_data_command_on_a_file_where_no_row_parses_fails_naming_the_first_line(
        tmp_path: Path, content: bytes, first_problem: str, command: str) -> None:
    src = tmp_path / "rows.jsonl"
    src.write_bytes(content)
    out_file = tmp_path / "out.jsonl"
    argv = ["data", command, str(src)] + ([str(out_file)] if command == "convert" else [])
    code, out = _cli(*argv)
    error = _one_error(out)
    assert code == 2 and f"{src}:1:" in error and first_problem in error and "parses as jsonl" in error
    assert not out_file.exists()  # convert wrote no empty file


def _gz(tmp_path: Path, name: str, rows: list[dict], n: int = 2000) -> bytes:
    return gzip.compress("".join(json.dumps(r) + "\n" for r in rows * n).encode())


@pytest.mark.parametrize("command", [("data", "validate"), ("data", "stats"), ("ratings",)])
def test_truncated_gzip_is_a_one_line_error_not_aborted(tmp_path: Path, command: tuple[str, ...]) -> None:
    row = ROW if command[0] == "data" else {"model_a": "x", "model_b": "y", "winner": "model_a"}
    data = _gz(tmp_path, "x", [row])
    path = tmp_path / "rows.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    code, out = _cli(*command, str(path))
    assert code == 2 and "Aborted" not in out
    assert "truncated" in _one_error(out) and str(path) in out


@pytest.mark.parametrize("damage", ["crc", "header"])
def test_corrupt_gzip_is_a_one_line_error_not_a_traceback(tmp_path: Path, damage: str) -> None:
    data = bytearray(_gz(tmp_path, "x", [ROW]))
    if damage == "crc":
        data[-6] ^= 0xFF
    else:
        data[2] = 0x63  # compression method
    path = tmp_path / "rows.jsonl.gz"
    path.write_bytes(bytes(data))
    code, out = _cli("data", "validate", str(path))
    assert code == 2 and "corrupt gzip" in _one_error(out) and str(path) in out


def test_invalid_utf8_in_a_task_data_file_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "data.jsonl").write_bytes(b'{"prompt": "a", "completion": "b"}\n{"prompt": "caf\xe9"}\n')
    task = tmp_path / "task.yaml"
    task.write_text("name: instructions/t\ndata: data.jsonl\ntype: generate\ntemplate: '{prompt}'\n"
                    "target_field: completion\n")
    code, out = _cli("eval", "--suite", str(task), "--model", "hf:/nonexistent")
    assert code == 2 and f"{tmp_path / 'data.jsonl'}:2: not UTF-8" in _one_error(out)


def test_invalid_utf8_in_ifeval_responses_names_file_and_line(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text(json.dumps({"key": 1, "prompt": "p", "instruction_id_list": ["punctuation:no_comma"],
                                   "kwargs": [{}]}) + "\n")
    responses = tmp_path / "responses.jsonl"
    responses.write_bytes(b'{"prompt": "p", "response": "caf\xe9"}\n')
    code, out = _cli("score", "ifeval", "--prompts", str(prompts), "--responses", str(responses),
                     "--out", str(tmp_path / "run"))
    assert code == 2 and f"{responses}:1: not UTF-8" in _one_error(out)


def test_invalid_utf8_in_battles_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "battles.jsonl"
    path.write_bytes(b'{"model_a": "x", "model_b": "y", "winner": "model_a"}\n'
                     b'{"model_a": "x\xff", "model_b": "y", "winner": "model_a"}\n')
    code, out = _cli("ratings", str(path))
    assert code == 2 and f"{path}:2: not UTF-8" in _one_error(out)


# -- ratings say what limits them ----------------------------------------------------------------------------------


def _battles(tmp_path: Path, rows: list[tuple[str, str, str]]) -> Path:
    path = tmp_path / "battles.jsonl"
    path.write_text("".join(json.dumps({"model_a": a, "model_b": b, "winner": w}) + "\n" for a, b, w in rows))
    return path


def test_ratings_warn_that_one_battle_gives_no_ci(tmp_path: Path) -> None:
    code, out = _cli("ratings", str(_battles(tmp_path, [("x", "y", "model_a")])), "--bootstrap", "50")
    assert code == 0 and "warning: too few battles for a confidence interval" in out and "x (1)" in out


def test_ratings_rank_disconnected_groups_separately_and_warn(tmp_path: Path) -> None:
    rows = [("a", "b", "model_a")] * 30 + [("a", "b", "model_b")] * 10 + [("c", "d", "model_a")] * 40
    code, out = _cli("ratings", str(_battles(tmp_path, rows)), "--bootstrap", "100", "--format", "json")
    assert code == 0 and "2 unconnected groups of models" in out
    board = json.loads(out[out.index("{"):])
    groups = {r["model"]: (r["group"], r["rank"]) for r in board["models"]}
    assert groups["a"][0] == groups["b"][0] != groups["c"][0] == groups["d"][0]
    # c beat d 40 times out of 40: ranked first within its group, never compared with a or b.
    assert groups["c"][1] == 1 and groups["d"][1] == 2 and groups["a"][1] == 1


# -- killed writes and goal checks ---------------------------------------------------------------------------------


def test_temp_file_of_a_killed_convert_is_removed_by_the_next_write(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    script = ("import itertools, time\nfrom alignlab.data import write_records\n"
              "def rows():\n    for i in itertools.count():\n        yield {'i': i}\n"
              "        if i > 5000: time.sleep(0.01)\n"
              f"write_records(rows(), {str(out)!r})\n")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    proc = subprocess.Popen([sys.executable, "-c", script], env=env)
    try:
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob(".out.jsonl.*.tmp")) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    leftovers = list(tmp_path.glob(".out.jsonl.*.tmp"))
    assert leftovers and not out.exists()
    from alignlab.data import write_records

    write_records([{"i": 1}], out)
    assert out.exists() and not list(tmp_path.glob(".out.jsonl.*.tmp"))


def test_atomic_write_removes_a_dead_writers_temp_file_but_not_a_live_ones(tmp_path: Path) -> None:
    from alignlab.atomic import write_text_atomic

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f".state.json.abcd1234.{int(dead.stdout)}.tmp"
    live = tmp_path / f".state.json.abcd1234.{os.getppid()}.tmp"  # pytest's parent: alive
    stale.write_text("half")
    live.write_text("half")
    write_text_atomic(tmp_path / "state.json", "{}")
    assert not stale.exists() and live.exists()


GOAL = """\
name: tiny
level: preferences
model: default
representation: {kind: preference-pairs, heldout_fraction: 0.5}
align:
  method: dpo
  trainer: {max_steps: 2}
evaluate:
  - preferences/hhh-pairs
"""


@pytest.mark.parametrize(("old", "new", "needle"), [
    ("max_steps: 2", "max_stepz: 2", "trainer.max_stepz: not a field"),
    ("preferences/hhh-pairs", "preferences/no-such-suite", "unknown suite 'preferences/no-such-suite'"),
])
def test_goal_show_rejects_what_goal_run_rejects(tmp_path: Path, old: str, new: str, needle: str) -> None:
    path = tmp_path / "goal.yaml"
    path.write_text(GOAL.replace(old, new))
    code, out = _cli("goal", "show", str(path))
    assert code == 2 and needle in _one_error(out)


# -- the arena: revocable access, throttling, headers and error bodies --------------------------------------------

from arena_fixtures import arena_db, hidden, make_run, pg_server  # noqa: E402, F401 - fixtures

ADMIN = "admin-secret-token"


@pytest.fixture
def arena(arena_db, tmp_path):  # noqa: F811
    """(make client, invite tokens, db url) over one prompt answered by two models: every battle is the same item."""
    from alignlab.arena import add_annotator, import_runs, make_engine

    engine = make_engine(arena_db)
    import_runs(engine, [(m, make_run(tmp_path, m, f"hf:{m}", {"p0": f"{m} says hi"})) for m in ("alpha", "beta")])
    tokens = {name: add_annotator(engine, name) for name in ("ann", "bob")}
    engine.dispose()

    def make(admin_token: str = ADMIN, ip: str = "10.0.0.1", **kw):  # noqa: ANN202 - a TestClient
        from fastapi.testclient import TestClient

        from alignlab.arena import Settings, create_app

        settings = Settings(db=arena_db, admin_token=admin_token, rate=kw.pop("rate", 0.0), overlap=0.0,
                            bootstrap=10, **kw)
        return TestClient(create_app(settings), follow_redirects=False, raise_server_exceptions=False,
                          client=(ip, 50000))

    return make, tokens, arena_db


def _sign_in(c, token: str):  # noqa: ANN001, ANN202
    page = c.get("/")
    return c.post("/login", data={"token": token, "csrf": hidden(page.text, "csrf")})


def _vote(c, choice: str = "a"):  # noqa: ANN001, ANN202
    battle = c.get("/battle")
    assert battle.status_code == 200, battle.text
    return c.post("/vote", data={"ticket": hidden(battle.text, "ticket"), "csrf": hidden(battle.text, "csrf"),
                                 "choice": choice})


def _admin_sign_in(c, token: str = ADMIN):  # noqa: ANN001, ANN202
    page = c.get("/admin")
    return c.post("/admin/login", data={"token": token, "csrf": hidden(page.text, "csrf")})


def test_revoked_annotator_is_refused_at_once_with_an_existing_session(arena) -> None:
    make, tokens, url = arena
    with make() as c:
        assert _sign_in(c, tokens["ann"]).status_code == 303
        assert _vote(c).status_code == 303
        battle = c.get("/battle")  # a ticket fetched before the revocation
        code, out = _cli("arena", "revoke", "ann", "--db", url)
        assert code == 0 and "ann: revoked (1 open sessions ended)" in out
        r = c.post("/vote", data={"ticket": hidden(battle.text, "ticket"), "csrf": hidden(battle.text, "csrf"),
                                  "choice": "a"})
        assert r.status_code == 401
        assert c.get("/leaderboard").status_code == 303 and c.get("/api/leaderboard").status_code == 401
        assert _sign_in(c, tokens["ann"]).status_code == 401  # the token no longer signs in


def test_logout_ends_the_session_for_a_copied_cookie_too(arena) -> None:
    make, tokens, _ = arena
    with make() as c, make() as thief:
        _sign_in(c, tokens["ann"])
        thief.cookies.set("arena_session", c.cookies["arena_session"])
        assert thief.get("/battle").status_code == 200  # the copy works while the session lives
        page = c.get("/battle")
        assert c.post("/logout", data={"csrf": hidden(page.text, "csrf")}).status_code == 303
        assert thief.get("/battle").status_code == 303 and thief.get("/api/leaderboard").status_code == 401


def test_rotating_the_admin_token_ends_old_admin_sessions(arena) -> None:
    make, _, _ = arena
    with make() as old:
        assert _admin_sign_in(old).status_code == 303
        assert old.get("/admin/export").status_code == 200
        cookie = old.cookies["arena_session"]
    with make(admin_token="rotated-token") as new:  # the server restarted with a new token
        new.cookies.set("arena_session", cookie)
        assert new.get("/admin/export").status_code == 401
        assert "Admin token" in new.get("/admin").text  # the sign-in form, not the admin page


@pytest.mark.parametrize("route", ["/login", "/admin/login"])
def test_sign_in_is_throttled_per_address_with_retry_after(arena, route: str) -> None:
    from fastapi.testclient import TestClient

    make, _, _ = arena
    with make(login_rate=0.01, login_burst=5) as c:
        page = c.get("/" if route == "/login" else "/admin")
        codes = [c.post(route, data={"token": f"guess-{i}", "csrf": hidden(page.text, "csrf")}).status_code
                 for i in range(6)]
        assert codes == [401] * 5 + [429]
        r = c.post(route, data={"token": "guess", "csrf": hidden(page.text, "csrf")})
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        if route == "/login":  # another address on the same worker still has its own attempts
            with TestClient(c.app, follow_redirects=False, client=("10.0.0.2", 1)) as d:
                page = d.get("/")
                assert d.post(route, data={"token": "guess-x", "csrf": hidden(page.text, "csrf")}).status_code == 401


def test_one_token_tried_from_many_addresses_is_throttled(arena) -> None:
    from fastapi.testclient import TestClient

    make, _, _ = arena
    with make(login_rate=0.01, login_burst=3) as first:
        app_ = first.app
        codes = []
        for i in range(5):  # five addresses, one worker: the same token's failures share a bucket
            with TestClient(app_, follow_redirects=False, client=(f"10.1.0.{i}", 1)) as c:
                page = c.get("/")
                codes.append(c.post("/login", data={"token": "the-same-guess",
                                                    "csrf": hidden(page.text, "csrf")}).status_code)
        assert codes == [401, 401, 401, 429, 429]


def test_every_429_carries_retry_after(arena) -> None:
    make, tokens, _ = arena
    with make(rate=0.001, burst=1) as c:
        _sign_in(c, tokens["ann"])
        assert _vote(c).status_code == 303
        r = _vote(c)
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1


def test_battle_tickets_are_limited_per_annotator(arena) -> None:
    make, tokens, _ = arena
    with make(rate=0.001, burst=2) as c, make(rate=0.001, burst=2) as d:
        _sign_in(c, tokens["ann"])
        codes = [c.get("/battle").status_code for _ in range(5)]
        assert codes == [200] * 4 + [429]  # twice the vote burst
        assert int(c.get("/battle").headers["retry-after"]) >= 1
        _sign_in(d, tokens["bob"])
        assert d.get("/battle").status_code == 200  # bob's bucket is his own


def test_leaderboard_counts_an_annotators_latest_vote_per_item(arena) -> None:
    make, tokens, _ = arena
    with make() as ann, make() as bob, make() as admin:
        _sign_in(ann, tokens["ann"])
        for choice in ("a", "b", "a", "b", "a"):  # five votes on the one item (prompt p0, alpha vs beta)
            assert _vote(ann, choice).status_code == 303
        _sign_in(bob, tokens["bob"])
        assert _vote(bob, "tie").status_code == 303
        board = ann.get("/api/leaderboard").json()
        assert board["n_votes"] == 6 and board["n_counted"] == 2
        assert {r["model"]: r["battles"] for r in board["leaderboard"]["models"]} == {"alpha": 2, "beta": 2}
        _admin_sign_in(admin)
        page = admin.get("/admin").text.replace("\n", "")
        assert '<tr data-annotator="ann">' in page
        row = page.split('<tr data-annotator="ann">')[1].split("</tr>")[0]
        assert '<td class="superseded">4</td>' in row  # the duplicates are visible to the admin
        export = admin.get("/admin/export?format=preference&ties=both").text.splitlines()
        assert len(export) == 2 + 1  # ann's latest (decisive) + bob's tie written both ways


def test_error_pages_carry_security_headers_and_no_internal_state(arena) -> None:
    make, tokens, _ = arena
    with make() as c:
        def boom() -> None:
            raise RuntimeError("secret internal detail")

        c.app.add_api_route("/boom", boom)
        r = c.get("/boom")
        assert r.status_code == 500 and "secret" not in r.text
        assert "script-src 'none'" in r.headers["content-security-policy"]
        assert r.headers["x-frame-options"] == "DENY" and r.headers["x-content-type-options"] == "nosniff"
        _sign_in(c, tokens["ann"])
        battle = c.get("/battle")
        r = c.post("/vote", data={"ticket": hidden(battle.text, "ticket"), "csrf": hidden(battle.text, "csrf")},
                   files={"choice": ("evil.txt", b"x" * 10, "text/plain")})
        assert r.status_code == 422 and "script-src 'none'" in r.headers["content-security-policy"]
        for leak in ("UploadFile", "evil.txt", "filename", "headers", "size"):
            assert leak not in r.text, leak


def test_invite_token_is_shown_once_and_never_in_the_cookie(arena) -> None:
    import base64

    make, _, _ = arena
    with make() as admin:
        _admin_sign_in(admin)
        page = admin.get("/admin")
        assert admin.post("/admin/invite", data={"name": "carol", "csrf": hidden(page.text, "csrf")}).status_code == 303
        payload = admin.cookies["arena_session"].split(".")[0]
        cookie = base64.b64decode(payload + "=" * (-len(payload) % 4)).decode()
        shown = admin.get("/admin").text
        token = shown.split('id="new-token">')[1].split("<")[0]
        assert len(token) > 20 and token not in cookie and "carol" not in cookie
        assert 'id="new-token"' not in admin.get("/admin").text  # shown once
    with make() as carol:
        assert _sign_in(carol, token).status_code == 303

"""Arena statistics, import, export, migrations and CLI: κ and α against published examples, canonical pair
orientation, judge–human agreement, preference export read back by alignlab.data."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from alignlab.arena import (
    add_annotator,
    arena_stats,
    cohen_kappa,
    export_preferences,
    fleiss_kappa,
    import_runs,
    import_verdicts,
    make_engine,
)
from alignlab.arena._models import Prompt, Response, Vote, utcnow
from alignlab.errors import DataError
from arena_fixtures import arena_db, make_run, pg_server, three_runs  # noqa: F401 - fixtures


def test_cohen_kappa_textbook_example():
    # Wikipedia's example: 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no -> po = 0.7, pe = 0.5, kappa = 0.4.
    x = ["y"] * 20 + ["y"] * 5 + ["n"] * 10 + ["n"] * 15
    y = ["y"] * 20 + ["n"] * 5 + ["y"] * 10 + ["n"] * 15
    assert cohen_kappa(x, y) == pytest.approx(0.4)
    assert cohen_kappa(["a", "a"], ["a", "a"]) is None  # chance agreement 1: undefined


def test_fleiss_kappa_textbook_example():
    # Fleiss (1971) as worked on Wikipedia: 10 subjects, 14 raters, 5 categories -> kappa = 0.210.
    table = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
             [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]
    items = [[c for c, n in zip("abcde", row, strict=True) for _ in range(n)] for row in table]
    assert fleiss_kappa(items) == pytest.approx(0.2099, abs=1e-4)


def _ids(engine):
    with engine.connect() as conn:
        prompts = dict(conn.execute(select(Prompt.key, Prompt.id)).all())
        resp = {(r.prompt_id, r.model): r.id for r in conn.execute(select(Response.prompt_id, Response.model,
                                                                          Response.id))}
    return prompts, resp


def _vote(engine, who, pid, resp, a, b, winner, n=[0]):  # noqa: B006 - a counter for unique keys
    n[0] += 1
    with engine.begin() as conn:
        conn.execute(Vote.__table__.insert().values(
            key=f"k{n[0]}", annotator_id=who, prompt_id=pid, response_a_id=resp[(pid, a)],
            response_b_id=resp[(pid, b)], model_a=a, model_b=b, winner=winner, created_at=utcnow()))


def _annotator_id(engine, name):
    from alignlab.arena._models import Annotator

    add_annotator(engine, name)
    with engine.connect() as conn:
        return conn.scalar(select(Annotator.id).where(Annotator.name == name))


def test_stats_agreement_and_judges(arena_db, tmp_path):  # noqa: F811
    engine = make_engine(arena_db)
    import_runs(engine, three_runs(tmp_path))
    prompts, resp = _ids(engine)
    p = [prompts[f"instructions/chat/p{i}"] for i in range(4)]
    ann, bob, cat = (_annotator_id(engine, n) for n in ("ann", "bob", "cat"))
    # The same judgement seen from both sides must count as agreement.
    _vote(engine, ann, p[0], resp, "alpha", "beta", "model_a")
    _vote(engine, bob, p[0], resp, "beta", "alpha", "model_b")
    _vote(engine, cat, p[0], resp, "alpha", "beta", "model_a")
    _vote(engine, ann, p[1], resp, "alpha", "beta", "tie")
    _vote(engine, bob, p[1], resp, "beta", "alpha", "model_a")
    _vote(engine, ann, p[2], resp, "beta", "evil", "model_a")
    _vote(engine, bob, p[2], resp, "evil", "beta", "model_b")
    _vote(engine, ann, p[3], resp, "alpha", "evil", "tie (bothbad)")  # seen by one person only
    s = arena_stats(engine, bootstrap=50)
    assert s.n_votes == 8 and s.agreement.items == 3
    # pairs of raters: p0 3 agreeing pairs, p1 one disagreeing pair, p2 one agreeing pair -> 4/5
    assert s.agreement.raw == pytest.approx(0.8)
    assert s.agreement.fleiss is not None and s.agreement.krippendorff is not None
    ann_bob = next(x for x in s.agreement.cohen_pairs if x["annotators"] == [ann, bob])
    assert ann_bob["items"] == 3
    assert s.leaderboard.models[0] == "alpha" and s.leaderboard["alpha"].battles == 6
    i, j = s.models.index("alpha"), s.models.index("beta")
    assert s.wins[i][j] == 3.5 and s.games[i][j] == 5  # 3 wins + one tie
    # The run scores (judge_score: alpha 9 > beta 5 > evil 1) act as a judge on the same pairs. It agrees with the
    # three alpha votes on p0 and the two beta-over-evil votes on p2, not with the tie or the beta vote on p1, nor
    # with the both-bad vote on p3 (counted as a tie) -> 5 of 8.
    judge = next(x for x in s.sources if x.source == "score:judge_score")
    assert judge.n == 8 and judge.agreement == pytest.approx(5 / 8)
    # Imported pairwise verdicts of another judge, on p0 only.
    vfile = tmp_path / "verdicts.jsonl"
    vfile.write_text(json.dumps({"prompt": "instructions/chat/p0", "model_a": "beta", "model_b": "alpha",
                                 "winner": "model_a"}) + "\n")
    assert import_verdicts(engine, vfile, "judge:contrarian") == 1
    assert import_verdicts(engine, vfile, "judge:contrarian") == 0
    contrarian = next(x for x in arena_stats(engine, bootstrap=0).sources if x.source == "judge:contrarian")
    assert contrarian.n == 3 and contrarian.agreement == 0.0
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"prompt": "nope", "model_a": "a", "model_b": "b", "winner": "tie"}) + "\n")
    with pytest.raises(DataError, match=r"bad.jsonl:1: field 'prompt'"):
        import_verdicts(engine, bad, "x")
    engine.dispose()


def test_import_is_idempotent_and_skips_what_cannot_be_compared(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    from alignlab.arena import migrate

    migrate(engine)
    runs = three_runs(tmp_path, n=3)
    first = import_runs(engine, runs)
    assert (first.prompts, first.responses) == (3, 9)
    again = import_runs(engine, runs)
    assert (again.prompts, again.responses, again.unchanged) == (0, 0, 9)
    other = make_run(tmp_path, "other", "hf:/models/other", {"p0": "x", "p1": "", "p2": "y"},
                     inputs={"p2": "a different prompt"})
    with (other / "samples" / "instructions" / "chat.jsonl").open("a") as fh:
        fh.write(json.dumps({"id": "p3", "input": "q", "output": "B", "choices": ["A", "B"], "error": None}) + "\n")
        fh.write(json.dumps({"id": "p4", "input": "q", "output": None, "error": "timeout"}) + "\n")
    rep = import_runs(engine, [("other", other)])
    assert rep.responses == 1
    assert rep.skipped == {"no free-text output": 2, "input differs from the stored prompt": 1, "error": 1}
    broken = make_run(tmp_path, "broken", "m", {"p0": "x"})
    with (broken / "samples" / "instructions" / "chat.jsonl").open("a") as fh:
        fh.write("{not json\n")
    with pytest.raises(DataError, match=r"chat.jsonl:2: not JSON"):
        import_runs(engine, [("broken", broken)])
    engine.dispose()


def test_export_is_readable_preference_data(tmp_path):
    from alignlab.arena import migrate
    from alignlab.data import Preference, read_records

    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    migrate(engine)
    runs = three_runs(tmp_path, n=3)
    runs.append(("plain-a", make_run(tmp_path, "pa", "m1", {"s": "plain A"}, suite="basics/str",
                                     inputs={"s": "A string prompt"})))
    runs.append(("plain-b", make_run(tmp_path, "pb", "m2", {"s": "plain B"}, suite="basics/str",
                                     inputs={"s": "A string prompt"})))
    import_runs(engine, runs)
    prompts, resp = _ids(engine)
    who = _annotator_id(engine, "ann")
    p0, p1, ps = prompts["instructions/chat/p0"], prompts["instructions/chat/p1"], prompts["basics/str/s"]
    _vote(engine, who, p0, resp, "alpha", "beta", "model_b")
    _vote(engine, who, p1, resp, "alpha", "beta", "tie")
    _vote(engine, who, p1, resp, "alpha", "evil", "tie (bothbad)")
    _vote(engine, who, ps, resp, "plain-a", "plain-b", "model_a")
    out = tmp_path / "prefs.jsonl"
    assert export_preferences(engine, out) == 2
    recs = list(read_records(out, "preference"))
    assert all(isinstance(r, Preference) for r in recs)
    conv = recs[0]
    assert conv.prompt[0].content == "Question p0?" and conv.chosen[0].content == "beta answer 0"
    assert conv.rejected[0].content == "alpha answer 0"
    assert recs[1].prompt == "A string prompt" and recs[1].chosen == "plain A" and recs[1].rejected == "plain B"
    align = pytest.importorskip("alignlab.align._datasets")  # what `alignlab align dpo|reward` read data with
    for method in ("dpo", "reward"):
        rows = align.load_rows(method, str(out))
        assert [r["chosen"][0]["content"] for r in rows] == ["beta answer 0", "plain A"]  # chat form for training
    assert export_preferences(engine, out, ties="both") == 4
    both = list(read_records(out, "preference"))
    ties = [r for r in both if r.margin == 0.0]
    assert len(ties) == 2 and {ties[0].chosen[0].content, ties[1].chosen[0].content} == {"alpha answer 1",
                                                                                         "beta answer 1"}
    engine.dispose()


def test_migrations_match_the_models(arena_db):  # noqa: F811
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from alignlab.arena._models import Base

    engine = make_engine(arena_db)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


def test_cli_invite_import_export(tmp_path):
    from typer.testing import CliRunner

    from alignlab.cli.main import app

    db = str(tmp_path / "cli.db")
    runner = CliRunner()
    runs = [str(p) for _, p in three_runs(tmp_path, n=2)]
    r = runner.invoke(app, ["arena", "import", *runs, "--db", db])
    assert r.exit_code == 0, r.output
    assert "models: hf:/models/alpha, hf:/models/beta, hf:/models/evil; new prompts: 2; new responses: 6" in r.output
    r = runner.invoke(app, ["arena", "invite", "ann", "--db", db])
    assert r.exit_code == 0 and r.output.startswith("ann\t")
    r = runner.invoke(app, ["arena", "invite", "ann", "--db", db])
    assert r.exit_code == 2 and "exists already" in r.output
    r = runner.invoke(app, ["arena", "import", str(tmp_path / "missing"), "--db", db])
    assert r.exit_code == 2 and "not a run directory" in r.output
    out = tmp_path / "p.jsonl"
    r = runner.invoke(app, ["arena", "export", "--db", db, "--format", "preference", "-o", str(out)])
    assert r.exit_code == 0 and "wrote 0 preference pairs" in r.output and out.exists()
    r = runner.invoke(app, ["arena", "stats", "--db", db, "--bootstrap", "0"])
    assert r.exit_code == 0 and json.loads(r.output)["n_votes"] == 0

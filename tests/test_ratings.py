"""Ratings over battles: Bradley–Terry MLE, bootstrap CIs, CI-overlap ranks, online Elo, style control, readers, CLI."""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import numpy as np
import pytest
import typer
from scipy.optimize import minimize
from scipy.stats import spearmanr
from typer.testing import CliRunner

from alignlab.cli.ratings import register
from alignlab.errors import DataError
from alignlab.evaluate.preferences import (
    Battles,
    _bt,
    battles_from_records,
    bradley_terry,
    leaderboard,
    online_elo,
    ranks_by_ci,
    read_battles,
    to_elo,
)

TRUE = np.array([1.2, 0.8, 0.45, 0.1, -0.2, -0.5, -0.9, -1.3])  # natural log-odds, well separated
NAMES = tuple(f"model-{i}" for i in range(TRUE.size))


def synthetic(n: int, theta: np.ndarray = TRUE, tie: float = 0.1, seed: int = 0,
              length_bias: float = 0.0, verbose: int | None = None) -> Battles:
    """Battles drawn from known strengths, a tie with probability ``tie``. ``verbose`` answers 3x longer, and
    ``length_bias`` log-odds per unit of the normalised length difference make that pay."""
    rng = np.random.default_rng(seed)
    m = theta.size
    a = rng.integers(0, m, n)
    b = (a + rng.integers(1, m, n)) % m
    len_a, len_b = rng.uniform(200, 400, n), rng.uniform(200, 400, n)
    if verbose is not None:
        len_a[a == verbose] *= 3
        len_b[b == verbose] *= 3
    style_diff = (len_a - len_b) / (len_a + len_b + 1)
    p = 1 / (1 + np.exp(-(theta[a] - theta[b] + length_bias * style_diff / style_diff.std())))
    # Ties keep the expected score at p (a tie is worth half a win), so the truth is what ties-as-half-wins estimates.
    p_decisive = np.clip((p - tie / 2) / (1 - tie), 0, 1)
    outcome = np.where(rng.random(n) < tie, 0.5, np.where(rng.random(n) < p_decisive, 1.0, 0.0))
    zeros = np.zeros(n)
    style_a = np.stack([len_a, zeros, zeros, zeros], 1)
    style_b = np.stack([len_b, zeros, zeros, zeros], 1)
    return Battles(tuple(f"model-{i}" for i in range(m)), a, b, outcome, style_a, style_b)


def independent_fit(battles: Battles) -> np.ndarray:
    """Plain logistic regression on the unaggregated design matrix (x = e_a - e_b, y in {0, 0.5, 1}), model 0 fixed."""
    m = len(battles.models)
    x = np.zeros((len(battles), m))
    x[np.arange(len(battles)), battles.a] = 1.0
    x[np.arange(len(battles)), battles.b] = -1.0
    x, y = x[:, 1:], battles.outcome

    def nll(w: np.ndarray) -> tuple[float, np.ndarray]:
        eta = x @ w
        loss = y * np.logaddexp(0, -eta) + (1 - y) * np.logaddexp(0, eta)
        return float(loss.sum()), x.T @ (1 / (1 + np.exp(-eta)) - y)

    res = minimize(nll, np.zeros(m - 1), jac=True, method="BFGS", options={"gtol": 1e-9, "maxiter": 10_000})
    return np.concatenate([[0.0], res.x])


def test_recovers_true_order_and_matches_independent_logistic_regression() -> None:
    battles = synthetic(20_000)
    fitted = bradley_terry(battles)
    theta = np.array([fitted[n] for n in NAMES])
    assert list(np.argsort(-theta)) == list(range(TRUE.size))  # the true order
    assert np.abs((theta - theta.mean()) - (TRUE - TRUE.mean())).max() < 0.08
    reference = independent_fit(battles)
    np.testing.assert_allclose(theta - theta[0], reference - reference[0], atol=1e-4)


def test_ties_count_as_half_wins_on_a_hand_computed_example() -> None:
    # A-B: A wins 2, 2 ties -> A 3 : B 1.  B-C: same -> B 3 : C 1.  A-C: A wins 4, 1 tie -> A 4.5 : C 0.5.
    # The ratios are consistent (3 * 3 = 9), so the MLE reproduces them: theta_A - theta_B = ln 3, A - C = ln 9.
    rows = ([("A", "B", "model_a")] * 2 + [("A", "B", "tie")] + [("B", "A", "tie (bothbad)")]
            + [("B", "C", "model_a")] * 2 + [("C", "B", "tie")] * 2 + [("C", "A", "model_b")] * 4 + [("A", "C", "tie")])
    battles = battles_from_records([{"model_a": a, "model_b": b, "winner": w} for a, b, w in rows])
    theta = bradley_terry(battles)
    assert theta["A"] - theta["B"] == pytest.approx(math.log(3), abs=1e-6)
    assert theta["B"] - theta["C"] == pytest.approx(math.log(3), abs=1e-6)
    board = leaderboard(battles, bootstrap=0)
    assert board["A"].rating - board["B"].rating == pytest.approx(400 * math.log10(3), abs=1e-3)
    assert np.mean([r.rating for r in board.rows]) == pytest.approx(1000.0)
    assert board["A"].win_rate == pytest.approx((2 + 1 + 4 + 0.5) / 9)  # ties count half


def test_bootstrap_ci_covers_truth_and_is_vectorised(monkeypatch: pytest.MonkeyPatch) -> None:
    battles = synthetic(20_000, seed=1)
    calls: list[tuple[int, ...]] = []
    real = _bt.fit_bt

    def spy(w: np.ndarray, *args: object, **kwargs: object) -> np.ndarray:
        calls.append(np.shape(w))
        return real(w, *args, **kwargs)

    monkeypatch.setattr(_bt, "fit_bt", spy)
    board = leaderboard(battles, bootstrap=1000, seed=3)
    assert calls == [(1000, 8, 8)]  # all 1,000 rounds in one batched fit
    truth = to_elo(TRUE, battles.models)
    covered = [board[n].ci_low <= truth[i] <= board[n].ci_high for i, n in enumerate(NAMES)]
    assert sum(covered) >= 7  # 95% intervals: at most one miss among 8
    widths = [r.ci_high - r.ci_low for r in board.rows]
    assert all(5 < w < 60 for w in widths)
    assert board.models == list(NAMES)
    assert [r.rank for r in board.rows] == list(range(1, 9))  # separated strengths -> disjoint CIs


def test_bootstrap_is_reproducible_by_seed() -> None:
    battles = synthetic(3000, seed=2)
    one, two = leaderboard(battles, bootstrap=200, seed=5), leaderboard(battles, bootstrap=200, seed=5)
    assert one.to_dict() == two.to_dict()
    assert leaderboard(battles, bootstrap=200, seed=6)["model-0"].ci_low != one["model-0"].ci_low


def test_ranks_by_ci_overlap() -> None:
    lo = np.array([1100.0, 1090.0, 1000.0, 995.0])
    hi = np.array([1120.0, 1105.0, 1095.0, 1010.0])
    # model 2's upper bound 1095 is below model 0's lower 1100 -> rank 2; model 3 lies below 0 and 1 -> rank 3.
    assert ranks_by_ci(lo, hi).tolist() == [1, 1, 2, 3]


def test_online_elo_order_and_anchor() -> None:
    battles = synthetic(20_000, seed=4)
    elo = online_elo(battles, k=4)
    assert spearmanr(elo, TRUE).statistic > 0.95
    board = leaderboard(battles, bootstrap=50, anchor=("model-3", 1114.0))
    assert board["model-3"].rating == pytest.approx(1114.0)
    assert board["model-3"].ci_low == pytest.approx(1114.0)  # the anchor is pinned in every round
    with pytest.raises(DataError, match="anchor model 'nope'"):
        leaderboard(battles, bootstrap=0, anchor=("nope", 1.0))


def test_style_control_removes_a_planted_length_bias() -> None:
    equal = np.zeros(6)
    battles = synthetic(30_000, theta=equal, seed=5, length_bias=0.8, verbose=2)
    plain = leaderboard(battles, bootstrap=0)
    assert plain.models[0] == "model-2" and plain["model-2"].rating - 1000 > 60  # length buys rating
    controlled = leaderboard(battles, bootstrap=100, style_control=True, seed=1)
    assert abs(controlled["model-2"].rating - 1000) < 15
    assert controlled["model-2"].ci_low < 1000 < controlled["model-2"].ci_high
    assert controlled.style_coefficients["length"] == pytest.approx(0.8, abs=0.1)
    assert all(r.rank == 1 for r in controlled.rows)


def test_style_bootstrap_rounds_are_exact_refits() -> None:
    from alignlab.evaluate.preferences._style import _weighted_fit, bootstrap_style_bt, fit_style_bt, style_matrix

    battles = synthetic(3000, theta=TRUE[:5], seed=8, length_bias=0.5, verbose=1)
    z = style_matrix(battles.style_a, battles.style_b)
    start = fit_style_bt(battles.a, battles.b, battles.outcome, z, 5)
    boot = bootstrap_style_bt(battles.a, battles.b, battles.outcome, z, 5, 2, np.random.default_rng(0), start)
    w = np.bincount(np.random.default_rng(0).integers(0, 3000, 3000), minlength=3000)  # the first round's draw
    exact = _weighted_fit(battles.a, battles.b, battles.outcome, z, w, 5, 1e-6)
    np.testing.assert_allclose(boot[0], exact, atol=1e-5)
    assert np.abs(boot[1] - boot[0]).max() > 1e-3  # the rounds differ


ARENA_ROWS = [  # Chatbot Arena clean_battle schema (fields as published)
    {"model_a": "gpt-4-0613", "model_b": "llama-2-13b-chat", "winner": "model_a", "judge": "arena_user_1",
     "turn": 1, "anony": True, "language": "English", "tstamp": 1700000000.1, "question_id": "q1",
     "conv_metadata": {"sum_user_tokens": 12, "sum_assistant_a_tokens": 420, "sum_assistant_b_tokens": 250,
                       "context_a_tokens": 12, "context_b_tokens": 12, "turns": 1,
                       "header_count_a": {"h1": 0, "h2": 2, "h3": 1, "h4": 0, "h5": 0, "h6": 0},
                       "list_count_a": {"ordered": 3, "unordered": 2}, "bold_count_a": {"**": 4, "__": 0},
                       "header_count_b": {"h1": 0, "h2": 0, "h3": 0, "h4": 0, "h5": 0, "h6": 0},
                       "list_count_b": {"ordered": 0, "unordered": 1}, "bold_count_b": {"**": 0, "__": 0}},
     "is_code": False, "is_refusal": False, "dedup_tag": {"high_freq": False, "sampled": True},
     "category_tag": {}},
    {"model_a": "llama-2-13b-chat", "model_b": "vicuna-13b", "winner": "tie (bothbad)", "judge": "arena_user_2",
     "turn": 1, "anony": True, "language": "English", "tstamp": 1700000001.5, "question_id": "q2",
     "conv_metadata": {"sum_user_tokens": 8, "sum_assistant_a_tokens": 100, "sum_assistant_b_tokens": 130,
                       "context_a_tokens": 8, "context_b_tokens": 8, "turns": 1,
                       "header_count_a": {"h1": 0, "h2": 0, "h3": 0, "h4": 0, "h5": 0, "h6": 0},
                       "list_count_a": {"ordered": 0, "unordered": 0}, "bold_count_a": {"**": 1, "__": 0},
                       "header_count_b": {"h1": 1, "h2": 0, "h3": 0, "h4": 0, "h5": 0, "h6": 0},
                       "list_count_b": {"ordered": 2, "unordered": 0}, "bold_count_b": {"**": 0, "__": 1}}},
    {"model_a": "vicuna-13b", "model_b": "gpt-4-0613", "winner": "model_b", "judge": "arena_user_3",
     "turn": 2, "anony": False, "language": "German", "tstamp": 1700000002.0, "question_id": "q3",
     "conv_metadata": {"sum_user_tokens": 30, "sum_assistant_a_tokens": 90, "sum_assistant_b_tokens": 310,
                       "context_a_tokens": 40, "context_b_tokens": 40, "turns": 2,
                       "header_count_a": {"h1": 0, "h2": 0, "h3": 0, "h4": 0, "h5": 0, "h6": 0},
                       "list_count_a": {"ordered": 0, "unordered": 0}, "bold_count_a": {"**": 0, "__": 0},
                       "header_count_b": {"h1": 0, "h2": 1, "h3": 0, "h4": 0, "h5": 0, "h6": 0},
                       "list_count_b": {"ordered": 0, "unordered": 4}, "bold_count_b": {"**": 2, "__": 0}}},
    {"model_a": "gpt-4-0613", "model_b": "vicuna-13b", "winner": "tie", "judge": "arena_user_4",
     "turn": 1, "anony": True, "language": "English", "tstamp": 1700000003.0, "question_id": "q4",
     "conv_metadata": {"sum_user_tokens": 5, "sum_assistant_a_tokens": 200, "sum_assistant_b_tokens": 180,
                       "context_a_tokens": 5, "context_b_tokens": 5, "turns": 1,
                       "header_count_a": {"h1": 0, "h2": 0, "h3": 0, "h4": 0, "h5": 0, "h6": 0},
                       "list_count_a": {"ordered": 1, "unordered": 0}, "bold_count_a": {"**": 0, "__": 0},
                       "header_count_b": {"h1": 0, "h2": 0, "h3": 0, "h4": 0, "h5": 0, "h6": 0},
                       "list_count_b": {"ordered": 0, "unordered": 0}, "bold_count_b": {"**": 1, "__": 0}}},
]


def test_reads_arena_clean_battle_json_with_style_counts(tmp_path: Path) -> None:
    path = tmp_path / "clean_battle.json"
    path.write_text(json.dumps(ARENA_ROWS, indent=1))
    battles = read_battles(path)
    assert battles.models == ("gpt-4-0613", "llama-2-13b-chat", "vicuna-13b")
    assert battles.outcome.tolist() == [1.0, 0.5, 0.0, 0.5]
    assert battles.has_style
    assert battles.style_a[0].tolist() == [420, 3, 5, 4]  # tokens, headers, list items, bold (dicts summed)
    assert battles.style_b[1].tolist() == [130, 1, 2, 1]


def test_reads_alignlab_jsonl_gz_and_counts_style_from_text(tmp_path: Path) -> None:
    rows = [{"model_a": "x", "model_b": "y", "winner": "model_a", "prompt": "hi", "judge": "gpt-4o",
             "response_a": "# Title\n\n- one\n- two\n\n**bold** text", "response_b": "plain answer"},
            {"model_a": "y", "model_b": "x", "winner": "tie", "response_a": "1. a\n2. b", "response_b": "__b__"}]
    path = tmp_path / "battles.jsonl.gz"
    with gzip.open(path, "wt") as fh:
        fh.write("\n".join(json.dumps(r) for r in rows) + "\n")
    battles = read_battles(path)
    assert battles.style_a[0].tolist() == [8, 1, 2, 1]  # whitespace tokens
    assert battles.style_b[1].tolist() == [1, 0, 0, 1]
    assert battles.where == (f"{path}:1", f"{path}:2")


@pytest.mark.parametrize(
    ("row", "field", "detail"),
    [
        ({"model_a": "x", "model_b": "y", "winner": "a"}, "winner", "expected one of 'model_a', 'model_b', 'tie'"),
        ({"model_a": "x", "winner": "tie"}, "model_b", "expected a model name"),
        ({"model_a": "x", "model_b": "x", "winner": "tie"}, "model_b", "a model cannot battle itself"),
    ],
)
def test_bad_rows_name_file_line_and_field(tmp_path: Path, row: dict, field: str, detail: str) -> None:
    ok = {"model_a": "x", "model_b": "y", "winner": "model_b"}
    jsonl = tmp_path / "battles.jsonl"
    jsonl.write_text(json.dumps(ok) + "\n\n" + json.dumps(row) + "\n")
    with pytest.raises(DataError, match=f"battles.jsonl:3: field '{field}': {detail}"):
        read_battles(jsonl)
    array = tmp_path / "array.json"  # a JSON array: the line its element starts on
    array.write_text("[\n" + json.dumps(ok) + ",\n" + json.dumps(ok) + ",\n" + json.dumps(row) + "\n]\n")
    with pytest.raises(DataError, match=f"array.json:4: field '{field}': {detail}"):
        read_battles(array)


def test_style_control_without_style_fails_clearly() -> None:
    battles = battles_from_records([{"model_a": "x", "model_b": "y", "winner": "model_a"}], source="f.jsonl")
    with pytest.raises(DataError, match="f.jsonl:1: style control needs"):
        leaderboard(battles, style_control=True)


def _cli() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _main() -> None:  # keeps `ratings` a subcommand
        pass

    register(app)
    return app


def test_cli_prints_leaderboard(tmp_path: Path) -> None:
    battles = synthetic(2000, seed=7)
    path = tmp_path / "battles.jsonl"
    winners = {1.0: "model_a", 0.0: "model_b", 0.5: "tie"}
    path.write_text("".join(json.dumps({"model_a": NAMES[a], "model_b": NAMES[b], "winner": winners[o]}) + "\n"
                            for a, b, o in zip(battles.a, battles.b, battles.outcome, strict=True)))
    runner = CliRunner()
    res = runner.invoke(_cli(), ["ratings", str(path), "--bootstrap", "100"], env={"COLUMNS": "160"})
    assert res.exit_code == 0, res.output
    assert "model-0" in res.output and "95% CI" in res.output and "Elo (online)" in res.output
    assert res.output.index("model-0") < res.output.index("model-7")
    res = runner.invoke(_cli(), ["ratings", str(path), "--bootstrap", "50", "--format", "json"])
    data = json.loads(res.output)
    assert data["models"][0]["model"] == "model-0" and data["bootstrap"] == 50
    res = runner.invoke(_cli(), ["ratings", str(path), "--bootstrap", "0", "--format", "csv"])
    assert res.output.splitlines()[0] == "rank,model,rating,ci_low,ci_high,battles,win_rate,elo,group"
    res = runner.invoke(_cli(), ["ratings", str(path), "-b", "0", "-f", "markdown", "--anchor", "model-7=800"])
    assert res.output.startswith("| rank | model |") and "| 800.0 |" in res.output


def test_cli_reports_bad_data_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"model_a": "x", "model_b": "y", "winner": "draw"}\n')
    res = CliRunner().invoke(_cli(), ["ratings", str(path)])
    assert res.exit_code == 2
    assert f"error: {path}:1: field 'winner'" in res.output

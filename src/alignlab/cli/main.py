"""``alignlab``: define, align and evaluate alignment goals at three levels."""

from __future__ import annotations

import os

import typer

from alignlab.cli.align import align_app
from alignlab.cli.arena import arena_app
from alignlab.cli.cache import cache_app
from alignlab.cli.data import data_app
from alignlab.cli.eval import register as register_eval
from alignlab.cli.goal import goal_app
from alignlab.cli.models import models_app
from alignlab.cli.ratings import register as register_ratings
from alignlab.cli.report import register as register_report
from alignlab.cli.score import register as register_score
from alignlab.cli.validate import validate_app

app = typer.Typer(
    help="alignlab: align LLMs with human instructions, preferences and values, and evaluate all three levels.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _main(
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks instead of one-line errors."),
) -> None:
    if debug:
        os.environ["ALIGNLAB_DEBUG"] = "1"


register_eval(app)
register_ratings(app)
register_report(app)
register_score(app)
app.add_typer(models_app, name="models", help="Inspect model specs and backends.")
app.add_typer(arena_app, name="arena", help="Human evaluation: blind battles, ratings, leaderboard, export.")
app.add_typer(cache_app, name="cache", help="Inspect or clear the response cache.")
app.add_typer(data_app, name="data", help="Convert, validate and describe alignment data.")
app.add_typer(align_app, name="align", help="Train a model toward a goal: sft, reward, dpo, kto, orpo, rloo, grpo.")
app.add_typer(goal_app, name="goal", help="Run a goal: build data, align, evaluate before and after.")
app.add_typer(validate_app, name="validate", help="Check that an instrument measures what it claims on a model.")

if __name__ == "__main__":
    app()

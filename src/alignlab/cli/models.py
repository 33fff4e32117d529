"""``alignlab models info SPEC``."""

from __future__ import annotations

import typer

from alignlab.cli._errors import friendly_errors
from alignlab.cli._output import print_table

models_app = typer.Typer(no_args_is_help=True)


@models_app.command("info")
@friendly_errors
def info_cmd(
    spec: str = typer.Argument("default", help="Model spec, e.g. default, hf:PATH, openai:MODEL@URL."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Parameter count, context length, chat template, fingerprint and backend of a model."""
    import json
    from dataclasses import asdict

    from rich.console import Console
    from rich.table import Table

    from alignlab.models import create_api

    api = create_api(spec)
    try:
        check = getattr(api, "check", None)
        if callable(check):
            check()  # servers: fail here with one line if unreachable
        info = api.info()
    finally:
        api.close()
    if json_out:
        print(json.dumps(asdict(info), indent=2, default=str))
        return
    table = Table(show_header=False)
    table.add_column(no_wrap=True)
    table.add_column(overflow="fold")
    for k, v in asdict(info).items():
        if k == "extra":
            for ek, ev in v.items():
                table.add_row(ek, str(ev))
        elif k == "chat_template" and v:
            table.add_row(k, v if len(v) < 300 else v[:300] + f"… ({len(v)} chars)")
        else:
            table.add_row(k, "—" if v is None else f"{v:,}" if isinstance(v, int) else str(v))
    print_table(table, Console())


@models_app.command("backends")
def backends_cmd() -> None:
    """List the backend names a spec can start with."""
    from alignlab.models import backends

    for b in backends():
        print(b)

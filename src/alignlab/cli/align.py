"""``alignlab align sft|reward|dpo|kto|orpo|rloo|grpo --config RECIPE.yaml``; ``alignlab align accelerate-config``."""

from __future__ import annotations

from pathlib import Path

import typer

from alignlab.cli._errors import friendly_errors

align_app = typer.Typer(no_args_is_help=True)

ACCELERATE_CONFIGS = ("ddp", "deepspeed_zero2", "deepspeed_zero3", "fsdp")
_HELP = {
    "sft": "Supervised fine-tuning on prompt/completion (or chat) data; loss on completions only.",
    "reward": "Train a reward model (sequence classifier, one score) on preference pairs.",
    "cost": "Train a cost model (Safe RLHF: score > 0 means unsafe) on harmful-chosen pairs with safety labels.",
    "dpo": "Direct preference optimisation (TRL's loss variants through trainer.loss_type).",
    "kto": "KTO on unpaired preferences (preference pairs are unpaired).",
    "orpo": "ORPO: odds-ratio preference optimisation without a reference model.",
    "rloo": "RLOO: online RL with leave-one-out baselines and the recipe's rewards.",
    "grpo": "GRPO: online RL with group-normalised advantages and the recipe's rewards.",
}


def _run(method: str, config: Path, output_dir: Path | None, sets: list[str], resume: bool, quiet: bool) -> None:
    from alignlab.align import load_recipe, train
    from alignlab.assignments import parse_assignments

    recipe = load_recipe(config, parse_assignments(sets, "--set"), method=method)
    result = train(recipe, output_dir=output_dir, resume=resume, progress=not quiet)
    from accelerate import PartialState

    if not PartialState().is_main_process:
        return  # under `accelerate launch` one summary, from the main process
    m = result.final_metrics
    keys = ("train_loss", "loss", "rewards/accuracies", "accuracy", "sign_accuracy", "reward")
    shown = ", ".join(f"{k} {m[k]:.4g}" for k in keys if k in m)
    print(f"trained {recipe.method} for {result.steps} steps in {result.train_seconds:.1f} s"
          + (f" ({shown})" if shown else ""))
    print(f"model:   {result.model_dir}  (evaluate: alignlab eval hf:{result.model_dir} ...)")
    if result.adapter_dir:
        print(f"adapter: {result.adapter_dir}")
    print(f"metrics: {result.metrics_path}" + (f", {result.plot_path}" if result.plot_path else ""))


def _register(method: str) -> None:
    @align_app.command(method, help=_HELP[method])
    @friendly_errors
    def command(
        config: Path = typer.Option(..., "--config", "-c", help="Recipe YAML (see examples/recipes/)."),
        output_dir: Path | None = typer.Option(None, "--output-dir", "-o", help="Override the recipe's output_dir."),
        sets: list[str] = typer.Option([], "--set", help="Override a recipe value: trainer.max_steps=10 (repeat)."),
        resume: bool = typer.Option(True, "--resume/--no-resume",
                                    help="Continue from the latest checkpoint-* in the output dir."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
    ) -> None:
        _run(method, config, output_dir, sets, resume, quiet)


for _method in _HELP:
    _register(_method)


def accelerate_config_path(name: str) -> Path:
    """The shipped ``accelerate`` config ``name`` (``ddp``, ``deepspeed_zero2``, ``deepspeed_zero3``, ``fsdp``)."""
    from importlib import resources

    from alignlab.errors import AlignlabError

    if name not in ACCELERATE_CONFIGS:
        raise AlignlabError(f"no accelerate config {name!r}", hint="one of " + ", ".join(ACCELERATE_CONFIGS))
    return Path(str(resources.files("alignlab.align").joinpath(f"accelerate/{name}.yaml")))


@align_app.command("accelerate-config")
@friendly_errors
def accelerate_config_cmd(
    name: str = typer.Argument("ddp", help="ddp | deepspeed_zero2 | deepspeed_zero3 | fsdp"),
) -> None:
    """Print the path of a shipped accelerate config, for `accelerate launch --config_file $(...)`."""
    print(accelerate_config_path(name))

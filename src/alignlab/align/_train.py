"""``train(recipe)``: set up → train (resuming from the latest checkpoint) → save the merged model → clean up.

One path serves every method: TRL's trainers share one constructor shape, so the method only picks the config and
trainer class, the dataset schema, and (for rloo/grpo) reward functions. Runs in-process, or in each process of
``accelerate launch`` (only the main process writes recipe, metrics and the merged model).
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alignlab.align._datasets import build_dataset
from alignlab.align._metrics import (
    final_metrics,
    metrics_callback,
    plot_metrics,
    progress_callback,
    read_metrics,
)
from alignlab.align._recipe import RL_METHODS, SCORE_METHODS, Recipe
from alignlab.errors import AlignlabError, DataError, ModelSpecError

# method → (module, config class, trainer class). ORPO lives in trl.experimental in TRL 1.x.
TRL_CLASSES: dict[str, tuple[str, str, str]] = {
    "sft": ("trl", "SFTConfig", "SFTTrainer"),
    "reward": ("trl", "RewardConfig", "RewardTrainer"),
    "cost": ("trl", "RewardConfig", "RewardTrainer"),  # + alignlab.align.cost_model's loss (a thin subclass)
    "dpo": ("trl", "DPOConfig", "DPOTrainer"),
    "kto": ("trl", "KTOConfig", "KTOTrainer"),
    "orpo": ("trl.experimental.orpo", "ORPOConfig", "ORPOTrainer"),
    "rloo": ("trl", "RLOOConfig", "RLOOTrainer"),
    "grpo": ("trl", "GRPOConfig", "GRPOTrainer"),
}
_RESERVED = {"output_dir": "set the recipe's top-level output_dir", "peft_config": "use the recipe's lora block"}


@dataclass
class TrainResult:
    """What a training run left behind."""

    output_dir: Path
    """The run's folder: ``checkpoint-*``, ``recipe.yaml``, ``metrics.jsonl``, ``metrics.svg``, ``model/``."""
    model_dir: Path
    """A full HF model dir (LoRA merged) that ``hf:PATH`` loads; a reward model for ``reward``."""
    adapter_dir: Path | None
    """The LoRA adapter (peft format), when the recipe has one."""
    metrics_path: Path
    """``metrics.jsonl``: one JSON object per logging step."""
    plot_path: Path | None
    """``metrics.svg``; None when nothing was logged."""
    steps: int
    """Optimizer steps done (counting those before a resume)."""
    train_seconds: float
    """Wall time of this call's training loop (not loading or saving)."""
    final_metrics: dict[str, float]
    """The last logged value of each metric."""


def trl_classes(method: str) -> tuple[type, type]:
    """(config class, trainer class) of ``method``."""
    import importlib

    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")  # ORPO is experimental in TRL 1.x; we know
    module, config, trainer = TRL_CLASSES[method]
    mod = importlib.import_module(module)
    return getattr(mod, config), getattr(mod, trainer)


def _has_accelerator() -> bool:
    import torch

    return (torch.cuda.is_available() or (hasattr(torch, "xpu") and torch.xpu.is_available())
            or torch.backends.mps.is_available())


def trainer_config(recipe: Recipe, output_dir: Path, *, progress: bool = True) -> Any:
    """The method's TRL config from ``recipe.trainer`` over alignlab's defaults; bad fields name ``file:line``."""
    config_cls, _ = trl_classes(recipe.method)
    fields = {f.name for f in dataclasses.fields(config_cls) if f.init}
    for key in recipe.trainer:
        if key in _RESERVED:
            raise AlignlabError(f"{recipe.where('trainer', key)}: trainer.{key}: not set here",
                                hint=_RESERVED[key])
        if key not in fields:
            close = difflib.get_close_matches(key, fields, n=1)
            raise AlignlabError(
                f"{recipe.where('trainer', key)}: trainer.{key}: not a field of {config_cls.__name__}",
                hint=f"did you mean {close[0]!r}?" if close else f"see the fields of trl.{config_cls.__name__}")
    # alignlab's defaults where they differ from TRL's: no tracker unless asked (report_to), and on a machine
    # without a GPU fp32 without gradient checkpointing (bf16 autocast and recomputation only cost time on CPU)
    # and use_cpu, which makes `accelerate launch` processes one CPU group (gloo) instead of independent runs.
    values: dict[str, Any] = {"report_to": "none", "seed": recipe.seed, "disable_tqdm": not progress}
    if not _has_accelerator():
        values.update(bf16=False, use_cpu=True)
        if not {"gradient_checkpointing", "activation_checkpointing"} & set(recipe.trainer):
            # transformers 5 renamed the option; the old name (TRL's default) warns on every run
            names = {f.name for f in dataclasses.fields(config_cls)}
            values["activation_checkpointing" if "activation_checkpointing" in names else "gradient_checkpointing"] \
                = False
    if recipe.data.eval_path:
        values["eval_strategy"] = "steps"
    values.update(recipe.trainer)
    try:
        return config_cls(output_dir=str(output_dir), **values)
    except (ValueError, TypeError) as exc:
        raise AlignlabError(f"{recipe.where('trainer')}: trainer: {exc}",
                            hint=f"see the fields of trl.{config_cls.__name__}") from None


def model_path(recipe: Recipe) -> Path:
    """The HF dir to train from: ``default`` and ``gguf:`` specs are converted once (cached) to one."""
    spec = recipe.model.strip()
    if spec == "default":
        from alignlab.models.default import default_gguf
        from alignlab.models.hf import converted_dir

        return converted_dir(default_gguf())
    name, sep, target = spec.partition(":")
    if sep and name == "gguf":
        from alignlab.models.hf import converted_dir

        return converted_dir(target)
    if sep and name == "hf":
        spec = target
    elif sep and len(name) > 1 and not Path(spec).exists():
        raise ModelSpecError(f"{recipe.where('model')}: model {recipe.model!r}: only local models can be trained",
                             hint="use default, hf:PATH, gguf:PATH or a local transformers dir")
    path = Path(spec).expanduser()
    if not (path / "config.json").is_file():
        raise ModelSpecError(f"{recipe.where('model')}: model {recipe.model!r}: no transformers model dir at {path}",
                             hint="a dir written by save_pretrained (config.json + weights)")
    return path


def check_recipe(recipe: Recipe) -> None:
    """Everything that can fail before a model loads: data files exist and trainer fields are TRL's."""
    for key, value in (("path", recipe.data.path), ("eval_path", recipe.data.eval_path)):
        if value and not value.startswith("hf://") and not Path(value).exists():
            raise DataError(f"{recipe.where('data', key)}: data.{key}: no such file {value!r}")
    trainer_config(recipe, Path(recipe.output_dir))


def peft_config(recipe: Recipe) -> Any:
    """A peft ``LoraConfig`` from the recipe's ``lora`` block, or None."""
    if recipe.lora is None:
        return None
    from peft import LoraConfig

    lora = recipe.lora
    return LoraConfig(r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout, target_modules=lora.target_modules,
                      task_type="SEQ_CLS" if recipe.method in SCORE_METHODS else "CAUSAL_LM")


def reward_functions(recipe: Recipe, extra: list[Callable] | None) -> tuple[list[Callable], list[float]]:
    """The recipe's rewards (``reward_model`` as a ``reward-model`` reward), then ``extra`` at weight 1, then the
    constraints' costs at weight −λ_init (the trainer moves these weights)."""
    specs = list(recipe.rewards)
    if recipe.reward_model and not any(s.name == "reward-model" for s in specs):
        from alignlab.align.rewards import RewardSpec

        specs.append(RewardSpec(name="reward-model", args={"path": recipe.reward_model}))
    n_rewards = len(specs)
    specs += [c.cost.model_copy(update={"weight": -c.lambda_init}) for c in recipe.constraints]
    funcs: list[Callable] = []
    weights: list[float] = []
    if specs:
        from alignlab.align.rewards import build_rewards

        funcs, weights = build_rewards(specs, base_dir=recipe.base_dir)  # one call: distinct names for all
        funcs, weights = list(funcs), list(weights)
    costs, cost_weights = funcs[n_rewards:], weights[n_rewards:]
    funcs, weights = funcs[:n_rewards], weights[:n_rewards]
    for fn in extra or []:
        funcs.append(fn)
        weights.append(1.0)
    if not funcs:
        raise AlignlabError(f"{recipe.where('rewards')}: {recipe.method} needs rewards",
                            hint="add a rewards list (or reward_model), or pass reward_funcs= from Python")
    return funcs + costs, weights + cost_weights


def build_trainer(recipe: Recipe, output_dir: Path, *, reward_funcs: list[Callable] | None = None,
                  progress: bool = True, callbacks: list[Any] | None = None) -> Any:
    """The TRL trainer the recipe describes, ready to ``train()``."""
    config = trainer_config(recipe, output_dir, progress=progress)
    _, trainer_cls = trl_classes(recipe.method)
    if recipe.constraints:
        from alignlab.align.constraints import constrained_trainer_class

        trainer_cls = constrained_trainer_class(trainer_cls)
    if recipe.method == "cost":
        from alignlab.align.cost_model import cost_trainer_class

        trainer_cls = cost_trainer_class(trainer_cls, recipe.cost_loss)
    kwargs: dict[str, Any] = {
        "model": str(model_path(recipe)),
        "args": config,
        "train_dataset": build_dataset(recipe.method, recipe.data.path, recipe.data.format, recipe.data.limit),
        "peft_config": peft_config(recipe),
        "callbacks": callbacks,
    }
    if recipe.data.eval_path:
        kwargs["eval_dataset"] = build_dataset(recipe.method, recipe.data.eval_path, recipe.data.format)
    if recipe.method in RL_METHODS:
        funcs, weights = reward_functions(recipe, reward_funcs)
        kwargs["reward_funcs"] = funcs
        if "reward_weights" not in recipe.trainer:
            config.reward_weights = weights
        elif recipe.constraints:
            raise AlignlabError(f"{recipe.where('trainer', 'reward_weights')}: trainer.reward_weights: not with "
                                "constraints", hint="give each reward its weight in the rewards list")
    elif reward_funcs:
        raise AlignlabError(f"reward_funcs apply to rloo and grpo, not {recipe.method}")
    trainer = trainer_cls(**kwargs)
    if recipe.constraints:
        from alignlab.align.constraints import attach, state_callback

        multipliers = attach(trainer, recipe.constraints, len(kwargs["reward_funcs"]) - len(recipe.constraints))
        trainer.add_callback(state_callback(multipliers))
    return trainer


def _latest_checkpoint(output_dir: Path) -> str | None:
    from transformers.trainer_utils import get_last_checkpoint

    return get_last_checkpoint(str(output_dir)) if output_dir.is_dir() else None


def _drop_metrics_after(path: Path, step: int) -> None:
    """Keep the logs up to the checkpoint's step: a killed run may have logged steps that the resumed run redoes."""
    rows = read_metrics(path)
    kept = [r for r in rows if r.get("step", 0) <= step]
    if len(kept) < len(rows):
        tmp = path.with_suffix(".jsonl.tmp")
        tmp.write_text("".join(json.dumps(r) + "\n" for r in kept), encoding="utf-8")
        tmp.replace(path)


def _save_merged(recipe: Recipe, source: Path, adapter_dir: Path, model_dir: Path) -> None:
    """Base weights + adapter → one full model dir (peft's ``merge_and_unload``), tokenizer alongside."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(adapter_dir)
    if recipe.method in SCORE_METHODS:
        base = AutoModelForSequenceClassification.from_pretrained(
            source, num_labels=1, pad_token_id=tokenizer.pad_token_id, dtype=torch.float32)
    else:
        base = AutoModelForCausalLM.from_pretrained(source, dtype=torch.float32)
    merged = PeftModel.from_pretrained(base, adapter_dir).merge_and_unload()
    merged.save_pretrained(model_dir)
    tokenizer.save_pretrained(model_dir)


@contextmanager
def _quiet() -> Iterator[None]:
    """Without third-party progress bars (transformers' weight loading and shard writing, datasets' tokenizing)
    and their libraries' deprecation notices about each other: training shows alignlab's own step lines."""
    import datasets
    from transformers.utils import logging

    bars = logging.is_progress_bar_enabled(), datasets.is_progress_bar_enabled()
    logging.disable_progress_bar()
    datasets.disable_progress_bars()
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=FutureWarning, module=r"transformers\.")
            yield
    finally:
        if bars[0]:
            logging.enable_progress_bar()
        if bars[1]:
            datasets.enable_progress_bars()


def train(recipe: Recipe, *, output_dir: str | Path | None = None, reward_funcs: list[Callable] | None = None,
          resume: bool = True, progress: bool = True, callbacks: list[Any] | None = None) -> TrainResult:
    """Train ``recipe`` and save ``output_dir/model`` (+ ``adapter`` with LoRA); resume from the latest
    ``checkpoint-*`` in ``output_dir`` when ``resume``. ``reward_funcs`` add TRL reward functions (rloo/grpo);
    ``callbacks`` add transformers ``TrainerCallback``s (early stopping, timers, ...)."""
    from accelerate import PartialState

    out = Path(output_dir or recipe.output_dir).expanduser().resolve()
    check_recipe(recipe)
    if recipe.method in RL_METHODS and not (recipe.rewards or recipe.reward_model or reward_funcs):
        raise AlignlabError(f"{recipe.where('method')}: {recipe.method} needs rewards",
                            hint="add a rewards list (or reward_model), or pass reward_funcs= from Python")
    main = PartialState().is_main_process
    metrics_path, model_dir = out / "metrics.jsonl", out / "model"
    adapter_dir = out / "adapter" if recipe.lora else None
    checkpoint = _latest_checkpoint(out) if resume else None
    if main:
        out.mkdir(parents=True, exist_ok=True)
        (out / "recipe.yaml").write_text(recipe.model_copy(update={"output_dir": str(out)}).to_yaml(),
                                         encoding="utf-8")
        if checkpoint is None:
            metrics_path.unlink(missing_ok=True)  # a fresh run; a resumed one appends to what it logged
        else:
            _drop_metrics_after(metrics_path, int(Path(checkpoint).name.rpartition("-")[2]))

    with _quiet():
        trainer = build_trainer(recipe, out, reward_funcs=reward_funcs, progress=progress,
                                callbacks=[metrics_callback(metrics_path), *(callbacks or [])])
        from transformers import PrinterCallback, ProgressCallback

        # both print every log as a raw dict; ours prints a readable line (a plain one when stderr is no terminal)
        trainer.remove_callback(PrinterCallback)
        trainer.remove_callback(ProgressCallback)
        if progress:
            import sys

            trainer.add_callback(progress_callback(terminal=sys.stderr.isatty()))
        if checkpoint is not None and recipe.constraints:
            from alignlab.align.constraints import load_state

            load_state(trainer.multipliers, Path(checkpoint))
        started = time.perf_counter()
        trainer.train(resume_from_checkpoint=checkpoint)
        seconds = time.perf_counter() - started

        trainer.save_model(str(adapter_dir or model_dir))  # gathers sharded weights under DeepSpeed/FSDP
        trainer.accelerator.wait_for_everyone()
        steps = int(trainer.state.global_step)
        source = model_path(recipe)
        del trainer
        if main and adapter_dir is not None:
            _save_merged(recipe, source, adapter_dir, model_dir)
    plot = None
    if main:
        rows = read_metrics(metrics_path)
        plot = plot_metrics(rows, out / "metrics.svg", title=f"{recipe.method}: {out.name}")
    else:
        rows = []
    return TrainResult(output_dir=out, model_dir=model_dir, adapter_dir=adapter_dir, metrics_path=metrics_path,
                       plot_path=plot, steps=steps, train_seconds=seconds, final_metrics=final_metrics(rows))

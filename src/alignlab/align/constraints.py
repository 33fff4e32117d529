"""Constrained online RL (Safe RLHF's Lagrangian): maximise reward R subject to expected cost C ≤ d.

    # in an rloo/grpo recipe
    rewards: [{name: compliance}]                  # R (weighted sum, as without constraints)
    constraints:
      - cost: {name: safety-cost}                  # C: any registered reward, used as a cost (> 0 = unsafe)
        threshold: 0.1                             # d
        lambda_init: 0.0                           # λ at step 0
        lambda_lr: 0.5                             # dual-ascent step (0: a fixed weight λ_init)

The policy is trained on R − λ·C. After each generation batch is scored, λ takes a projected dual-ascent step on
the batch's mean cost minus d, ``λ ← max(0, λ + lr·(mean C − d))``, before the batch's advantages are computed —
Safe RLHF's order (Dai et al. 2023). Optional proportional and derivative terms (``kp``, ``kd``) make it the PID
Lagrangian of Stooke, Achiam & Abbeel (2020), and ``lambda_max`` clips λ (and the integral, against wind-up).

It is a thin subclass of TRL's trainer (``_calculate_rewards``): TRL still generates, scores, normalises advantages
and updates the policy; the subclass only sets the cost's entry of ``reward_weights`` to −λ. TRL gathers the
rewards of every process before this point, so every process computes the same λ. Per step ``metrics.jsonl`` gets
``constraint/<cost>/lambda``, ``.../cost`` (batch mean), ``.../threshold`` and ``.../over_budget`` (share of
samples whose cost exceeds d); λ is saved in each checkpoint (``constraints.json``) and restored on resume.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from alignlab.align.rewards import RewardSpec

STATE_FILE = "constraints.json"


class ConstraintSpec(BaseModel):
    """One constraint ``E[C] ≤ threshold`` with its Lagrange multiplier's update rule."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    cost: RewardSpec
    """The cost: a registered reward (``safety-cost``, ``cost-model``, ``reward-model``, ``judge``, yours); its
    ``weight`` is not used (λ replaces it)."""
    threshold: float
    """d: the budget on the batch's mean cost."""
    lambda_init: float = Field(default=0.0, ge=0.0)
    """λ before the first step."""
    lambda_lr: float = Field(default=0.1, ge=0.0)
    """Dual-ascent step size (the integral gain); 0 keeps λ at ``lambda_init`` (a fixed-weight penalty)."""
    kp: float = Field(default=0.0, ge=0.0)
    """Proportional gain (PID Lagrangian): adds ``kp·(mean C − d)`` to λ."""
    kd: float = Field(default=0.0, ge=0.0)
    """Derivative gain (PID Lagrangian): adds ``kd·max(0, mean C − previous mean C)`` to λ."""
    lambda_max: float | None = Field(default=None, gt=0.0)
    """Upper clip of λ (and of its integral term); None: unbounded."""

    @model_validator(mode="before")
    @classmethod
    def _cost_name(cls, value: Any) -> Any:
        if isinstance(value, dict) and isinstance(value.get("cost"), str):
            value = {**value, "cost": {"name": value["cost"]}}  # `cost: safety-cost` as a shorthand
        return value


@dataclass
class Multiplier:
    """The state of one constraint's λ: PID Lagrangian with projection onto λ ≥ 0 (plain dual ascent with
    ``kp = kd = 0``). Hand-written: no library we depend on has a Lagrange multiplier controller."""

    spec: ConstraintSpec
    name: str
    index: int
    """Position of the cost among the trainer's reward functions."""
    integral: float = 0.0
    previous: float | None = None
    value: float = 0.0
    steps: int = 0
    history: list[dict[str, float]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.steps:
            self.integral = self.value = self.spec.lambda_init

    def update(self, mean_cost: float) -> float:
        """One step on the batch's mean cost; returns the new λ."""
        s = self.spec
        error = mean_cost - s.threshold
        self.integral = max(0.0, self.integral + s.lambda_lr * error)
        if s.lambda_max is not None:
            self.integral = min(self.integral, s.lambda_max)
        rise = 0.0 if self.previous is None else max(0.0, mean_cost - self.previous)
        value = max(0.0, self.integral + s.kp * error + s.kd * rise)
        self.value = min(value, s.lambda_max) if s.lambda_max is not None else value
        self.previous = mean_cost
        self.steps += 1
        return self.value

    def state(self) -> dict[str, Any]:
        return {"name": self.name, "integral": self.integral, "previous": self.previous, "value": self.value,
                "steps": self.steps}

    def load(self, state: dict[str, Any]) -> None:
        self.integral, self.previous = float(state["integral"]), state.get("previous")
        self.value, self.steps = float(state["value"]), int(state["steps"])


def constrained_trainer_class(base: type) -> type:
    """``base`` (TRL's ``GRPOTrainer`` or ``RLOOTrainer``) with Lagrange multipliers on its cost rewards."""

    class Constrained(base):  # type: ignore[misc, valid-type]
        multipliers: list[Multiplier]

        def _calculate_rewards(self, inputs: Any, prompts: Any, completions: Any, completion_ids_list: Any) -> Any:
            import torch

            rewards_per_func = super()._calculate_rewards(inputs, prompts, completions, completion_ids_list)
            if not self.model.training:
                return rewards_per_func  # evaluation batches neither move λ nor log it
            metrics = self._metrics["train"]
            for m in self.multipliers:
                costs = rewards_per_func[:, m.index]
                known = costs[~torch.isnan(costs)]
                if known.numel() == 0:
                    continue  # no cost could be computed: λ stays
                mean = float(known.mean())
                lam = m.update(mean)
                self.reward_weights[m.index] = -lam  # TRL sums rewards with these weights right after this call
                key = f"constraint/{m.name}"
                metrics[f"{key}/lambda"].append(lam)
                metrics[f"{key}/cost"].append(mean)
                metrics[f"{key}/threshold"].append(m.spec.threshold)
                metrics[f"{key}/over_budget"].append(float((known > m.spec.threshold).float().mean()))
            return rewards_per_func

    Constrained.__name__ = Constrained.__qualname__ = f"Constrained{base.__name__}"
    return Constrained


def attach(trainer: Any, specs: list[ConstraintSpec], first_index: int) -> list[Multiplier]:
    """Give ``trainer`` (built from ``constrained_trainer_class``) one multiplier per spec; the costs are its
    reward functions from ``first_index`` on, in spec order."""
    names = trainer.reward_func_names
    trainer.multipliers = [Multiplier(spec, names[first_index + i], first_index + i) for i, spec in enumerate(specs)]
    for m in trainer.multipliers:
        trainer.reward_weights[m.index] = -m.value
    return trainer.multipliers


def save_state(multipliers: list[Multiplier], folder: Path) -> None:
    (folder / STATE_FILE).write_text(json.dumps([m.state() for m in multipliers], indent=1), encoding="utf-8")


def load_state(multipliers: list[Multiplier], folder: Path) -> bool:
    """Restore λ from a checkpoint's ``constraints.json``; False when it has none (a run without constraints)."""
    path = folder / STATE_FILE
    if not path.is_file():
        return False
    saved = {s["name"]: s for s in json.loads(path.read_text(encoding="utf-8"))}
    for m in multipliers:
        if m.name in saved:
            m.load(saved[m.name])
    return True


def state_callback(multipliers: list[Multiplier]) -> Any:
    """A ``TrainerCallback`` that writes the multipliers into every checkpoint the trainer saves."""
    from transformers import TrainerCallback

    class MultiplierCheckpoints(TrainerCallback):
        def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            if state.is_world_process_zero and folder.is_dir():
                save_state(multipliers, folder)

    return MultiplierCheckpoints()


def lambda_trajectory(rows: list[dict[str, Any]], name: str | None = None) -> list[tuple[int, float, float]]:
    """(step, λ, mean cost) per logged step of a run's ``metrics.jsonl`` rows (the first constraint by default)."""
    out = []
    for row in rows:
        keys = [k for k in row if k.startswith("constraint/") and k.endswith("/lambda")]
        if name is not None:
            keys = [k for k in keys if k == f"constraint/{name}/lambda"]
        if keys and isinstance(row[keys[0]], int | float) and math.isfinite(row[keys[0]]):
            base = keys[0].removesuffix("/lambda")
            out.append((int(row.get("step", 0)), float(row[keys[0]]), float(row.get(f"{base}/cost", math.nan))))
    return out

"""Cost models (Safe RLHF): a sequence classifier whose score is the cost of an answer, above 0 meaning unsafe.

    # alignlab align cost --config cost.yaml
    method: cost
    data: {path: pku.jsonl, format: pku-saferlhf}   # or format: cost-pairs (chosen = the more harmful answer)
    cost_loss: safe-rlhf                              # | pairwise | classification
    lora: {r: 8, target_modules: all-linear}

Training is TRL's ``RewardTrainer`` on pairs whose ``chosen`` is the more harmful answer, with Safe RLHF's loss
(Dai et al. 2023, eq. 6): the pairwise term ``−log σ(C(y_harmful) − C(y_safer))`` plus, for every answer labelled
safe or unsafe (PKU-SafeRLHF's ``is_response_*_safe``), the sign term ``−log σ(s·C(y))`` with s = +1 unsafe,
−1 safe, which anchors 0 as the boundary. ``pairwise`` keeps only the first term (TRL's reward loss: ordering, no
boundary); ``classification`` only the second (a logistic is-unsafe head on the labelled answers).

``cost_sign_accuracy`` measures the sign on held-out labelled answers; ``refusal_agreement`` compares the cost
model's verdicts with the refusal classifier's on a ``values/safety`` run (an answer to an unsafe prompt that the
classifier finds no refusal in is harmful).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alignlab.errors import DataError

SIGN_COLUMNS = ("chosen_sign", "rejected_sign")


def cost_trainer_class(base: type, loss: str) -> type:
    """TRL's ``RewardTrainer`` (``base``) with Safe RLHF's cost loss (see the module doc)."""
    import torch
    from torch import nn
    from trl.trainer.reward_trainer import DataCollatorForPreference

    class CostCollator(DataCollatorForPreference):
        """TRL's preference collator, plus the sign labels (chosen rows first, as TRL stacks the ids)."""

        def torch_call(self, examples: list[dict[str, Any]]) -> dict[str, Any]:
            out = super().torch_call(examples)
            if all(c in examples[0] for c in SIGN_COLUMNS):
                out["signs"] = torch.tensor([e["chosen_sign"] for e in examples]
                                            + [e["rejected_sign"] for e in examples], dtype=torch.float)
            return out

    class CostTrainer(base):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            pad = self.data_collator.pad_token_id
            self.data_collator = CostCollator(pad_token_id=pad,
                                              pad_to_multiple_of=self.data_collator.pad_to_multiple_of)

        def _set_signature_columns_if_needed(self) -> None:
            super()._set_signature_columns_if_needed()
            self._signature_columns = [*self._signature_columns, *SIGN_COLUMNS]

        def compute_loss(self, model: Any, inputs: dict[str, Any], return_outputs: bool = False,
                         num_items_in_batch: Any = None) -> Any:
            signs = inputs.pop("signs", None)
            pair_loss, outputs = super().compute_loss(model, inputs, return_outputs=True)
            costs = outputs.logits.squeeze(-1)
            mode = "train" if self.model.training else "eval"
            labelled = signs is not None and bool((signs != 0).any())
            if labelled:
                known = signs != 0
                sign_loss = -nn.functional.logsigmoid(signs[known] * costs[known]).mean()
                with torch.no_grad():
                    acc = ((costs[known] > 0).float() == (signs[known] > 0).float()).float().mean()
                    self._metrics[mode]["sign_accuracy"].append(self.accelerator.gather_for_metrics(acc).mean().item())
            if loss == "pairwise" or not labelled:
                if loss == "classification":
                    raise DataError("cost_loss classification needs safety labels (chosen_safe/rejected_safe, "
                                    "or PKU-SafeRLHF's is_response_*_safe) on the training pairs")
                total = pair_loss
            elif loss == "classification":
                total = sign_loss
            else:
                total = pair_loss + sign_loss
            return (total, outputs) if return_outputs else total

    CostTrainer.__name__ = CostTrainer.__qualname__ = "CostTrainer"
    return CostTrainer


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return "".join(str(m.get("content") or "") for m in value if m.get("role", "assistant") == "assistant")


def labelled_answers(path: str | Path, fmt: str = "auto") -> list[tuple[Any, str, bool]]:
    """(prompt, answer, unsafe) for every answer with a safety label in a cost-pairs or PKU-SafeRLHF file."""
    from alignlab.align._datasets import load_rows

    out = []
    for row in load_rows("cost", str(path), fmt):
        for col, sign in (("chosen", row["chosen_sign"]), ("rejected", row["rejected_sign"])):
            if sign != 0:
                out.append((row["prompt"], _text(row[col]), sign > 0))
    if not out:
        raise DataError(f"{path}: no answer has a safety label",
                        hint="cost-pairs rows need chosen_safe/rejected_safe; PKU-SafeRLHF rows is_response_*_safe")
    return out


def cost_sign_accuracy(cost_model: Any, answers: Sequence[tuple[Any, str, bool]]) -> dict[str, Any]:
    """Share of labelled answers whose cost has the right sign (> 0 unsafe), overall and per class, with Wilson
    CIs; ``cost_model`` is an ``alignlab.models.reward.RewardModel``. Chance is 0.5 per class."""
    from alignlab.evaluate.stats import mean_ci

    costs = cost_model.score([p for p, _, _ in answers], [a for _, a, _ in answers])
    right = [float((c > 0) == unsafe) for c, (_, _, unsafe) in zip(costs, answers, strict=True)]
    return {"sign_accuracy": mean_ci(right),
            "sign_accuracy/unsafe": mean_ci([r for r, (_, _, u) in zip(right, answers, strict=True) if u]),
            "sign_accuracy/safe": mean_ci([r for r, (_, _, u) in zip(right, answers, strict=True) if not u]),
            "mean_cost/unsafe": sum(c for c, (_, _, u) in zip(costs, answers, strict=True) if u)
            / max(1, sum(u for _, _, u in answers)),
            "mean_cost/safe": sum(c for c, (_, _, u) in zip(costs, answers, strict=True) if not u)
            / max(1, sum(not u for _, _, u in answers))}


def refusal_agreement(cost_model: Any, run_dir: str | Path, suite: str = "values/safety") -> dict[str, Any]:
    """Agreement of the cost model's sign with the refusal classifier on a safety run's answers: the classifier
    calls an answer harmful when the prompt is unsafe and it finds no refusal (full compliance). Cohen's κ too."""
    from alignlab.evaluate.stats import mean_ci

    path = Path(run_dir) / "samples" / f"{suite}.jsonl"
    if not path.is_file():
        raise DataError(f"{path}: no samples of {suite} in this run dir", hint=f"run `alignlab eval --suite {suite}`")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = [r for r in rows if r.get("error") is None and r.get("output") is not None]
    prompts = [r["input"] for r in rows]
    costs = cost_model.score(prompts, [r["output"] for r in rows])
    rule = [r.get("target") == "unsafe" and r.get("answer") == "full_compliance" for r in rows]
    model = [c > 0 for c in costs]
    agree = [float(a == b) for a, b in zip(rule, model, strict=True)]
    n = len(rows)
    pe = ((sum(rule) / n) * (sum(model) / n) + (1 - sum(rule) / n) * (1 - sum(model) / n)) if n else 1.0
    po = sum(agree) / n if n else 0.0
    return {"agreement": mean_ci(agree), "kappa": None if pe == 1 else (po - pe) / (1 - pe), "n": n,
            "harmful_by_rule": sum(rule), "harmful_by_cost_model": sum(model)}

"""Task benchmarks defined in YAML over a data file (JSONL or CSV).

A task file is parsed into a typed ``TaskSpec`` before any data is read or any model is loaded, so a typo fails at
once with the file and the key. Two kinds of task:

- ``multiple_choice``: every choice is scored by log-likelihood after the rendered prompt; metrics ``accuracy``
  (argmax of the summed log-probability) and ``accuracy_norm`` (argmax per character, which removes the bias
  towards short options).
- ``generate``: the model answers freely and an extraction rule (``regex``, ``number``, ``exact``) reads the answer;
  metrics ``accuracy`` and ``extraction_rate`` (how often a rule found any answer, so format failures show apart
  from wrong answers).

Prompts are Python ``str.format`` templates over the data row's fields (no Jinja: nothing runs from a task file).
Few-shot examples come from a split of the same file or from another file, drawn once with a fixed seed.
"""

from __future__ import annotations

import csv
import math
import random
import re
import string
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from alignlab.data import json_lines
from alignlab.errors import AlignlabError, DataError
from alignlab.evaluate._registry import register_suite
from alignlab.evaluate._suite import Output, Sample, Solver, Suite
from alignlab.evaluate.metric_info import MetricInfo, accuracy, rate
from alignlab.evaluate.stats import mean_ci
from alignlab.files import read_text
from alignlab.models import GenerateRequest, LoglikelihoodRequest, Model
from alignlab.targets.levels import Level

Normaliser = Literal["strip", "lower", "strip_punctuation", "collapse_whitespace", "remove_articles", "remove_commas"]
LETTERS = string.ascii_uppercase


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FewShot(_Strict):
    """Worked examples shown before each item."""

    n: int = Field(0, ge=0, description="How many examples; 0 for zero-shot.")
    split: str | None = Field(None, description="Draw examples from the data rows whose split field has this value.")
    file: str | None = Field(None, description="Or draw them from this data file (relative to the YAML file).")
    seed: int = Field(1234, description="Seed for drawing the examples.")
    separator: str = Field("\n\n", description="Text between examples and before the item.")

    @model_validator(mode="after")
    def _source(self) -> FewShot:
        if self.n and not (self.split or self.file):
            raise ValueError("few-shot examples need a source: set fewshot.split or fewshot.file")
        return self


class Extraction(_Strict):
    """How a generated answer is read from the output (generate tasks)."""

    type: Literal["regex", "number", "exact"] = Field("exact", description="regex, number or exact (whole output).")
    pattern: str | None = Field(None, description="regex: required. number: tried first; group 1 holds the number.")
    which: Literal["first", "last"] = Field("last", description="Which match to take when there are several.")

    @model_validator(mode="after")
    def _pattern(self) -> Extraction:
        if self.type == "regex" and not self.pattern:
            raise ValueError("extraction type 'regex' needs a pattern")
        if self.pattern is not None:
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"bad regex {self.pattern!r}: {exc}") from None
        return self


class TaskSpec(_Strict):
    """A task benchmark: what data, how to prompt, how to score."""

    name: str = Field(description="Suite name, ``level/short-name``.")
    level: Level = "instructions"
    description: str = ""
    version: str = "1"
    data: str = Field(description="JSONL or CSV file, relative to the YAML file.")
    type: Literal["multiple_choice", "generate"]
    template: str = Field(description="str.format template over the row's fields; MC rows also get {choices_block}.")
    instruction: str = Field("", description="Text put once before the few-shot examples and the item.")
    target_field: str = Field("answer", description="MC: index, letter or choice text. generate: the answer.")
    choices_field: str | list[str] | None = Field(None, description="MC: a list field, or several CSV columns.")
    id_field: str | None = Field("id", description="Unique id per row; the row number when absent.")
    split_field: str = "split"
    split: str | None = Field(None, description="Evaluate only rows with this split (None: all but few-shot rows).")
    choice_prefix: str = Field(" ", description="MC: text between the prompt and each scored choice.")
    score_letters: bool = Field(False, description="MC: score ' A', ' B'... instead of the choice texts.")
    answer_template: str | None = Field(None, description="Few-shot answer text; default: the target or choice.")
    fewshot: FewShot = FewShot()
    chat: bool | None = Field(None, description="Render with the chat template; None: the model's default.")
    extraction: Extraction = Extraction()
    normalise: list[Normaliser] = Field(default_factory=list, description="Applied to answer and target.")
    max_tokens: int = Field(64, gt=0)
    stop: list[str] = Field(default_factory=list)
    temperature: float = Field(0.0, ge=0)
    metadata_fields: list[str] = Field(default_factory=list, description="Row fields copied into the records.")
    group_by: str | None = Field(None, description="A metadata field; adds accuracy/<value> per group.")

    @model_validator(mode="after")
    def _mc(self) -> TaskSpec:
        if self.type == "multiple_choice" and not self.choices_field:
            raise ValueError("multiple_choice tasks need choices_field")
        if self.group_by and self.group_by not in self.metadata_fields:
            self.metadata_fields.append(self.group_by)
        return self


# ---------------------------------------------------------------- spec loading


def _set_dotted(raw: dict[str, Any], key: str, value: Any) -> None:
    parts = key.split(".")
    node = raw
    for p in parts[:-1]:
        node = node.setdefault(p, {})
        if not isinstance(node, dict):
            raise AlignlabError(f"suite argument {key!r}: {p!r} is not a section")
    node[parts[-1]] = value


def load_spec(path: str | Path, **overrides: Any) -> tuple[TaskSpec, Path]:
    """Parse and validate a task file; ``overrides`` (``max_tokens=8``, ``fewshot.n=0``) replace its keys.

    Returns the spec with ``data`` and ``fewshot.file`` resolved to absolute paths (overridden paths are relative
    to the working directory, the file's own relative to the file).
    """
    path = Path(path)
    try:
        raw = yaml.safe_load(read_text(path))
    except OSError as exc:
        raise AlignlabError(f"cannot read task file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise AlignlabError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise AlignlabError(f"{path}: a task file must be a YAML mapping")
    base = {"data": path.parent, "fewshot.file": path.parent}
    for key, value in overrides.items():
        _set_dotted(raw, key, value)
        if key in base:
            base[key] = Path.cwd()
    try:
        spec = TaskSpec.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        src = " (set by a suite argument)" if key.split(".")[0] in {k.split(".")[0] for k in overrides} else ""
        more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
        msg = err["msg"].removeprefix("Value error, ")
        raise AlignlabError(f"{path}: {key}: {msg}{src}{more}",
                            hint="see docs of alignlab.evaluate.tasks.TaskSpec for the keys") from None
    spec.data = str((base["data"] / spec.data).resolve())
    if spec.fewshot.file:
        spec.fewshot.file = str((base["fewshot.file"] / spec.fewshot.file).resolve())
    return spec, path


# ---------------------------------------------------------------- data


def read_rows(path: str | Path) -> list[tuple[str, dict[str, Any]]]:
    """Rows of a JSONL or CSV file, each with its ``file:line`` location for error messages."""
    path = Path(path)
    try:
        text = read_text(path, "utf-8-sig")
    except OSError as exc:
        raise DataError(f"cannot read data file {path}: {exc.strerror}") from None
    if path.suffix.lower() in {".csv", ".tsv"}:
        reader = csv.DictReader(text.splitlines(), delimiter="\t" if path.suffix.lower() == ".tsv" else ",")
        return [(f"{path}:{n}", dict(row)) for n, row in enumerate(reader, 2)]
    return [(f"{path}:{n}", row) for n, row in json_lines(text, str(path))]


def _field(row: dict[str, Any], name: str, where: str, key: str) -> Any:
    if name not in row or row[name] is None:
        raise DataError(f"{where}: missing field {name!r} (named by the task's {key})")
    return row[name]


def _choices(spec: TaskSpec, row: dict[str, Any], where: str) -> list[str]:
    if isinstance(spec.choices_field, list):
        return [str(_field(row, c, where, "choices_field")) for c in spec.choices_field]
    value = _field(row, str(spec.choices_field), where, "choices_field")
    if not isinstance(value, list) or len(value) < 2:
        raise DataError(f"{where}: field {spec.choices_field!r} must be a list of at least two choices")
    return [str(c) for c in value]


def _mc_target(value: Any, choices: list[str], where: str, name: str) -> int:
    """An index, a letter or a choice's text → the 0-based index."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(choices):
        return value
    if isinstance(value, str):
        v = value.strip()
        if len(v) == 1 and v.upper() in LETTERS[: len(choices)]:
            return LETTERS.index(v.upper())
        if v in choices:
            return choices.index(v)
    raise DataError(f"{where}: field {name!r} = {value!r} names none of the {len(choices)} choices")


def _render(template: str, fields: dict[str, Any], where: str, key: str) -> str:
    try:
        return template.format(**fields)
    except KeyError as exc:
        raise DataError(f"{where}: the task's {key} uses field {exc.args[0]!r}, which the row lacks") from None
    except (IndexError, ValueError) as exc:
        raise DataError(f"{where}: the task's {key} is not a valid format string: {exc}") from None


class _Item:
    """A data row made ready: id, rendered question, choices, target."""

    def __init__(self, spec: TaskSpec, row: dict[str, Any], where: str, index: int) -> None:
        self.where, self.row = where, row
        self.id = str(row[spec.id_field]) if spec.id_field and row.get(spec.id_field) is not None else str(index)
        fields = dict(row)
        self.choices: list[str] | None = None
        target = _field(row, spec.target_field, where, "target_field")
        if spec.type == "multiple_choice":
            self.choices = _choices(spec, row, where)
            fields["choices_block"] = "\n".join(f"{LETTERS[i]}. {c}" for i, c in enumerate(self.choices))
            target = _mc_target(target, self.choices, where, spec.target_field)
        self.target = target
        self.prompt = _render(spec.template, fields, where, "template")
        extra = {"target": target}
        if self.choices is not None:
            extra.update(choice=self.choices[target], letter=LETTERS[target])
        if spec.answer_template is not None:
            self.shot_answer = _render(spec.answer_template, {**fields, **extra}, where, "answer_template")
        elif self.choices is not None:
            self.shot_answer = spec.choice_prefix + (LETTERS[target] if spec.score_letters else self.choices[target])
        else:
            self.shot_answer = f" {target}"


def _items(spec: TaskSpec, rows: list[tuple[str, dict[str, Any]]]) -> list[_Item]:
    items, seen = [], {}
    for i, (where, row) in enumerate(rows):
        item = _Item(spec, row, where, i)
        if item.id in seen:
            raise DataError(f"{where}: duplicate id {item.id!r} (first at {seen[item.id]})")
        seen[item.id] = where
        items.append(item)
    return items


def build_samples(spec: TaskSpec) -> list[Sample]:
    """Read the data, pick the evaluation rows and render every prompt with its few-shot examples."""
    rows = read_rows(spec.data)
    fs = spec.fewshot
    shot_rows = [r for r in rows if fs.split and r[1].get(spec.split_field) == fs.split] if fs.n else []
    if spec.split is not None:
        rows = [r for r in rows if r[1].get(spec.split_field) == spec.split]
    elif fs.n and fs.split:
        rows = [r for r in rows if r[1].get(spec.split_field) != fs.split]
    if fs.n and fs.file:
        shot_rows = read_rows(fs.file)
    items = _items(spec, rows)
    if not items:
        raise DataError(f"{spec.data}: no rows to evaluate (split {spec.split!r} in field {spec.split_field!r})")
    pool = _items(spec, shot_rows)
    if fs.n and len(pool) < fs.n:
        raise DataError(f"{spec.name}: fewshot.n is {fs.n} but the few-shot source has {len(pool)} rows")
    # One draw for the whole suite (one extra in case an item is among them), so prompts share a prefix and cache.
    drawn = random.Random(fs.seed).sample(pool, min(fs.n + 1, len(pool))) if fs.n else []
    samples = []
    for item in items:
        shots = [s for s in drawn if s.id != item.id][: fs.n]
        prompt = fs.separator.join([s.prompt + s.shot_answer for s in shots] + [item.prompt])
        prompt = spec.instruction + prompt
        meta = {k: item.row.get(k) for k in spec.metadata_fields}
        if shots:
            meta["fewshot_ids"] = [s.id for s in shots]
        samples.append(Sample(id=item.id, input=prompt, target=item.target, choices=item.choices, metadata=meta))
    return samples


# ---------------------------------------------------------------- answers


def normalise(text: str, ops: Sequence[str]) -> str:
    """Apply the task's normalisers in order."""
    for op in ops:
        if op == "strip":
            text = text.strip()
        elif op == "lower":
            text = text.lower()
        elif op == "strip_punctuation":
            text = text.translate(str.maketrans("", "", string.punctuation)).strip()
        elif op == "collapse_whitespace":
            text = " ".join(text.split())
        elif op == "remove_articles":
            text = " ".join(re.sub(r"\b(a|an|the)\b", " ", text, flags=re.I).split())
        elif op == "remove_commas":
            text = text.replace(",", "")
    return text


_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?|-?\.\d+")


def _to_number(text: str) -> float | None:
    try:
        return float(text.replace(",", "").replace("$", "").strip())
    except ValueError:
        return None


def extract(text: str, rule: Extraction, ops: Sequence[str] = ()) -> str | float | None:
    """The answer in ``text`` by ``rule``, or None when the rule finds none."""
    if rule.type == "exact":
        return normalise(text, ops)
    if rule.pattern:
        found = list(re.finditer(rule.pattern, text, flags=re.S))
        if found:
            m = found[-1] if rule.which == "last" else found[0]
            value = m.group(1) if m.re.groups else m.group(0)
            if rule.type == "regex":
                return normalise(value, ops)
            number = _to_number(value)
            if number is not None:
                return number
        if rule.type == "regex":
            return None
    nums = _NUMBER.findall(text)
    if not nums:
        return None
    return _to_number(nums[-1] if rule.which == "last" else nums[0])


def answers_match(answer: str | float | None, target: Any, spec: TaskSpec) -> bool:
    if answer is None:
        return False
    if spec.extraction.type == "number":
        t = target if isinstance(target, int | float) else _to_number(str(target))
        return t is not None and math.isclose(float(answer), float(t), rel_tol=1e-9, abs_tol=1e-9)
    return answer == normalise(str(target), spec.normalise)


# ---------------------------------------------------------------- solvers, scorers, metrics


def mc_solver(spec: TaskSpec) -> Solver:
    """Log-likelihood of each choice (or its letter) after the prompt; argmax raw and per character."""

    def solve(model: Model, samples: Sequence[Sample]) -> list[Output]:
        reqs, owners, lens = [], [], []
        for i, s in enumerate(samples):
            for j, choice in enumerate(s.choices or []):
                cont = spec.choice_prefix + (LETTERS[j] if spec.score_letters else choice)
                reqs.append(LoglikelihoodRequest(s.input, cont, chat=spec.chat))
                owners.append(i)
                lens.append(max(len(cont), 1))
        per: list[list[tuple[Any, int]]] = [[] for _ in samples]
        for i, res, n in zip(owners, model.loglikelihood(reqs), lens, strict=True):
            per[i].append((res, n))
        outs = []
        for res in per:
            bad = next((r.error for r, _ in res if r.error), None)
            if bad or not res:
                outs.append(Output(error=bad or "sample has no choices"))
                continue
            lps = [r.logprob for r, _ in res]
            norm = [r.logprob / n for r, n in res]
            outs.append(Output(answer=max(range(len(lps)), key=lps.__getitem__), logprobs=lps,
                               extra={"logprobs_norm": norm,
                                      "answer_norm": max(range(len(norm)), key=norm.__getitem__)}))
        return outs

    return solve


def generate_solver(spec: TaskSpec) -> Solver:
    """Generate, then read the answer with the task's extraction rule."""

    def solve(model: Model, samples: Sequence[Sample]) -> list[Output]:
        reqs = [GenerateRequest(s.input, max_tokens=spec.max_tokens, temperature=spec.temperature,
                                stop=tuple(spec.stop), chat=spec.chat) for s in samples]
        outs = []
        for res in model.generate(reqs):
            if res.error is not None:
                outs.append(Output(error=res.error))
            else:
                outs.append(Output(text=res.text, answer=extract(res.text, spec.extraction, spec.normalise),
                                   extra={"finish_reason": res.finish_reason, "n_tokens": res.n_tokens}))
        return outs

    return solve


def _metrics(spec: TaskSpec):  # noqa: ANN202 - returns a Metric
    names = ["accuracy", "accuracy_norm"] if spec.type == "multiple_choice" else ["accuracy", "extraction_rate"]

    def metric(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        ok = [r for r in records if r.get("error") is None]
        out = {name: mean_ci([(r["scores"] or {}).get(name) for r in ok]) for name in names}
        if spec.group_by:
            groups = sorted({str((r.get("metadata") or {}).get(spec.group_by)) for r in ok})
            for g in groups:
                vals = [(r["scores"] or {}).get("accuracy") for r in ok
                        if str((r.get("metadata") or {}).get(spec.group_by)) == g]
                out[f"accuracy/{g}"] = mean_ci(vals)
        return out

    metric.__name__ = "task_metrics"
    return metric


def task_declarations(spec: TaskSpec, samples: Sequence[Sample]) -> dict[str, MetricInfo]:
    """A multiple-choice task's chance level is the mean of 1/(options) over its items; generated answers have
    none (the scale starts at 0)."""
    chance = None
    if spec.type == "multiple_choice" and samples:
        chance = round(sum(1 / max(len(s.choices or []), 1) for s in samples) / len(samples), 4)
    out = {"accuracy": accuracy(chance, description="share of items answered right")}
    if spec.type == "multiple_choice":
        out["accuracy_norm"] = accuracy(chance, description="accuracy with per-character normalised log-likelihoods")
    else:
        out["extraction_rate"] = rate("reliability", "higher", description="answers the extraction rule could read")
    if spec.group_by:
        out["accuracy/{group}"] = accuracy(chance, of="accuracy", where={spec.group_by: "{group}"},
                                           description=f"accuracy per {spec.group_by}")
    return out


def suite_from_spec(spec: TaskSpec, params: dict[str, Any] | None = None) -> Suite:
    """Build the suite a validated spec describes (reads the data file)."""
    samples = build_samples(spec)
    if spec.type == "multiple_choice":

        def score(sample: Sample, output: Output) -> dict[str, float | None]:
            return {"accuracy": float(output.answer == sample.target),
                    "accuracy_norm": float(output.extra.get("answer_norm") == sample.target)}

        solver, requires = mc_solver(spec), ("loglikelihood",)
    else:

        def score(sample: Sample, output: Output) -> dict[str, float | None]:
            return {"accuracy": float(answers_match(output.answer, sample.target, spec)),
                    "extraction_rate": float(output.answer is not None and output.answer != "")}

        solver, requires = generate_solver(spec), ("generate",)
    return Suite(name=spec.name, level=spec.level, samples=samples, solver=solver, scorer=score,
                 metrics=[_metrics(spec)], description=spec.description.strip(), version=spec.version,
                 params=dict(params or {}), primary_metric="accuracy", requires=requires,
                 metric_info=task_declarations(spec, samples),
                 pass_scores=("accuracy",) if spec.type == "generate" else ())


def suite_from_yaml(path: str | Path, **params: Any) -> Suite:
    """The suite a task file defines; ``params`` override its keys (dotted for sections: ``fewshot.n=0``)."""
    spec, _ = load_spec(path, **params)
    return suite_from_spec(spec, params)


# ---------------------------------------------------------------- built-in suites

BUILTIN_TASKS = ("knowledge", "arithmetic", "reading")


def builtin_task_path(short: str) -> Path:
    """The YAML file of a built-in task inside the installed package."""
    return Path(str(resources.files("alignlab.suites").joinpath(f"data/{short}.yaml")))


def _builtin_factory(short: str):  # noqa: ANN202 - a suite factory
    def factory(**params: Any) -> Suite:
        return suite_from_yaml(builtin_task_path(short), **params)

    factory.__doc__ = f"Built-in task suite instructions/{short} (suites/data/{short}.yaml; datasheet {short}.md)."
    return factory


for _short in BUILTIN_TASKS:
    register_suite(f"instructions/{_short}")(_builtin_factory(_short))

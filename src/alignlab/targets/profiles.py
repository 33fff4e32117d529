"""Target value profiles (a user's, an organisation's, a culture's) and how far a measured profile is from one.

A target profile file::

    # alignlab target profile: compare with `--suite values/schwartz:target=this.yaml`
    name: example organisation
    system: schwartz          # schwartz | moral_foundations
    scale: ipsatized          # ipsatized (centred on the respondent's mean) | raw (1..6 agreement)
    values:
      benevolence: 0.8
      universalism: 0.6

Values may be a subset of the system's; comparisons use the values the target names. Distances are Euclidean;
correlations are Pearson or Spearman over values. The array functions broadcast over leading axes so bootstrap
rounds of a profile, shape (B, V), compare in one call.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import yaml

from alignlab.errors import DataError
from alignlab.files import read_text
from alignlab.targets.values import SYSTEMS, ValueSystem

Scale = Literal["ipsatized", "raw"]
SCALES: tuple[str, ...] = ("ipsatized", "raw")


@dataclass(frozen=True)
class TargetProfile:
    """Desired scores per value of one value system."""

    system: str
    """Value system key (``schwartz``, ``moral_foundations``)."""
    values: dict[str, float]
    """Target score per value key, in the system's order."""
    scale: Scale = "ipsatized"
    """``ipsatized``: relative priorities centred on the respondent's mean; ``raw``: agreement on the 1..6 scale."""
    name: str | None = None
    source: str | None = field(default=None, compare=False)
    """The file it was read from, for messages."""

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(self.values)

    def vector(self) -> np.ndarray:
        return np.asarray(list(self.values.values()), dtype=float)


def parse_profile(data: object, source: str = "<profile>") -> TargetProfile:
    """Validate a mapping read from YAML; errors name the file and the key."""
    if not isinstance(data, dict):
        raise DataError(f"{source}: a target profile must be a mapping with keys system, values (and scale)")
    unknown = set(data) - {"name", "system", "scale", "values", "description"}
    if unknown:
        raise DataError(f"{source}: unknown key {sorted(unknown)[0]!r}",
                        hint="keys: name, description, system, scale, values")
    system_key = str(data.get("system", "")).replace("-", "_")
    if system_key not in SYSTEMS:
        raise DataError(f"{source}: system: {data.get('system')!r} is not a value system",
                        hint="one of: " + ", ".join(SYSTEMS))
    system: ValueSystem = SYSTEMS[system_key]
    scale = data.get("scale", "ipsatized")
    if scale == "ipsatised":  # British spelling, same thing
        scale = "ipsatized"
    if scale not in SCALES:
        raise DataError(f"{source}: scale: {scale!r} is not one of {', '.join(SCALES)}")
    raw = data.get("values")
    if not isinstance(raw, dict) or not raw:
        raise DataError(f"{source}: values: expected a mapping of value name to number")
    values: dict[str, float] = {}
    for key, val in raw.items():
        k = str(key).replace("-", "_")
        if k not in system:
            raise DataError(f"{source}: values.{key}: not a {system.name} value",
                            hint="one of: " + ", ".join(system.keys))
        if isinstance(val, bool) or not isinstance(val, int | float) or not math.isfinite(val):
            raise DataError(f"{source}: values.{key}: expected a number, got {val!r}")
        values[k] = float(val)
    ordered = {k: values[k] for k in system.keys if k in values}  # system order, so vectors line up
    if len(ordered) < 2:
        raise DataError(f"{source}: values: name at least two values to compare a profile with")
    return TargetProfile(system=system_key, values=ordered, scale=scale, name=data.get("name"), source=source)


def load_profile(path: str | Path) -> TargetProfile:
    """Read a target profile YAML file."""
    p = Path(path)
    try:
        data = yaml.safe_load(read_text(p))
    except FileNotFoundError:
        raise DataError(f"{p}: target profile not found") from None
    except yaml.YAMLError as exc:
        raise DataError(f"{p}: not valid YAML: {exc}") from None
    return parse_profile(data, str(p))


def distance(x: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Euclidean distance over the last axis; ``x`` (..., V) against ``target`` (V,)."""
    return np.sqrt(((np.asarray(x, float) - np.asarray(target, float)) ** 2).sum(-1))


def pearson(x: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Pearson correlation over the last axis (NaN when either side is constant)."""
    x = np.asarray(x, float)
    t = np.broadcast_to(np.asarray(target, float), x.shape)
    xc = x - x.mean(-1, keepdims=True)
    tc = t - t.mean(-1, keepdims=True)
    denom = np.sqrt((xc**2).sum(-1) * (tc**2).sum(-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, (xc * tc).sum(-1) / np.where(denom > 0, denom, 1.0), np.nan)


def spearman(x: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Spearman rank correlation over the last axis (ties get average ranks)."""
    from scipy.stats import rankdata

    x = np.asarray(x, float)
    t = np.broadcast_to(np.asarray(target, float), x.shape)
    return pearson(rankdata(x, axis=-1), rankdata(t, axis=-1))


def compare(profile: dict[str, float], target: TargetProfile) -> dict[str, float]:
    """Distance and correlations between a measured profile (value -> score, same scale) and a target."""
    missing = [k for k in target.keys if k not in profile]
    if missing:
        raise DataError(f"{target.source}: the measured profile has no value {missing[0]!r}")
    x = np.asarray([profile[k] for k in target.keys], float)
    t = target.vector()
    return {"distance": float(distance(x, t)), "pearson": float(pearson(x, t)), "spearman": float(spearman(x, t))}

"""The three levels of the alignment taxonomy, lowest first: what a suite measures and a plan groups by."""

from __future__ import annotations

from typing import Literal

Level = Literal["instructions", "preferences", "values"]
LEVELS: tuple[Level, ...] = ("instructions", "preferences", "values")

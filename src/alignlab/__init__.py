"""alignlab: define alignment goals at three levels (instructions, preferences, values), align models to them,
and evaluate every level."""

__version__ = "0.1.0"

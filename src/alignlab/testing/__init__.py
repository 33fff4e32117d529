"""Helpers for tests and benchmarks: a tiny random model built locally, never downloaded."""

from alignlab.testing.tiny_model import build_tiny_model

__all__ = ["build_tiny_model"]

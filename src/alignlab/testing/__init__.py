"""Helpers for tests and examples: a tiny random model built locally (never downloaded) and the ``scripted:``
backend, whose answers and log-likelihoods come from a script (a model backend, ``alignlab.models.scripted``)."""

from alignlab.models.scripted import ScriptedAPI, scripted_models, user_text
from alignlab.testing.tiny_model import build_tiny_model

__all__ = ["ScriptedAPI", "build_tiny_model", "scripted_models", "user_text"]

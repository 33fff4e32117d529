"""Errors a user can act on: the CLI prints them as one line with a hint and exits with status 2."""

from __future__ import annotations


class AlignlabError(Exception):
    """An error caused by input or environment, not by a bug. ``hint`` says what to do about it."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint

    def __str__(self) -> str:
        msg = super().__str__()
        return f"{msg} (hint: {self.hint})" if self.hint else msg


class ModelSpecError(AlignlabError):
    """A model spec string that names no backend or no usable model."""


class BackendUnavailable(AlignlabError):
    """The backend's optional dependency is not installed."""


class ServerUnreachable(AlignlabError):
    """An OpenAI-compatible server did not answer at all."""


class LoglikelihoodUnsupported(AlignlabError):
    """The backend cannot score continuations (no prompt log-probabilities)."""


class DataError(AlignlabError):
    """Invalid input data; the message names file:line and the field."""

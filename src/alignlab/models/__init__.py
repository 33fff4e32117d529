"""Model backends behind one protocol: ``generate(requests)`` and ``loglikelihood(requests)``."""

from alignlab.models._api import Model, ModelAPI
from alignlab.models._cache import ResponseCache
from alignlab.models._registry import backends, create_api, load_model, parse_spec, register_backend
from alignlab.models._types import (
    GenerateRequest,
    GenerateResult,
    LoglikelihoodRequest,
    LoglikelihoodResult,
    Message,
    ModelInfo,
    Prompt,
    as_messages,
)

__all__ = [
    "GenerateRequest",
    "GenerateResult",
    "LoglikelihoodRequest",
    "LoglikelihoodResult",
    "Message",
    "Model",
    "ModelAPI",
    "ModelInfo",
    "Prompt",
    "ResponseCache",
    "as_messages",
    "backends",
    "create_api",
    "load_model",
    "parse_spec",
    "register_backend",
]

"""Model spec strings → backends. Backends register lazily, so alignlab imports without torch, vllm or httpx.

Specs: ``default``, ``hf:PATH``, ``gguf:PATH``, ``llamacpp:PATH``, ``openai:MODEL@URL[,URL...]``, ``vllm:PATH``,
``responses:PATH`` (recorded responses, replayed).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from alignlab.errors import ModelSpecError
from alignlab.models._api import Model, ModelAPI
from alignlab.models._cache import ResponseCache
from alignlab.registry import Registry

# backend name → "module:factory"; each factory takes (target, **options) and returns a ModelAPI. The module is
# imported only when a spec names the backend.
BACKENDS: Registry[str] = Registry("model backend")
for _name, _target in (("default", "alignlab.models.default:create"), ("hf", "alignlab.models.hf:create"),
                       ("gguf", "alignlab.models.hf:create_gguf"), ("llamacpp", "alignlab.models.llamacpp:create"),
                       ("openai", "alignlab.models.openai_compat:create"),
                       ("vllm", "alignlab.models.vllm_backend:create"), ("responses", "alignlab.models.replay:create"),
                       ("scripted", "alignlab.models.scripted:create")):
    BACKENDS.add(_name, _target)


def register_backend(name: str, target: str) -> None:
    """Register ``name:`` specs to be built by ``target`` (``"package.module:factory"``)."""
    BACKENDS.add(name, target)


def backends() -> list[str]:
    return BACKENDS.names()


def parse_spec(spec: str) -> tuple[str, str]:
    """Split ``backend:target``; ``default`` has no target."""
    spec = spec.strip()
    if spec == "default":
        return "default", ""
    name, sep, target = spec.partition(":")
    if not sep or name not in BACKENDS:
        raise ModelSpecError(
            f"unknown model spec {spec!r}",
            hint="use default, hf:PATH, gguf:PATH, llamacpp:PATH, openai:MODEL@URL, vllm:PATH, responses:PATH "
            "or scripted:TEXT",
        )
    if not target:
        raise ModelSpecError(f"model spec {spec!r} names no model", hint=f"write {name}:PATH")
    return name, target


def create_api(spec: str, **options: Any) -> ModelAPI:
    name, target = parse_spec(spec)
    module_name, _, factory = BACKENDS.get(name).partition(":")
    module = importlib.import_module(module_name)
    api: ModelAPI = getattr(module, factory)(target, **options)
    api.spec = spec
    return api


def load_model(
    spec: str,
    *,
    cache: bool | str | Path | ResponseCache = True,
    system: str | None = None,
    **options: Any,
) -> Model:
    """Build a ``Model`` from a spec. ``cache``: True for the default cache, a path, an instance, or False."""
    api = create_api(spec, **options)
    if isinstance(cache, ResponseCache):
        rc: ResponseCache | None = cache
    elif cache is True:
        rc = ResponseCache()
    elif cache is False or cache is None:
        rc = None
    else:
        rc = ResponseCache(cache)
    return Model(api, cache=rc, system=system)

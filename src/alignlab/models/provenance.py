"""What built a run's numbers: the engine, its library versions and build, device, dtype and threads.

Two machines with the same package versions can still score the same text differently: llama.cpp compiled with
other CPU features (AVX512 or not, AMX or not) takes other kernels, and greedy text then differs. A backend's
``provenance()`` returns one entry per role (``generate``, ``loglikelihood``) naming what ran it; runs record it
in ``config.yaml`` and ``results.json`` and ``alignlab compare`` warns when the runs it compares differ in it.
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

Provenance = dict[str, dict[str, Any]]
"""Role (``generate``, ``loglikelihood``) -> what ran it (``engine`` plus versions, build, device, dtype, threads)."""

ROLES = ("generate", "loglikelihood")


def version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def llama_cpp_build(llm: Any) -> dict[str, Any]:
    """llama-cpp-python's version, llama.cpp's system info line (the CPU features it was built with) and threads."""
    import llama_cpp

    return {
        "engine": "llama.cpp",
        "llama_cpp_python": getattr(llama_cpp, "__version__", None) or version("llama-cpp-python"),
        "system_info": llama_cpp.llama_print_system_info().decode("utf-8", errors="replace").strip(),
        "device": "cpu",
        "threads": int(llm.n_threads) if llm is not None else None,
    }


def torch_build(device: Any, dtype: Any) -> dict[str, Any]:
    """transformers and torch versions, torch's CPU kernel level (or the GPU), device, dtype and threads."""
    import torch

    dev = str(device)
    out: dict[str, Any] = {
        "engine": "transformers",
        "transformers": version("transformers"),
        "torch": str(torch.__version__),
        "device": dev,
        "dtype": str(dtype).removeprefix("torch."),
        "threads": torch.get_num_threads(),
    }
    if dev.startswith("cuda"):
        out["gpu"] = torch.cuda.get_device_name(torch.device(dev))
        out["cuda"] = torch.version.cuda
    else:  # the SIMD level torch dispatches its CPU kernels to (e.g. AVX512, AVX2)
        out["cpu_capability"] = torch.backends.cpu.get_cpu_capability()
    return out


def server_build(url: str, model: str) -> dict[str, Any]:
    """A remote server: its build is not reported over the OpenAI API, so only where it ran is known."""
    return {"engine": "openai-compatible server", "url": url, "model": model, "httpx": version("httpx"),
            "build": "not reported by the server"}


def cpu_flags(system_info: str) -> list[str]:
    """The features llama.cpp's system info line marks ``= 1`` (``CPU : AVX2 = 1 | AVX512 = 0 |`` -> [AVX2])."""
    flags = []
    for part in system_info.replace("CPU :", "|").split("|"):
        name, _, value = part.partition("=")
        if value.strip() == "1":
            flags.append(name.strip())
    return flags


def describe(entry: dict[str, Any]) -> str:
    """One line for people: ``llama.cpp (llama-cpp-python 0.3.36; CPU AVX2 FMA ...; 2 threads)``."""
    if not isinstance(entry, dict):
        return str(entry)
    engine = entry.get("engine", "?")
    parts: list[str] = []
    if engine == "llama.cpp":
        parts.append(f"llama-cpp-python {entry.get('llama_cpp_python')}")
        flags = cpu_flags(str(entry.get("system_info") or ""))
        parts.append("CPU " + " ".join(flags) if flags else str(entry.get("system_info") or "system info unknown"))
        if entry.get("extra_buffer_types") is False:
            parts.append("AMX/repack buffers off")
    elif engine == "transformers":
        parts.append(f"transformers {entry.get('transformers')}, torch {entry.get('torch')}")
        where = entry.get("gpu") or entry.get("cpu_capability")
        parts.append(f"{entry.get('device')}{f' {where}' if where else ''} {entry.get('dtype')}")
    else:
        parts += [f"{k} {v}" for k, v in entry.items() if k not in ("engine", "threads", "device")]
    if entry.get("threads"):
        parts.append(f"{entry['threads']} threads")
    return f"{engine} ({'; '.join(parts)})"


def describe_all(provenance: Provenance | None) -> str:
    """``generate: ... · loglikelihood: ...``; one entry when both roles ran on the same build."""
    if not provenance:
        return "not recorded"
    roles = [r for r in ROLES if r in provenance] + [r for r in provenance if r not in ROLES]
    if len(roles) == 2 and provenance[roles[0]] == provenance[roles[1]]:
        return describe(provenance[roles[0]])
    return " · ".join(f"{r}: {describe(provenance[r])}" for r in roles)


def differences(a: Provenance | None, b: Provenance | None) -> list[str]:
    """``role.key: A -> B`` for every build field that differs between two runs (empty when either is missing)."""
    if not a or not b:
        return []
    out = []
    for role in sorted(set(a) | set(b)):
        ea, eb = a.get(role) or {}, b.get(role) or {}
        for key in sorted(set(ea) | set(eb)):
            va, vb = ea.get(key), eb.get(key)
            if va == vb:
                continue
            if key == "system_info" and va and vb:  # name the CPU features that differ, not two long lines
                fa, fb = cpu_flags(str(va)), cpu_flags(str(vb))
                lost, gained = [f for f in fa if f not in fb], [f for f in fb if f not in fa]
                change = " ".join([f"-{f}" for f in lost] + [f"+{f}" for f in gained]) or f"{va} -> {vb}"
                out.append(f"{role}.{key}: {change}")
            else:
                out.append(f"{role}.{key}: {va} -> {vb}")
    return out

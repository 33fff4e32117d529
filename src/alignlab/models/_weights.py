"""Weights on disk: content hashes (model fingerprints) and checks that a path is what a spec says it is.

Hashing is the only way to know two paths hold the same model (a converted dir, a copied file), and it is what
makes cache keys stable across backends. A 270 MB file hashes in about half a second, so each (path, size,
mtime) is hashed once per process.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

from alignlab.errors import ModelSpecError

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf")
_memo: dict[tuple[str, int, int], str] = {}
_lock = threading.Lock()


def file_sha256(path: str | Path) -> str:
    """Hex sha256 of a file's content, memoised per (resolved path, size, mtime)."""
    p = Path(path).resolve()
    st = p.stat()
    key = (str(p), st.st_size, st.st_mtime_ns)
    with _lock:
        if key in _memo:
            return _memo[key]
    h = hashlib.sha256()
    with p.open("rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    digest = h.hexdigest()
    with _lock:
        _memo[key] = digest
    return digest


def weight_files(model_dir: Path) -> list[Path]:
    """The files that hold a transformers dir's weights, in a stable order."""
    return sorted(
        p for p in model_dir.iterdir()
        if p.is_file() and p.suffix in WEIGHT_SUFFIXES and not p.name.startswith("training_args")
    )


def dir_fingerprint(model_dir: Path) -> str:
    """``sha256:`` over the names and content hashes of a model dir's weight files."""
    files = weight_files(model_dir)
    if not files:
        raise ModelSpecError(
            f"no weight files (*.safetensors, *.bin) in {model_dir}",
            hint="hf:PATH takes a dir written by save_pretrained",
        )
    if len(files) == 1:
        return "sha256:" + file_sha256(files[0])
    h = hashlib.sha256()  # sharded weights: a hash over (name, content hash) of every shard
    for f in files:
        h.update(f"{f.name}\0{file_sha256(f)}\n".encode())
    return "sha256:" + h.hexdigest()


def check_model_dir(path: str | Path) -> Path:
    """Return ``path`` as a transformers model dir, or raise ModelSpecError saying what it is instead."""
    p = Path(path).expanduser()
    if not p.exists():
        raise ModelSpecError(f"no such model dir: {p}", hint="hf:PATH takes a dir written by save_pretrained")
    if p.is_file():
        hint = "use gguf:PATH or llamacpp:PATH for a GGUF file" if is_gguf(p) else "hf:PATH takes a dir"
        raise ModelSpecError(f"{p} is a file, not a model dir", hint=hint)
    if not (p / "config.json").is_file():
        raise ModelSpecError(f"{p} has no config.json", hint="hf:PATH takes a dir written by save_pretrained")
    return p


def is_gguf(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(4) == b"GGUF"
    except OSError:
        return False


def check_gguf_file(path: str | Path, spec: str = "gguf") -> Path:
    """Return ``path`` as a GGUF file, or raise ModelSpecError."""
    p = Path(path).expanduser()
    if not p.exists():
        raise ModelSpecError(f"no such GGUF file: {p}", hint=f"{spec}:PATH takes a local .gguf file")
    if p.is_dir():
        raise ModelSpecError(f"{p} is a directory, not a GGUF file", hint="use hf:PATH for a model dir")
    if not is_gguf(p):
        raise ModelSpecError(f"{p} is not a GGUF file", hint=f"{spec}:PATH takes a .gguf file")
    return p

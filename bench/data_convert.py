"""Benchmark `alignlab data convert` on synthetic preference rows: throughput and peak memory, 100k vs 1M rows.

Each conversion runs the real CLI code path (`alignlab.cli.data`) in a fresh subprocess, which reports its own
peak RSS (``VmHWM``) at exit, so the figure covers exactly one run. Bounded memory shows as equal peaks at 100k
and 1M rows.
Two input formats side by side: TRL preference rows (explicit prompt; read, validate, write) and HH-RLHF dialogues
(implicit prompt; also split at the last shared "\\n\\nAssistant:").

    python bench/data_convert.py            # 100k and 1M rows (a few minutes on 2 cores)
    python bench/data_convert.py --quick    # 10k and 100k rows
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_section  # noqa: E402

_WORDS = ("the model should answer questions about alignment values preferences honest helpful harmless "
          "data training reward policy human feedback instruction response safe refuse explain why how what").split()
# The child reports its own high-water mark (VmHWM) at exit. Not ru_maxrss: Linux carries the parent's RSS at fork
# into the child's ru_maxrss across exec, so a child of a large parent would look large.
_CHILD = """
import atexit, os, sys
def _hwm():
    with open("/proc/self/status") as fh:
        kib = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
    with open(os.environ["BENCH_HWM_FILE"], "w") as out:
        out.write(str(kib))
atexit.register(_hwm)
from alignlab.cli.data import data_app
sys.argv[0] = "alignlab data"
data_app()
"""


def _text(rng: random.Random, lo: int, hi: int) -> str:
    return " ".join(rng.choices(_WORDS, k=rng.randint(lo, hi)))


def generate(path: Path, n: int, fmt: str, seed: int = 0) -> int:
    """Write ``n`` preference rows (~60-word prompt, ~40-word replies) in ``fmt``; returns the file size."""
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as fh:
        buf = []
        for i in range(n):
            prompt = f"Question {i}: {_text(rng, 40, 80)}?"
            chosen, rejected = _text(rng, 20, 60), _text(rng, 20, 60)
            if fmt == "hh-rlhf":
                head = f"\n\nHuman: {prompt}\n\nAssistant:"
                row = {"chosen": f"{head} Sure. {chosen}", "rejected": f"{head} Sure. {rejected}"}
            else:
                row = {"prompt": prompt, "chosen": chosen, "rejected": rejected}
            buf.append(json.dumps(row))
            if len(buf) >= 10_000:
                fh.write("\n".join(buf) + "\n")
                buf.clear()
        if buf:
            fh.write("\n".join(buf) + "\n")
    return path.stat().st_size


def run_convert(src: Path, out: Path, fmt: str) -> tuple[float, float, str]:
    """Convert in a fresh process: (seconds, peak RSS in MiB, its output line)."""
    hwm = out.with_name("hwm.txt")
    cmd = [sys.executable, "-c", _CHILD, "convert", "--from", fmt, str(src), str(out)]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "BENCH_HWM_FILE": str(hwm)})
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"convert failed ({proc.returncode}): {proc.stdout}{proc.stderr}")
    return seconds, int(hwm.read_text()) / 1024, proc.stdout.strip().splitlines()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k and 100k rows instead of 100k and 1M.")
    parser.add_argument("--no-write", action="store_true", help="Print only; leave BENCHMARKS.md alone.")
    args = parser.parse_args()
    sizes = (10_000, 100_000) if args.quick else (100_000, 1_000_000)
    rows = []
    with tempfile.TemporaryDirectory(prefix="alignlab-bench-") as tmp:
        for fmt in ("preference", "hh-rlhf"):
            for n in sizes:
                src = Path(tmp) / f"{fmt}-{n}.jsonl"
                size = generate(src, n, fmt)
                seconds, peak, line = run_convert(src, Path(tmp) / "out.jsonl", fmt)
                out_size = (Path(tmp) / "out.jsonl").stat().st_size
                print(f"{fmt:>10} {n:>9,} rows  {seconds:6.1f} s  {n / seconds:9,.0f} rows/s  peak RSS {peak:6.1f} MiB"
                      f"  ({line})", flush=True)
                rows.append((fmt, n, size, out_size, seconds, n / seconds, peak))
                src.unlink()
    table = ["| input (`--from`) | rows | input size | output size | time | rows/s | peak RSS |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for fmt, n, size, out_size, seconds, rate, peak in rows:
        table.append(f"| {fmt} | {n:,} | {size / 2**20:.0f} MiB | {out_size / 2**20:.0f} MiB | {seconds:.1f} s "
                     f"| {rate:,.0f} | {peak:.0f} MiB |")
    peaks = {fmt: [r[6] for r in rows if r[0] == fmt] for fmt in ("preference", "hh-rlhf")}
    growth = ", ".join(f"{fmt}: {p[0]:.0f} → {p[-1]:.0f} MiB" for fmt, p in peaks.items())
    body = (
        "`alignlab data convert --from FORMAT IN.jsonl OUT.jsonl` on synthetic preference rows (prompt 40-80 words, "
        "replies 20-60 words), each run in a fresh process; peak RSS is that process's `VmHWM` (Python, pydantic, "
        "typer and rich included). Reading streams line by line and writing goes through a buffered temporary file, "
        f"so memory does not grow with the row count ({growth} from {sizes[0]:,} to {sizes[-1]:,} rows).\n\n"
        + "\n".join(table)
    )
    if not args.no_write:
        write_section("data_convert", body)
    else:
        print(body)


if __name__ == "__main__":
    main()

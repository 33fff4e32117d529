"""Load test of the arena: 50 concurrent annotators voting for 60 s against `alignlab arena serve` on 127.0.0.1,
on SQLite and on a PostgreSQL cluster this script starts (Debian's ``postgresql`` binaries).

Each client signs in with its own invite token, then loops: GET /battle (a random blind pair), POST /vote. A vote
is *acknowledged* when the server answers 303; afterwards the script counts the votes in the database, which must
equal the acknowledged ones. A last phase kills the server with SIGKILL in the middle of the load and checks that
every vote acknowledged before the kill is in the database.

    python bench/arena_load.py                        # both databases, 50 clients, 60 s each
    python bench/arena_load.py --duration 10 --backends sqlite
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_section  # noqa: E402
from alignlab.arena import add_annotator, import_runs, make_engine, migrate  # noqa: E402
from alignlab.arena._models import Vote  # noqa: E402

FIELD = re.compile(r'name="(csrf|ticket)" value="([^"]*)"')


def make_runs(root: Path, models: int, prompts: int) -> list[tuple[str, Path]]:
    import json

    import yaml

    runs = []
    for m in range(models):
        run = root / f"model{m}"
        (run / "samples" / "instructions").mkdir(parents=True)
        (run / "config.yaml").write_text(yaml.safe_dump({"model": {"spec": f"bench:model{m}"}}))
        with (run / "samples" / "instructions" / "chat.jsonl").open("w") as fh:
            for p in range(prompts):
                fh.write(json.dumps({"id": f"p{p}", "input": [{"role": "user", "content": f"Prompt {p}: explain."}],
                                     "output": f"Model {m} explains {p}. " * 20, "choices": None, "error": None})
                         + "\n")
        runs.append((f"model{m}", run))
    return runs


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db: str, workers: int, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "alignlab.cli.main", "arena", "serve", "--db", db, "--port",
                             str(port), "--workers", str(workers), "--rate", "0", "--login-rate", "0",
                             "--overlap", "0.2"],
                            stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"server did not start: {log.read_text()}")
        time.sleep(0.2)


def stop_server(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    try:
        os.killpg(proc.pid, sig)  # the server's own process group: uvicorn's supervisor and its workers
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)


async def sign_in(c: httpx.AsyncClient, token: str) -> None:
    page = await c.get("/")
    r = await c.post("/login", data={"token": token, "csrf": dict(FIELD.findall(page.text))["csrf"]})
    assert r.status_code == 303, r.text


async def client(c: httpx.AsyncClient, until: float, stats: dict) -> None:
    while time.monotonic() < until:
        try:
            t0 = time.perf_counter()
            page = await c.get("/battle")
            t1 = time.perf_counter()
            fields = dict(FIELD.findall(page.text))
            choice = ("a", "b", "tie", "bothbad")[stats["acked"] % 4]
            r = await c.post("/vote", data={**fields, "choice": choice})
            t2 = time.perf_counter()
        except httpx.HTTPError:
            stats["errors"] += 1
            await asyncio.sleep(0.05)  # the server is gone (crash phase): do not spin
            continue
        stats["page"].append(t1 - t0)
        if r.status_code == 303:
            stats["acked"] += 1
            stats["vote"].append(t2 - t1)
        else:
            stats["errors"] += 1


async def load(base: str, tokens: list[str], seconds: float, kill: subprocess.Popen | None = None,
               kill_after: float = 0.0) -> dict:
    """All clients sign in, then vote for ``seconds``; with ``kill``, that server gets SIGKILL after ``kill_after``
    seconds of voting."""
    stats = {"acked": 0, "errors": 0, "vote": [], "page": []}
    clients = [httpx.AsyncClient(base_url=base, timeout=60) for _ in tokens]
    try:
        await asyncio.gather(*(sign_in(c, t) for c, t in zip(clients, tokens, strict=True)))
        until = time.monotonic() + seconds
        t0 = time.perf_counter()
        work = asyncio.gather(*(client(c, until, stats) for c in clients))
        if kill is not None:
            await asyncio.sleep(kill_after)
            await asyncio.to_thread(stop_server, kill, signal.SIGKILL)
        await work
        stats["elapsed"] = time.perf_counter() - t0
    finally:
        for c in clients:
            await c.aclose()
    return stats


def count_votes(db: str) -> int:
    from sqlalchemy import func, select

    engine = make_engine(db)
    with engine.connect() as conn:
        n = conn.scalar(select(func.count()).select_from(Vote))
    engine.dispose()
    return n


def run_backend(name: str, db: str, root: Path, args: argparse.Namespace) -> dict:
    engine = make_engine(db)
    migrate(engine)
    import_runs(engine, make_runs(root / name, args.models, args.prompts))
    tokens = [add_annotator(engine, f"bench{i}") for i in range(args.clients)]
    engine.dispose()
    proc, base = start_server(db, args.workers, root / f"{name}.log")
    try:
        s = asyncio.run(load(base, tokens, args.duration))
    finally:
        stop_server(proc)
    in_db = count_votes(db)
    # Crash phase: SIGKILL the server mid-load; every acknowledged vote must still be in the database.
    before = in_db
    proc, base = start_server(db, args.workers, root / f"{name}-crash.log")
    c = asyncio.run(load(base, tokens, args.crash_after + 2, kill=proc, kill_after=args.crash_after))
    after = count_votes(db)
    vote_ms, page_ms = np.array(s["vote"]) * 1e3, np.array(s["page"]) * 1e3
    return {"backend": name, "acked": s["acked"], "in_db": in_db, "errors": s["errors"],
            "votes_per_s": s["acked"] / s["elapsed"], "p50": float(np.percentile(vote_ms, 50)),
            "p99": float(np.percentile(vote_ms, 99)), "page_p50": float(np.percentile(page_ms, 50)),
            "page_p99": float(np.percentile(page_ms, 99)), "crash_acked": c["acked"],
            "crash_stored": after - before}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    ap.add_argument("--models", type=int, default=4)
    ap.add_argument("--prompts", type=int, default=200)
    ap.add_argument("--crash-after", type=float, default=3.0, help="seconds of load before the SIGKILL")
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    args = ap.parse_args()
    rows = []
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="arena-bench-") as tmp:
        root = Path(tmp)
        for backend in args.backends.split(","):
            if backend == "sqlite":
                rows.append(run_backend("sqlite", f"sqlite:///{root / 'arena.db'}", root, args))
            elif backend == "postgresql":
                from alignlab.arena._pgcluster import PgCluster

                with PgCluster() as pg:
                    rows.append(run_backend("postgresql", pg.create_db("arena_bench"), root, args))
            else:
                raise SystemExit(f"unknown backend {backend!r}")
            print(rows[-1], flush=True)
    lines = [f"{args.clients} concurrent clients on 127.0.0.1 for {args.duration:.0f} s, each looping GET /battle + "
             f"POST /vote; `alignlab arena serve --workers {args.workers}`; {args.models} models × {args.prompts} "
             f"prompts. Latency is per request as the client sees it; client, server and database share the "
             f"machine's cores (load average {load_before:.1f} from other jobs when the run started).", "",
             "| database | votes/s | vote p50 ms | vote p99 ms | battle page p50 ms | p99 ms | acknowledged | "
             "in database | errors | SIGKILL mid-load: acknowledged / stored |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['backend']} | {r['votes_per_s']:.0f} | {r['p50']:.0f} | {r['p99']:.0f} | "
                     f"{r['page_p50']:.0f} | {r['page_p99']:.0f} | {r['acked']} | {r['in_db']} | {r['errors']} | "
                     f"{r['crash_acked']} / {r['crash_stored']} |")
    lines += ["", "Acknowledged = votes answered 303; every one must be in the database (equal counts). In the "
              "SIGKILL phase the server dies mid-load: stored may exceed acknowledged (committed, then killed before "
              "the answer left), never the reverse."]
    body = "\n".join(lines)
    if args.no_write:
        print(body)
    else:
        write_section("arena_load", body)
    bad = [r for r in rows if r["acked"] != r["in_db"] or r["crash_stored"] < r["crash_acked"]]
    if bad:
        raise SystemExit(f"acknowledged votes missing from the database: {bad}")


if __name__ == "__main__":
    main()

"""A fault-injecting OpenAI-compatible HTTP server (standard library only), run as a real process.

    python tests/fault_server.py --port 0 --mode ok|slow|nologprobs|vllm|FAULT[,FAULT...] [--delay 0.2]
        [--fail-first N | --every K | --prob P --seed S] [--retry-after 1] [--hang 30]

FAULT is one of 500, 503, 429, 400, hang, malformed, truncated; several cycle. By default every generation
request gets a fault; ``--fail-first N`` faults only the first N attempts of each distinct prompt (so retries
then succeed), ``--every K`` faults every K-th request, ``--prob P`` faults at random.

Answers are deterministic: chat replies ``echo: <last user message>``, completions ``echo: <prompt>``; with
``echo`` and ``logprobs`` the prompt comes back with fake per-word log-probabilities (``-0.1 * len(word)``;
words longer than 4 characters are not the argmax; ``vllm`` mode sends them as ``prompt_logprobs``).
``GET /stats`` counts requests, faults and the most requests in flight at once; ``GET /requests`` lists the
last bodies received (and whether they carried an Authorization header).

From Python (tests, ``bench/backends.py``): ``proc, url = start_server(mode="slow", delay=0.2)`` then
``stop_server(proc)``; ``url`` ends in ``/v1``.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import select
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FAULTS = ("500", "503", "429", "400", "hang", "malformed", "truncated")
CLEAN_MODES = ("ok", "slow", "nologprobs", "vllm")
MODEL_ID = "fault-model"


class State:
    """What the handler threads share: the schedule and the counters."""

    def __init__(self, args: argparse.Namespace) -> None:
        kinds = args.mode.split(",")
        self.faults = [k for k in kinds if k in FAULTS]
        self.logprobs = "none" if "nologprobs" in kinds else "vllm" if "vllm" in kinds else "openai"
        self.delay = args.delay if args.delay is not None else (0.2 if "slow" in kinds else 0.0)
        self.args = args
        self.rng = random.Random(args.seed)
        self.lock = threading.Lock()
        self.requests = 0
        self.n_faults = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.by_path: Counter[str] = Counter()
        self.seen: Counter[str] = Counter()  # attempts per distinct prompt, for --fail-first
        self.bodies: list[dict[str, Any]] = []

    def admit(self, path: str, body: dict[str, Any], has_auth: bool) -> str | None:
        """Count a generation request and decide its fault (None: answer normally)."""
        key = json.dumps(body.get("messages", body.get("prompt")), sort_keys=True)
        with self.lock:
            self.requests += 1
            self.by_path[path] += 1
            self.seen[key] += 1
            self.bodies = (self.bodies + [{"path": path, "body": body, "auth": has_auth}])[-200:]
            if not self.faults:
                return None
            a = self.args
            if a.fail_first is not None:
                faulty = self.seen[key] <= a.fail_first
            elif a.every is not None:
                faulty = self.requests % a.every == 0
            elif a.prob is not None:
                faulty = self.rng.random() < a.prob
            else:
                faulty = True
            if not faulty:
                return None
            self.n_faults += 1
            return self.faults[(self.n_faults - 1) % len(self.faults)]


def _tokens(text: str) -> list[str]:
    """Fake tokenizer: words with their leading whitespace; trailing whitespace is its own token."""
    toks = re.findall(r"\s*\S+", text)
    rest = text[len("".join(toks)) :]
    return toks + ([rest] if rest else [])


def _lp(tok: str) -> float:
    return round(-0.1 * max(len(tok.strip()), 1), 4)


def _is_argmax(tok: str) -> bool:
    return len(tok.strip()) <= 4


def _answer_text(body: dict[str, Any], chat: bool) -> tuple[str, str]:
    if chat:
        users = [m.get("content", "") for m in body.get("messages", []) if m.get("role") == "user"]
        text = "echo: " + (users[-1] if users else "")
    else:
        text = "echo: " + str(body.get("prompt", ""))
    for stop in body.get("stop") or []:
        if stop and stop in text:
            text = text[: text.index(stop)]
    words = text.split(" ")
    max_tokens = body.get("max_tokens")
    if isinstance(max_tokens, int) and 0 < max_tokens < len(words):
        return " ".join(words[:max_tokens]), "length"
    return text, "stop"


def _completion(body: dict[str, Any], logprobs_format: str) -> dict[str, Any]:
    prompt = str(body.get("prompt", ""))
    choice: dict[str, Any] = {"index": 0, "finish_reason": "stop", "logprobs": None}
    if body.get("echo"):
        gen = [" ok"] if (body.get("max_tokens") or 0) > 0 else []
        toks = _tokens(prompt)
        choice["text"] = prompt + "".join(gen)
        if body.get("logprobs") is not None and logprobs_format == "openai":
            offsets, pos = [], 0
            for t in toks + gen:
                offsets.append(pos)
                pos += len(t)
            lps = [None] + [_lp(t) for t in toks[1:]] + [-0.2 for _ in gen]
            tops = [None] + [{t: _lp(t)} if _is_argmax(t) else {" the": -0.05} for t in toks[1:]]
            tops += [{g: -0.2} for g in gen]
            choice["logprobs"] = {
                "tokens": toks + gen,
                "token_logprobs": lps,
                "text_offset": offsets,
                "top_logprobs": tops,
            }
        elif body.get("logprobs") is not None and logprobs_format == "vllm":
            plp: list[Any] = [None]
            for i, t in enumerate(toks[1:], start=1):
                entry = {
                    str(100 + i): {"logprob": _lp(t), "rank": 1 if _is_argmax(t) else 7, "decoded_token": t}
                }
                if not _is_argmax(t):
                    entry["5"] = {"logprob": -0.05, "rank": 1, "decoded_token": " the"}
                plp.append(entry)
            choice["prompt_logprobs"] = plp
        n_gen = len(gen)
    else:
        choice["text"], choice["finish_reason"] = _answer_text(body, chat=False)
        n_gen = len(choice["text"].split(" "))
    usage = {"prompt_tokens": len(_tokens(prompt)), "completion_tokens": n_gen}
    return {
        "id": "cmpl-fault",
        "object": "text_completion",
        "model": body.get("model"),
        "choices": [choice],
        "usage": usage,
    }


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like real servers; every answer sets Content-Length
    # Headers and body go out as separate writes; with Nagle's algorithm and delayed ACKs each answer would
    # then stall ~40 ms, which swamps the timings the concurrency benchmark measures.
    disable_nagle_algorithm = True
    server: FaultServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib signature)
        pass  # quiet: stdout carries only the READY line

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        raw = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self) -> None:  # noqa: N802 (stdlib name)
        st = self.server.state
        if self.path.rstrip("/") == "/v1/models":
            self._send(
                200, {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "owned_by": "tests"}]}
            )
        elif self.path == "/stats":
            with st.lock:
                self._send(
                    200,
                    {
                        "requests": st.requests,
                        "faults": st.n_faults,
                        "max_in_flight": st.max_in_flight,
                        "by_path": dict(st.by_path),
                    },
                )
        elif self.path == "/requests":
            with st.lock:
                self._send(200, st.bodies)
        else:
            self._send(404, {"error": {"message": f"no route {self.path}"}})

    def do_POST(self) -> None:  # noqa: N802 (stdlib name)
        st = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except json.JSONDecodeError:
            self._send(400, {"error": {"message": "request body is not JSON"}})
            return
        path = self.path.rstrip("/")
        if path not in ("/v1/chat/completions", "/v1/completions"):
            self._send(404, {"error": {"message": f"no route {self.path}"}})
            return
        fault = st.admit(path, body, "Authorization" in self.headers)
        with st.lock:
            st.in_flight += 1
            st.max_in_flight = max(st.max_in_flight, st.in_flight)
        try:
            if st.delay:
                time.sleep(st.delay)
            self._answer(path, body, fault)
        finally:
            with st.lock:
                st.in_flight -= 1

    def _answer(self, path: str, body: dict[str, Any], fault: str | None) -> None:
        st = self.server.state
        retry_after = {"Retry-After": str(st.args.retry_after)}
        if fault in ("500", "503"):
            self._send(
                int(fault),
                {"error": {"message": f"injected fault {fault}"}},
                retry_after if fault == "503" else None,
            )
        elif fault == "429":
            self._send(429, {"error": {"message": "injected rate limit"}}, retry_after)
        elif fault == "400":
            self._send(
                400, {"error": {"message": "injected bad request: prompt rejected", "type": "invalid"}}
            )
        elif fault == "hang":
            time.sleep(st.args.hang)  # past the client's timeout; then drop the connection
            self.close_connection = True
        elif fault == "malformed":
            raw = b'{"id": "x", "choices": [{"message": {"content": "ech'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)
        elif fault == "truncated":
            raw = json.dumps(self._ok(path, body)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw) + 100))  # promise more than we send
            self.end_headers()
            self.wfile.write(raw[: len(raw) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        else:
            self._send(200, self._ok(path, body))

    def _ok(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        if path == "/v1/completions":
            return _completion(body, self.server.state.logprobs)
        text, finish = _answer_text(body, chat=True)
        return {
            "id": "chatcmpl-fault",
            "object": "chat.completion",
            "model": body.get("model"),
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": len(text.split(" "))},
        }


class FaultServer(ThreadingHTTPServer):
    daemon_threads = True  # hanging handlers must not keep the process alive
    request_queue_size = 128  # the default backlog of 5 drops connections under 16+ concurrent clients
    state: State

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            super().handle_error(request, client_address)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--port", type=int, default=0, help="0: pick a free port (printed as READY <port>)")
    p.add_argument("--mode", default="ok", help=f"{'|'.join(CLEAN_MODES)} or faults from {','.join(FAULTS)}")
    p.add_argument("--delay", type=float, default=None, help="seconds added to every generation request")
    p.add_argument("--fail-first", type=int, default=None, help="fault the first N attempts of each prompt")
    p.add_argument("--every", type=int, default=None, help="fault every K-th request")
    p.add_argument("--prob", type=float, default=None, help="fault with this probability")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--retry-after", type=float, default=1.0, help="Retry-After seconds sent with 429/503")
    p.add_argument("--hang", type=float, default=30.0, help="seconds a hanging request stalls")
    args = p.parse_args(argv)
    bad = [k for k in args.mode.split(",") if k not in FAULTS + CLEAN_MODES]
    if bad:
        p.error(f"unknown mode {bad}")
    if args.retry_after == int(args.retry_after):
        args.retry_after = int(args.retry_after)
    server = FaultServer(("127.0.0.1", args.port), Handler)
    server.state = State(args)
    print(f"READY {server.server_address[1]}", flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass


# ---- helpers for tests and benchmarks -------------------------------------------------------------------


def start_server(
    mode: str = "ok",
    delay: float | None = None,
    port: int | None = None,
    timeout: float = 15.0,
    **options: Any,
) -> tuple[subprocess.Popen[str], str]:
    """Start the server as a subprocess on 127.0.0.1 and wait until it listens.

    ``options`` map to the flags (``fail_first=2`` → ``--fail-first 2``). Returns the process (stop it with
    ``stop_server``) and the base URL ``http://127.0.0.1:PORT/v1``.
    """
    cmd = [sys.executable, __file__, "--port", str(port or 0), "--mode", mode]
    if delay is not None:
        cmd += ["--delay", str(delay)]
    for key, value in options.items():
        if value is not None:
            cmd += [f"--{key.replace('_', '-')}", str(value)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    line = proc.stdout.readline() if ready and proc.stdout else ""
    if not line.startswith("READY "):
        stop_server(proc)
        raise RuntimeError(f"fault server did not start: {cmd} (exit {proc.returncode})")
    return proc, f"http://127.0.0.1:{int(line.split()[1])}/v1"


def stop_server(proc: subprocess.Popen[str]) -> None:
    """Terminate, then kill if it lingers; always reaps the process."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc.stdout:
        proc.stdout.close()


def server_stats(url: str, what: str = "stats") -> Any:
    """``GET /stats`` (or ``/requests``) of a server started by ``start_server``."""
    base = url.removesuffix("/v1")
    with urllib.request.urlopen(f"{base}/{what}", timeout=5) as resp:
        return json.loads(resp.read())


if __name__ == "__main__":
    main()

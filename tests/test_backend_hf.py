"""The hf: backend on a tiny random Llama: batching, stopping, sampling seeds, log-likelihood sharing, identity."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from alignlab.errors import AlignlabError, ModelSpecError
from alignlab.models import GenerateRequest, LoglikelihoodRequest, create_api, load_model
from alignlab.models.hf import HFModelAPI

PROMPTS = [
    "Hello there",
    "The quick brown fox jumps over the lazy dog.",
    "yes",
    "Answer yes or no.",
    "1 2 3 4 5",
    "Helpful, honest and harmless assistants refuse dangerous requests",
    "sea",
]


@pytest.fixture(scope="module")
def api(tiny_model_dir: Path) -> HFModelAPI:
    return HFModelAPI(tiny_model_dir, batch_size=3)


def _gen(api: HFModelAPI, prompts: list[str], **kw: object) -> list:
    return api.generate([GenerateRequest(p, **kw) for p in prompts])  # type: ignore[arg-type]


@pytest.mark.parametrize("chat", [None, False])
def test_batched_generation_equals_one_at_a_time(api: HFModelAPI, chat: bool | None) -> None:
    batched = _gen(api, PROMPTS, max_tokens=8, chat=chat)  # batches of 3, left-padded, length-sorted
    single = [_gen(api, [p], max_tokens=8, chat=chat)[0] for p in PROMPTS]
    assert [r.text for r in batched] == [r.text for r in single]
    assert [r.n_tokens for r in batched] == [r.n_tokens for r in single]


def test_results_come_back_in_request_order(api: HFModelAPI) -> None:
    # each request its own max_tokens: the result at position i must have request i's length
    reqs = [GenerateRequest(p, max_tokens=i + 1, chat=False) for i, p in enumerate(PROMPTS)]
    results = api.generate(reqs)
    assert [r.n_tokens for r in results] == [i + 1 for i in range(len(PROMPTS))]
    for req, res in zip(reqs, results, strict=True):
        assert res.text == api.generate([req])[0].text


def test_max_tokens_ends_with_finish_reason_length(api: HFModelAPI) -> None:
    [res] = _gen(api, ["yes"], max_tokens=5, chat=False)
    assert (res.n_tokens, res.finish_reason, res.error) == (5, "length", None)
    [empty] = _gen(api, ["yes"], max_tokens=0)
    assert (empty.text, empty.n_tokens, empty.finish_reason) == ("", 0, "length")


def test_stop_string_truncates_text(api: HFModelAPI) -> None:
    [full] = _gen(api, ["yes"], max_tokens=10, chat=False)  # "yesyesyes..."
    stop = full.text[4:6]
    [res] = _gen(api, ["yes"], max_tokens=10, chat=False, stop=("zzz", stop))
    assert res.finish_reason == "stop"
    assert res.text == full.text[: full.text.find(stop)]
    assert res.n_tokens < 10


def test_prompt_longer_than_context_is_an_error_result(api: HFModelAPI) -> None:
    long, ok = _gen(api, ["yes " * 600, "yes"], max_tokens=2, chat=False)
    assert long.finish_reason == "error" and "context" in (long.error or "")
    assert ok.error is None and ok.n_tokens == 2


def test_seeded_sampling_is_reproducible_whatever_the_batch(api: HFModelAPI) -> None:
    def sample(seed: int) -> GenerateRequest:
        return GenerateRequest("Hello there", max_tokens=12, temperature=1.0, seed=seed)

    alone = api.generate([sample(1)])[0].text
    in_batch = api.generate([sample(2), GenerateRequest("sea", max_tokens=3), sample(1)])
    assert in_batch[2].text == alone
    assert in_batch[0].text != alone  # another seed, another draw (400-token vocab, 12 draws)
    assert api.generate([sample(1)])[0].text == alone


def test_top_p_near_zero_is_greedy(api: HFModelAPI) -> None:
    [greedy] = _gen(api, ["Hello there"], max_tokens=6)
    [nucleus] = _gen(api, ["Hello there"], max_tokens=6, temperature=1.0, top_p=1e-6, seed=3)
    assert nucleus.text == greedy.text


def test_chat_and_raw_rendering(api: HFModelAPI) -> None:
    assert api.is_chat
    assert api.render("hi", None) == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
    assert api.render("hi", False) == "hi"
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]
    assert api.render(messages, None).startswith("<|im_start|>system\nBe brief.<|im_end|>\n")
    assert api.render(messages, False) == "Be brief.\n\nhi"


def test_model_without_chat_template_completes_raw(tiny_model_dir: Path, tmp_path: Path) -> None:
    base = tmp_path / "base"
    shutil.copytree(tiny_model_dir, base)
    (base / "chat_template.jinja").unlink(missing_ok=True)
    cfg = json.loads((base / "tokenizer_config.json").read_text())
    cfg.pop("chat_template", None)
    (base / "tokenizer_config.json").write_text(json.dumps(cfg))
    api = HFModelAPI(base)
    assert not api.is_chat
    assert api.render("hi", None) == "hi"
    [res] = api.generate([GenerateRequest("hi", max_tokens=2, chat=True)])
    assert res.finish_reason == "error" and "chat template" in (res.error or "")


# -- log-likelihood --------------------------------------------------------------------------------------------

LIKERT = [" 1", " 2", " 3", " 4", " 5", " 6"]
WORDS = [" strongly agree", " agree", " neutral", " disagree", " strongly disagree", " yes"]


def _likert_requests() -> list[LoglikelihoodRequest]:
    item = "Answer yes or no. Strongly agree, agree, neutral, disagree, strongly disagree. " * 4
    reqs = [LoglikelihoodRequest(f"{item}Item {k}:", opt, chat=False) for k in range(5) for opt in LIKERT]
    reqs += [LoglikelihoodRequest(f"{item}Item {k}: ", opt.strip(), chat=False) for k in range(3) for opt in WORDS]
    reqs += [LoglikelihoodRequest([{"role": "user", "content": "Agree?"}], w) for w in WORDS]
    reqs += [LoglikelihoodRequest("", "The quick brown fox", chat=False)]
    return reqs


def test_shared_context_scores_equal_naive_scores(tiny_model_dir: Path) -> None:
    reqs = _likert_requests()
    shared = HFModelAPI(tiny_model_dir, batch_size=4, shared_context=True).loglikelihood(reqs)
    naive = HFModelAPI(tiny_model_dir, batch_size=4, shared_context=False).loglikelihood(reqs)
    for s, n in zip(shared, naive, strict=True):
        assert s.error is None and n.error is None
        assert s.n_tokens == n.n_tokens > 0
        assert s.logprob == pytest.approx(n.logprob, abs=1e-4)
        assert s.is_greedy == n.is_greedy


def test_single_token_score_matches_a_plain_forward(api: HFModelAPI) -> None:
    tok, model = api.tokenizer, api.model
    ctx = tok("Answer yes or no.")["input_ids"]
    [cont] = [t for t in tok("Answer yes or no. yes")["input_ids"][len(ctx):]]
    with torch.inference_mode():
        logits = model(torch.tensor([ctx])).logits[0, -1]  # (V,)
    expected = torch.log_softmax(logits.float(), -1)[cont].item()
    [res] = api.loglikelihood([LoglikelihoodRequest("Answer yes or no.", " yes", chat=False)])
    assert res.n_tokens == 1
    assert res.logprob == pytest.approx(expected, abs=1e-5)
    assert res.is_greedy == (int(logits.argmax()) == cont)


def test_shared_context_runs_each_context_once(tiny_model_dir: Path) -> None:
    """Six single-token options of one long item: the shared path feeds ~1/6 of the naive path's tokens."""
    reqs = [r for r in _likert_requests() if r.continuation in LIKERT]
    fed = {True: 0, False: 0}
    for shared in (True, False):
        api = HFModelAPI(tiny_model_dir, batch_size=8, shared_context=shared)

        def count(_module: object, _args: object, kwargs: dict, mode: bool = shared) -> None:
            fed[mode] += int(kwargs["input_ids"].numel())  # padded tokens included: what the model computes

        api.model.register_forward_pre_hook(count, with_kwargs=True)
        api.loglikelihood(reqs)
    assert fed[True] * 5 < fed[False]


@pytest.mark.parametrize("chat", [False, None])
def test_generated_greedy_text_scores_as_greedy(api: HFModelAPI, chat: bool | None) -> None:
    for prompt in PROMPTS[:4]:
        [gen] = _gen(api, [prompt], max_tokens=6, chat=chat)
        [score] = api.loglikelihood([LoglikelihoodRequest(prompt, gen.text, chat=chat)])
        assert score.is_greedy, (prompt, gen.text)
        other = "no" if gen.text.startswith("yes") else "yes"
        [worse] = api.loglikelihood([LoglikelihoodRequest(prompt, other, chat=chat)])
        assert not worse.is_greedy


def test_empty_continuation_scores_zero(api: HFModelAPI) -> None:
    [res] = api.loglikelihood([LoglikelihoodRequest("yes", "", chat=False)])
    assert (res.logprob, res.n_tokens, res.is_greedy, res.error) == (0.0, 0, True, None)


# -- identity, info, errors -------------------------------------------------------------------------------------


def test_fingerprint_is_stable_and_follows_the_weights(tiny_model_dir: Path, tmp_path: Path) -> None:
    from safetensors.torch import load_file, save_file

    copy = tmp_path / "copy"
    shutil.copytree(tiny_model_dir, copy)
    first = HFModelAPI(copy).fingerprint()
    assert first.startswith("sha256:") and len(first) == 7 + 64
    assert HFModelAPI(copy).fingerprint() == first
    assert HFModelAPI(tiny_model_dir).fingerprint() == first  # same content, other path
    weights = copy / "model.safetensors"
    tensors = load_file(weights)
    name = next(iter(tensors))
    tensors[name] = tensors[name] + 1e-3
    save_file(tensors, weights, metadata={"format": "pt"})
    assert HFModelAPI(copy).fingerprint() != first


def test_info(api: HFModelAPI) -> None:
    info = api.info()
    assert info.backend == "hf"
    assert info.parameters == sum(p.numel() for p in api.model.parameters())
    assert info.context_length == 512
    assert "<|im_start|>" in (info.chat_template or "")
    assert info.extra["dtype"] == "float32" and info.extra["device"] == "cpu"
    assert info.fingerprint == api.fingerprint()


def test_bad_paths_raise_spec_errors(tmp_path: Path, tiny_model_dir: Path) -> None:
    with pytest.raises(ModelSpecError, match="no such model dir"):
        create_api(f"hf:{tmp_path / 'missing'}")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelSpecError, match="no config.json"):
        create_api(f"hf:{tmp_path / 'empty'}")
    with pytest.raises(ModelSpecError, match="is a file"):
        create_api(f"hf:{tiny_model_dir / 'config.json'}")
    with pytest.raises(ModelSpecError, match="not a GGUF file"):
        create_api(f"gguf:{tiny_model_dir / 'config.json'}")
    with pytest.raises(ModelSpecError, match="is a directory"):
        create_api(f"gguf:{tiny_model_dir}")
    with pytest.raises(ModelSpecError, match="no such GGUF"):
        create_api(f"llamacpp:{tmp_path / 'missing.gguf'}")
    with pytest.raises(ModelSpecError, match="unknown option"):
        create_api(f"hf:{tiny_model_dir}", batchsize=2)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{}")
    with pytest.raises(AlignlabError, match="cannot load"):
        create_api(f"hf:{broken}")


def test_through_model_and_cache(tiny_model_dir: Path, tmp_path: Path) -> None:
    model = load_model(f"hf:{tiny_model_dir}", cache=tmp_path / "cache.sqlite")
    reqs = [GenerateRequest("yes", max_tokens=3), GenerateRequest("sea", max_tokens=2, chat=False)]
    first = model.generate(reqs)
    again = model.generate(reqs)
    assert [r.text for r in again] == [r.text for r in first] and all(r.cached for r in again)
    assert model.model_calls == 2
    model.close()

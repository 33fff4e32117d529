"""Log-likelihood over a prefix tree: a prefix that many requests' contexts share runs once, with equal results."""

from __future__ import annotations

from pathlib import Path

import pytest

from alignlab.models import LoglikelihoodRequest
from alignlab.models.hf import HFModelAPI

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
MC_TASK = SHARED / "truthfulqa" / "data" / "mc_task.json"

PRIMER = "Answer yes or no. Strongly agree, agree, neutral, disagree, strongly disagree. " * 6
QUESTIONS = ["The quick brown fox?", "Helpful and honest?", "1 2 3 4 5?", "A B C D E F?", "Please write a poem?",
             "Refuse dangerous requests?", "sea?", "Alignment asks what?"]
ANSWERS = [" yes", " no", " The quick brown fox jumps", " strongly disagree", " Helpful, honest and harmless",
           " The quick brown dog", " The quick red fox jumps over the lazy dog"]  # share " The quick …" in a tree


def _requests() -> list[LoglikelihoodRequest]:
    reqs = [LoglikelihoodRequest(f"{PRIMER}Q: {q}\nA:", a, chat=False) for q in QUESTIONS for a in ANSWERS]
    reqs += [LoglikelihoodRequest("Unrelated short context", a, chat=False) for a in ANSWERS[:2]]  # no sharing
    reqs += [LoglikelihoodRequest([{"role": "system", "content": PRIMER}, {"role": "user", "content": q}], a)
             for q in QUESTIONS[:3] for a in ANSWERS[2:]]  # a shared system prompt under the chat template
    return reqs


def _assert_equal(shared: list, naive: list) -> None:
    assert len(shared) == len(naive)
    for s, n in zip(shared, naive, strict=True):
        assert s.error is None and n.error is None
        assert s.n_tokens == n.n_tokens > 0
        assert s.logprob == pytest.approx(n.logprob, abs=1e-4)
        assert s.is_greedy == n.is_greedy


@pytest.mark.parametrize("batch_size", [1, 4])
def test_prefix_shared_scores_equal_unshared_scores(tiny_model_dir: Path, batch_size: int) -> None:
    reqs = _requests()
    shared = HFModelAPI(tiny_model_dir, batch_size=batch_size, shared_context=True).loglikelihood(reqs)
    naive = HFModelAPI(tiny_model_dir, batch_size=batch_size, shared_context=False).loglikelihood(reqs)
    _assert_equal(shared, naive)


def test_a_primer_before_every_question_runs_once(tiny_model_dir: Path) -> None:
    """Eight questions after one long primer: the model reads the primer once, not eight times."""
    api = HFModelAPI(tiny_model_dir, batch_size=8)
    reqs = [LoglikelihoodRequest(f"{PRIMER}Q: {q}\nA:", " yes", chat=False) for q in QUESTIONS]
    primer_tokens = len(api.tokenizer(PRIMER)["input_ids"])
    fed = []

    def count(_module: object, _args: object, kwargs: dict) -> None:
        fed.append(int(kwargs["input_ids"].numel()))  # padded tokens included: what the model computes

    api.model.register_forward_pre_hook(count, with_kwargs=True)
    results = api.loglikelihood(reqs)
    assert all(r.error is None for r in results)
    assert primer_tokens > 100
    # once for the primer, then eight short question suffixes (padded to one width)
    assert primer_tokens <= sum(fed) < primer_tokens + 8 * 20
    assert len(fed) == 2


@pytest.mark.slow
@pytest.mark.ci
@pytest.mark.skipif(not MC_TASK.exists(), reason="TruthfulQA's mc_task.json is not in shared/data")
def test_truthfulqa_primer_shared_on_the_default_model(default_hf_dir: Path) -> None:
    """The real case: TruthfulQA's 170-token primer before every question, every answer scored on the default
    model; sharing the primer across questions changes no log-likelihood by more than 1e-4 nats."""
    from alignlab.evaluate.preferences.truthfulness import mc_context, read_mc_task

    reqs = []
    for s in read_mc_task(MC_TASK, limit=6):
        ctx, chat, prefix = mc_context(s.metadata["question"], "qa")
        reqs += [LoglikelihoodRequest(ctx, prefix + c, chat=chat) for c in s.choices or []]
    shared = HFModelAPI(default_hf_dir, batch_size=8, shared_context=True).loglikelihood(reqs)
    naive = HFModelAPI(default_hf_dir, batch_size=8, shared_context=False).loglikelihood(reqs)
    _assert_equal(shared, naive)


def test_continuations_sharing_leading_tokens_run_them_once(tiny_model_dir: Path) -> None:
    """Answers that begin alike (" The quick brown fox", " The quick brown dog") are one prefix tree on top of
    their context: the shared tokens run once, and every score equals the unshared computation."""
    api = HFModelAPI(tiny_model_dir, batch_size=8)
    context = "Unrelated short context"
    reqs = [LoglikelihoodRequest(context, a, chat=False) for a in ANSWERS[2:]]
    cont_tokens = [api._tokenize(context + a, False)[len(api._tokenize(context, False)):] for a in ANSWERS[2:]]
    distinct_prefixes = {tuple(t[:k]) for t in cont_tokens for k in range(1, len(t))}
    fed = []

    def count(_module: object, _args: object, kwargs: dict) -> None:
        fed.append(int(kwargs["input_ids"].shape[1]))

    api.model.register_forward_pre_hook(count, with_kwargs=True)
    shared = api.loglikelihood(reqs)
    # the context once, then one row holding each distinct fed prefix once (fewer than the tokens of all answers)
    assert fed[1:] == [len(distinct_prefixes)] < [sum(len(t) - 1 for t in cont_tokens)]
    _assert_equal(shared, HFModelAPI(tiny_model_dir, shared_context=False).loglikelihood(reqs))


def test_a_primer_runs_once_across_calls_until_the_weights_change(tiny_model_dir: Path) -> None:
    """Suites send their requests in several calls; the primer's cache is kept between them, and dropped when the
    weights change in place (a model trained between two evaluations scores with its new weights)."""
    import torch

    api = HFModelAPI(tiny_model_dir, batch_size=8)
    first = [LoglikelihoodRequest(f"{PRIMER}Q: {q}\nA:", " yes", chat=False) for q in QUESTIONS[:4]]
    second = [LoglikelihoodRequest(f"{PRIMER}Q: {q}\nA:", " yes", chat=False) for q in QUESTIONS[4:]]
    primer_tokens = len(api.tokenizer(PRIMER)["input_ids"])
    fed = []
    api.model.register_forward_pre_hook(lambda _m, _a, kw: fed.append(int(kw["input_ids"].numel())),
                                        with_kwargs=True)
    api.loglikelihood(first)
    fed.clear()
    again = api.loglikelihood(second)
    assert sum(fed) < primer_tokens  # only the questions ran
    with torch.no_grad():
        api.model.get_output_embeddings().weight.mul_(0.5)  # as an optimiser step would, in place
        for p in api.model.parameters():
            p.add_(0.01)
    fed.clear()
    changed = api.loglikelihood(second)
    assert sum(fed) >= primer_tokens  # the primer ran again on the new weights
    fresh = HFModelAPI(tiny_model_dir, batch_size=8, shared_context=False)
    with torch.no_grad():
        fresh.model.get_output_embeddings().weight.mul_(0.5)
        for p in fresh.model.parameters():
            p.add_(0.01)
    _assert_equal(changed, fresh.loglikelihood(second))
    assert [r.logprob for r in changed] != [r.logprob for r in again]


def test_a_later_call_sharing_less_of_the_stored_primer_scores_right(tiny_model_dir: Path) -> None:
    """The stored primer is cut back to what a later call's prefix shares with it (ETHICS' second batch shares
    only the question's opening with the first's longer prefix); scores equal the unshared path."""
    api = HFModelAPI(tiny_model_dir, batch_size=8)
    first = [LoglikelihoodRequest(f"{PRIMER}Q: {q}\nA:", " yes", chat=False) for q in QUESTIONS[:2]]
    second = [LoglikelihoodRequest(f"{PRIMER[:len(PRIMER) // 2]}Other: {q}\nA:", " no", chat=False)
              for q in QUESTIONS[2:5]]
    api.loglikelihood(first)
    _assert_equal(api.loglikelihood(second), HFModelAPI(tiny_model_dir, shared_context=False).loglikelihood(second))

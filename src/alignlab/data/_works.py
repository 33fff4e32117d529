"""Works of the survey's taxonomy of alignment goals, by level: the method, what the goal is represented as, and
the dataset (design §1). Data, not prose, so a user can filter and cite it (``alignlab data catalog --works``).

Each line is a published work's name, first author and year, the alignment or evaluation method it introduced or
used, the goal representation it aligns with or measures, and the dataset it released or used (``-``: none
released). Deliberately general: no reported scores.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Level = Literal["instructions", "preferences", "values"]


@dataclass(frozen=True)
class Work:
    """One work of the survey's taxonomy."""

    name: str
    authors: str
    """First author et al."""
    year: int
    level: Level
    method: str
    """The alignment algorithm or evaluation method."""
    representation: str
    """The goal representation: what the model is aligned with, or what is measured."""
    dataset: str
    """The dataset it released or used (a catalog name where the catalog has it; ``-``: none released)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _w(name: str, authors: str, year: int, level: Level, method: str, representation: str, dataset: str) -> Work:
    return Work(name, authors, year, level, method, representation, dataset)


WORKS: tuple[Work, ...] = (
    # Level 1: human instructions.
    _w("FLAN", "Wei et al.", 2022, "instructions", "instruction tuning (SFT)", "NLP task collections as instructions",
       "flan"),
    _w("T0", "Sanh et al.", 2022, "instructions", "multitask prompted training (SFT)",
       "NLP task collections as prompts", "P3"),
    _w("Super-NaturalInstructions (Tk-Instruct)", "Wang et al.", 2022, "instructions", "instruction tuning (SFT)",
       "NLP task collections with task definitions", "super-natural-instructions"),
    _w("Self-Instruct", "Wang et al.", 2023, "instructions", "SFT on model-generated instructions",
       "model-generated instructions", "self-instruct"),
    _w("Alpaca", "Taori et al.", 2023, "instructions", "SFT on model-generated instructions",
       "model-generated instructions", "alpaca"),
    _w("Vicuna", "Chiang et al.", 2023, "instructions", "SFT on shared conversations", "human-shared conversations",
       "sharegpt"),
    _w("Dolly", "Conover et al.", 2023, "instructions", "SFT", "human-written instructions", "dolly"),
    _w("OpenAssistant Conversations", "Köpf et al.", 2023, "instructions", "SFT (and reward modelling on rankings)",
       "crowd-sourced demonstrations with rankings", "oasst1"),
    _w("IFEval", "Zhou et al.", 2023, "instructions", "evaluation: verifiable instruction following",
       "instructions with programmatically checkable constraints", "ifeval"),
    _w("MT-Bench and Chatbot Arena", "Zheng et al.", 2023, "instructions", "evaluation: LLM-as-a-judge; crowd battles",
       "multi-turn questions judged by a strong model; human pairwise votes", "mt-bench"),
    _w("AlpacaEval", "Li et al.", 2023, "instructions", "evaluation: LLM judge win rate against a reference model",
       "instructions with reference outputs", "alpacaeval"),
    # Level 2: human preferences.
    _w("Learning to summarize from human feedback", "Stiennon et al.", 2020, "preferences",
       "reward model + PPO (RLHF)", "pairwise human comparisons of summaries", "TL;DR comparisons"),
    _w("WebGPT", "Nakano et al.", 2021, "preferences", "behaviour cloning, reward model, best-of-n and RL",
       "pairwise human comparisons of answers", "WebGPT comparisons"),
    _w("InstructGPT", "Ouyang et al.", 2022, "preferences", "SFT, reward model + PPO (RLHF)",
       "human demonstrations and ranked comparisons", "-"),
    _w("Helpful and harmless assistant (HH)", "Bai et al.", 2022, "preferences", "reward model + PPO (RLHF)",
       "pairwise human feedback on helpfulness and harmlessness", "hh-rlhf"),
    _w("Stanford Human Preferences", "Ethayarajh et al.", 2022, "preferences", "reward modelling",
       "pairwise preferences from Reddit votes", "shp"),
    _w("DPO", "Rafailov et al.", 2023, "preferences", "direct preference optimisation (no reward model)",
       "pairwise preferences", "hh-rlhf"),
    _w("RRHF", "Yuan et al.", 2023, "preferences", "ranking loss over sampled responses", "ranked responses",
       "hh-rlhf"),
    _w("UltraFeedback", "Cui et al.", 2023, "preferences", "reward modelling and preference optimisation",
       "model synthetic feedback (GPT-4 ratings)", "ultrafeedback"),
    _w("RLAIF", "Lee et al.", 2023, "preferences", "RL from AI feedback", "AI-labelled pairwise preferences",
       "TL;DR comparisons"),
    _w("Safe RLHF", "Dai et al.", 2023, "preferences", "constrained RLHF (reward and cost models)",
       "separate helpfulness and harmlessness preferences", "pku-saferlhf"),
    _w("KTO", "Ethayarajh et al.", 2024, "preferences", "prospect-theoretic optimisation",
       "binary (desirable / undesirable) feedback", "-"),
    _w("ORPO", "Hong et al.", 2024, "preferences", "odds-ratio preference optimisation (no reference model)",
       "pairwise preferences", "ultrafeedback-binarized"),
    _w("TruthfulQA", "Lin et al.", 2022, "preferences", "evaluation: truthfulness (generation and multiple choice)",
       "questions that elicit imitative falsehoods", "truthfulqa"),
    _w("BBQ", "Parrish et al.", 2022, "preferences", "evaluation: social bias in question answering",
       "ambiguous and disambiguated contexts", "bbq"),
    _w("RealToxicityPrompts", "Gehman et al.", 2020, "preferences", "evaluation: toxicity of continuations",
       "naturally occurring prompts", "realtoxicityprompts"),
    _w("Towards understanding sycophancy", "Sharma et al.", 2023, "preferences",
       "evaluation: sycophancy (answers that follow the user's stated view)", "user feedback and challenges",
       "-"),
    # Level 3: human values.
    _w("A general language assistant as a laboratory for alignment (HHH)", "Askell et al.", 2021, "values",
       "prompting, preference modelling", "principles: helpful, honest, harmless", "-"),
    _w("Sparrow", "Glaese et al.", 2022, "values", "RLHF with rule-specific reward models",
       "natural-language rules", "-"),
    _w("Constitutional AI", "Bai et al.", 2022, "values", "critique and revision (SL) + RL from AI feedback",
       "a constitution of principles", "-"),
    _w("Principle-driven self-alignment (Dromedary)", "Sun et al.", 2023, "values",
       "principle-driven self-alignment with in-context exemplars", "principles", "-"),
    _w("ETHICS", "Hendrycks et al.", 2021, "values", "evaluation: moral judgement",
       "commonsense morality, deontology, justice, virtue, utilitarianism", "ethics"),
    _w("Social Chemistry 101", "Forbes et al.", 2020, "values", "learning social norms",
       "rules of thumb", "social-chemistry-101"),
    _w("Moral Stories", "Emelin et al.", 2021, "values", "norm-grounded generation and classification",
       "norms with moral and immoral actions", "moral-stories"),
    _w("Delphi", "Jiang et al.", 2021, "values", "learned moral judgement",
       "descriptive ethics (Commonsense Norm Bank)", "-"),
    _w("Model-written evaluations", "Perez et al.", 2022, "values", "evaluation: model-written persona statements",
       "statements of personas, views and desires", "model-written-evals"),
    _w("GlobalOpinionQA", "Durmus et al.", 2023, "values", "evaluation: similarity to countries' survey answers",
       "cross-national opinion surveys", "globalopinionqa"),
    _w("Value Kaleidoscope (ValuePrism)", "Sorensen et al.", 2024, "values", "pluralistic value generation",
       "values, rights and duties per situation", "valueprism"),
    _w("XSTest", "Röttger et al.", 2024, "values", "evaluation: exaggerated safety (over-refusal)",
       "safe prompts and unsafe contrasts", "xstest"),
    _w("HarmBench", "Mazeika et al.", 2024, "values", "evaluation: automated red teaming and refusal",
       "harmful behaviours", "harmbench"),
    _w("StrongREJECT", "Souly et al.", 2024, "values", "evaluation: jailbreak refusal with a rubric judge",
       "forbidden prompts", "strongreject"),
    _w("Do-Not-Answer", "Wang et al.", 2023, "values", "evaluation: refusal of harmful requests",
       "risk taxonomy of instructions", "do-not-answer"),
)


def works(level: str | None = None) -> list[Work]:
    """The survey's works, optionally of one level, in the order above (by level)."""
    return [w for w in WORKS if level is None or w.level == level]

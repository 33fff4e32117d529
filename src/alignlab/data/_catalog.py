"""The public datasets alignlab knows, placed in the survey's taxonomy of alignment goals (design §1).

``format`` is the alignlab adapter that reads the published files (``alignlab data convert --from FORMAT``), or
``-`` where there is none yet. Licences are as stated on each dataset's card or repository; check them before use.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Level = Literal["instructions", "preferences", "values"]
LEVELS: tuple[str, ...] = ("instructions", "preferences", "values")


@dataclass(frozen=True)
class CatalogEntry:
    """One public dataset."""

    name: str
    """Short name (also the adapter name where they coincide)."""
    level: Level
    """The level of alignment goal it represents or evaluates."""
    category: str
    """The survey's category, ``level / kind of representation or evaluation``."""
    use: Literal["train", "eval", "train+eval"]
    """Whether it is for aligning models, for evaluating them, or both."""
    format: str
    """The adapter that reads it (``-``: none yet)."""
    license: str
    """Licence as published (data; model outputs inside may carry their provider's terms too)."""
    hub: str
    """Hugging Face dataset id, or the URL of the repository that publishes it."""
    kind: str
    """The record kind it becomes."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _e(name: str, level: Level, category: str, use: Any, fmt: str, license: str, hub: str, kind: str) -> CatalogEntry:
    return CatalogEntry(name, level, category, use, fmt, license, hub, kind)


CATALOG: tuple[CatalogEntry, ...] = (
    # Instructions: NLP task collections, model-generated and human-written/-shared instructions, and benchmarks.
    _e("flan", "instructions", "instructions / NLP task collections", "train", "-",
       "Apache-2.0 (collection code; tasks keep their own licences)", "https://github.com/google-research/FLAN",
       "prompt_completion"),
    _e("super-natural-instructions", "instructions", "instructions / NLP task collections", "train", "-",
       "Apache-2.0", "https://github.com/allenai/natural-instructions", "prompt_completion"),
    _e("self-instruct", "instructions", "instructions / model-generated", "train", "-", "Apache-2.0",
       "yizhongw/self_instruct", "prompt_completion"),
    _e("alpaca", "instructions", "instructions / model-generated", "train", "alpaca", "CC-BY-NC-4.0",
       "tatsu-lab/alpaca", "prompt_completion"),
    _e("dolly", "instructions", "instructions / human-written", "train", "dolly", "CC-BY-SA-3.0",
       "databricks/databricks-dolly-15k", "prompt_completion"),
    _e("sharegpt", "instructions", "instructions / human-shared conversations", "train", "sharegpt",
       "unclear (ChatGPT conversations shared by users; card says Apache-2.0)",
       "anon8231489123/ShareGPT_Vicuna_unfiltered", "language_modeling"),
    _e("oasst1", "instructions", "instructions / human demonstrations (crowd-sourced conversations, ranked)",
       "train", "oasst", "Apache-2.0", "OpenAssistant/oasst1", "language_modeling"),
    _e("oasst2", "instructions", "instructions / human demonstrations (crowd-sourced conversations, ranked)",
       "train", "oasst", "Apache-2.0", "OpenAssistant/oasst2", "language_modeling"),
    _e("ifeval", "instructions", "instructions / benchmark: verifiable instruction following", "eval", "ifeval",
       "Apache-2.0 (hub card); CC-BY-4.0 (google-research datasets)", "google/IFEval", "instruction_following"),
    _e("ifbench", "instructions", "instructions / benchmark: out-of-distribution verifiable constraints", "eval",
       "ifbench", "ODC-BY-1.0 (data); Apache-2.0 (code)", "https://github.com/allenai/IFBench",
       "instruction_following"),
    _e("mt-bench", "instructions", "instructions / automatic chatbot arena: LLM judge, multi-turn", "eval",
       "mt-bench", "Apache-2.0", "https://github.com/lm-sys/FastChat/tree/main/fastchat/llm_judge",
       "multi_turn"),
    _e("alpacaeval", "instructions", "instructions / automatic chatbot arena: LLM judge vs a reference", "eval",
       "-", "CC-BY-NC-4.0", "tatsu-lab/alpaca_eval", "prompt_only"),
    # Preferences: human demonstrations and feedback (pairwise, ranked, rated), model synthetic feedback.
    _e("hh-rlhf", "preferences", "preferences / human feedback (pairwise)", "train", "hh-rlhf", "MIT",
       "Anthropic/hh-rlhf", "preference"),
    _e("shp", "preferences", "preferences / human feedback (pairwise, from Reddit votes)", "train", "shp",
       "Reddit API terms (see card)", "stanfordnlp/SHP", "preference"),
    _e("oasst1-rankings", "preferences", "preferences / human feedback (ranked)", "train", "oasst-pairs",
       "Apache-2.0", "OpenAssistant/oasst1", "ranking"),
    _e("helpsteer2", "preferences", "preferences / human feedback (rated)", "train", "-", "CC-BY-4.0",
       "nvidia/HelpSteer2", "rating"),
    _e("ultrafeedback", "preferences", "preferences / model synthetic feedback (rated by GPT-4)", "train",
       "ultrafeedback", "MIT", "openbmb/UltraFeedback", "rating"),
    _e("ultrafeedback-binarized", "preferences", "preferences / model synthetic feedback (pairwise)", "train",
       "ultrafeedback-binarized", "MIT", "HuggingFaceH4/ultrafeedback_binarized", "preference"),
    _e("pku-saferlhf", "preferences", "preferences / human feedback (pairwise, helpfulness and harmlessness)",
       "train", "pku-saferlhf", "CC-BY-NC-4.0", "PKU-Alignment/PKU-SafeRLHF", "preference"),
    _e("prism", "preferences", "preferences / human feedback (rated, pluralistic, 75 countries)", "train+eval",
       "-", "CC-BY-NC-4.0 (see card)", "HannahRoseKirk/prism-alignment", "rating"),
    _e("chatbot-arena-conversations", "preferences", "preferences / human evaluation: arena battles",
       "train+eval", "chatbot-arena", "CC-BY-4.0 (prompts); outputs under each model's terms",
       "lmsys/chatbot_arena_conversations", "battle"),
    _e("mt-bench-human-judgments", "preferences", "preferences / human evaluation: pairwise expert votes", "eval",
       "chatbot-arena", "CC-BY-4.0", "lmsys/mt_bench_human_judgments", "battle"),
    _e("truthfulqa", "preferences", "preferences / benchmark: truthfulness", "eval", "truthfulqa", "Apache-2.0",
       "truthfulqa/truthful_qa", "multiple_choice"),
    _e("bbq", "preferences", "preferences / benchmark: social bias (QA)", "eval", "bbq", "CC-BY-4.0",
       "https://github.com/nyu-mll/BBQ", "multiple_choice"),
    _e("crows-pairs", "preferences", "preferences / benchmark: social bias (minimal pairs)", "eval", "-",
       "CC-BY-SA-4.0", "nyu-mll/crows_pairs", "multiple_choice"),
    _e("realtoxicityprompts", "preferences", "preferences / benchmark: toxicity", "eval", "-", "Apache-2.0",
       "allenai/real-toxicity-prompts", "prompt_only"),
    # Values: principles, social norms and ethics, basic value systems; safety, social-norm and value evaluations.
    _e("ethics", "values", "values / social norms and ethics (moral judgement)", "train+eval", "ethics", "MIT",
       "hendrycks/ethics", "moral_scenario"),
    _e("moral-stories", "values", "values / social norms (norm-following vs divergent actions)", "train+eval",
       "-", "MIT", "demelin/moral_stories", "moral_scenario"),
    _e("social-chemistry-101", "values", "values / social norms (rules of thumb)", "train+eval", "-",
       "CC-BY-SA-4.0", "https://github.com/mbforbes/social-chemistry-101", "moral_scenario"),
    _e("valueprism", "values", "values / basic values (values, rights and duties per situation)", "train+eval",
       "-", "AI2 ImpACT License (medium risk)", "allenai/ValuePrism", "dilemma"),
    _e("globalopinionqa", "values", "values / value surveys: opinions across countries", "eval", "globalopinionqa",
       "CC-BY-NC-SA-4.0", "Anthropic/llm_global_opinions", "opinion_item"),
    _e("model-written-evals", "values", "values / value surveys: persona, desires and values statements", "eval",
       "anthropic-persona", "CC-BY-4.0", "https://github.com/anthropics/evals", "multiple_choice"),
    _e("xstest", "values", "values / safety benchmark: over-refusal (safe vs unsafe prompts)", "eval", "xstest",
       "CC-BY-4.0", "https://github.com/paul-rottger/exaggerated-safety", "safety_prompt"),
    _e("harmbench", "values", "values / safety benchmark: refusal of harmful behaviours", "eval", "harmbench",
       "MIT", "https://github.com/centerforaisafety/HarmBench", "safety_prompt"),
    _e("strongreject", "values", "values / safety benchmark: forbidden prompts, rubric-graded answers", "eval",
       "strongreject", "MIT", "https://github.com/alexandrasouly/strongreject", "safety_prompt"),
    _e("do-not-answer", "values", "values / safety benchmark: refusal of harmful requests", "eval", "-",
       "Apache-2.0", "LibrAI/do-not-answer", "safety_prompt"),
    _e("advbench", "values", "values / safety benchmark: harmful behaviours (jailbreak targets)", "eval", "-",
       "MIT", "https://github.com/llm-attacks/llm-attacks", "safety_prompt"),
    _e("beavertails", "values", "values / safety: harm categories of QA pairs", "train+eval", "-",
       "CC-BY-NC-4.0", "PKU-Alignment/BeaverTails", "safety_prompt"),
)


def catalog(level: str | None = None, use: str | None = None) -> list[CatalogEntry]:
    """Catalog entries, optionally of one level and use (``train`` matches ``train+eval`` too)."""
    return [e for e in CATALOG
            if (level is None or e.level == level) and (use is None or use in e.use.split("+"))]


def catalog_entry(name: str) -> CatalogEntry | None:
    """The entry called ``name``, if any."""
    return next((e for e in CATALOG if e.name == name), None)

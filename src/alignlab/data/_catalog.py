"""The public datasets alignlab knows, placed in the survey's taxonomy of alignment goals (design §1).

``format`` is the alignlab adapter that reads the published files (``alignlab data convert --from FORMAT``) and
``suite`` the suite that evaluates with them; a dataset alignlab cannot both read and score is not listed here (the
survey's works, ``WORKS``, still name it). Licences are as stated on each dataset's card or repository; check
them before use.
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
    suite: str = ""
    """The suite that evaluates with it (``NAME[:args]``; ``alignlab suites`` lists them)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _e(name: str, level: Level, category: str, use: Any, fmt: str, license: str, hub: str, kind: str,
       suite: str = "") -> CatalogEntry:
    return CatalogEntry(name, level, category, use, fmt, license, hub, kind, suite)


CATALOG: tuple[CatalogEntry, ...] = (
    # Every entry has an adapter (``format``) and a suite that evaluates with it; the survey's other datasets are
    # named in its works (``WORKS``, ``alignlab data catalog --works``) until alignlab reads and scores them.
    # Instructions: benchmarks of instruction following and automatic chatbot arenas.
    _e("ifeval", "instructions", "instructions / benchmark: verifiable instruction following", "eval", "ifeval",
       "Apache-2.0 (hub card); CC-BY-4.0 (google-research datasets)", "google/IFEval", "instruction_following",
       "instructions/ifeval"),
    _e("ifbench", "instructions", "instructions / benchmark: out-of-distribution verifiable constraints", "eval",
       "ifbench", "ODC-BY-1.0 (data); Apache-2.0 (code)", "https://github.com/allenai/IFBench",
       "instruction_following", "instructions/ifbench"),
    _e("mt-bench", "instructions", "instructions / automatic chatbot arena: LLM judge, multi-turn", "eval",
       "mt-bench", "Apache-2.0", "https://github.com/lm-sys/FastChat/tree/main/fastchat/llm_judge",
       "multi_turn", "instructions/mt-bench"),
    # Preferences: human and model synthetic feedback (pairwise, ranked, rated), scored as preference agreement;
    # benchmarks of truthfulness and bias.
    _e("hh-rlhf", "preferences", "preferences / human feedback (pairwise)", "train+eval", "hh-rlhf", "MIT",
       "Anthropic/hh-rlhf", "preference", "preferences/hh-rlhf-harmless"),
    _e("shp", "preferences", "preferences / human feedback (pairwise, from Reddit votes)", "train+eval", "shp",
       "Reddit API terms (see card)", "stanfordnlp/SHP", "preference", "preferences/agreement:format=shp"),
    _e("oasst1-rankings", "preferences", "preferences / human feedback (ranked)", "train+eval", "oasst-pairs",
       "Apache-2.0", "OpenAssistant/oasst1", "ranking", "preferences/agreement:format=oasst-pairs"),
    _e("ultrafeedback", "preferences", "preferences / model synthetic feedback (rated by GPT-4)", "train+eval",
       "ultrafeedback", "MIT", "openbmb/UltraFeedback", "rating", "preferences/agreement:format=ultrafeedback"),
    _e("ultrafeedback-binarized", "preferences", "preferences / model synthetic feedback (pairwise)", "train+eval",
       "ultrafeedback-binarized", "MIT", "HuggingFaceH4/ultrafeedback_binarized", "preference",
       "preferences/agreement:format=ultrafeedback-binarized"),
    _e("pku-saferlhf", "preferences", "preferences / human feedback (pairwise, helpfulness and harmlessness)",
       "train+eval", "pku-saferlhf", "CC-BY-NC-4.0", "PKU-Alignment/PKU-SafeRLHF", "preference",
       "preferences/agreement:format=pku-saferlhf"),
    _e("truthfulqa", "preferences", "preferences / benchmark: truthfulness", "eval", "truthfulqa", "Apache-2.0",
       "truthfulqa/truthful_qa", "multiple_choice", "preferences/truthfulqa"),
    _e("bbq", "preferences", "preferences / benchmark: social bias (QA)", "eval", "bbq", "CC-BY-4.0",
       "https://github.com/nyu-mll/BBQ", "multiple_choice", "preferences/bbq"),
    # Values: social norms and ethics, value surveys, safety benchmarks.
    _e("ethics", "values", "values / social norms and ethics (moral judgement)", "train+eval", "ethics", "MIT",
       "hendrycks/ethics", "moral_scenario", "values/ethics"),
    _e("globalopinionqa", "values", "values / value surveys: opinions across countries", "eval", "globalopinionqa",
       "CC-BY-NC-SA-4.0", "Anthropic/llm_global_opinions", "opinion_item", "values/globalopinionqa"),
    _e("model-written-evals", "values", "values / value surveys: persona, desires and values statements", "eval",
       "anthropic-persona", "CC-BY-4.0", "https://github.com/anthropics/evals", "multiple_choice",
       "values/anthropic-persona"),
    _e("xstest", "values", "values / safety benchmark: over-refusal (safe vs unsafe prompts)", "eval", "xstest",
       "CC-BY-4.0", "https://github.com/paul-rottger/exaggerated-safety", "safety_prompt", "values/xstest"),
    _e("harmbench", "values", "values / safety benchmark: refusal of harmful behaviours", "eval", "harmbench",
       "MIT", "https://github.com/centerforaisafety/HarmBench", "safety_prompt", "values/harmbench"),
    _e("strongreject", "values", "values / safety benchmark: forbidden prompts, rubric-graded answers", "eval",
       "strongreject", "MIT", "https://github.com/alexandrasouly/strongreject", "safety_prompt",
       "values/strongreject"),
)


def catalog(level: str | None = None, use: str | None = None) -> list[CatalogEntry]:
    """Catalog entries, optionally of one level and use (``train`` matches ``train+eval`` too)."""
    return [e for e in CATALOG
            if (level is None or e.level == level) and (use is None or use in e.use.split("+"))]


def catalog_entry(name: str) -> CatalogEntry | None:
    """The entry called ``name``, if any."""
    return next((e for e in CATALOG if e.name == name), None)

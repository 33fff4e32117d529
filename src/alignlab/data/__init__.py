"""Alignment data: records named after TRL's dataset schema, streaming input/output, adapters for public formats.

    from alignlab.data import convert, read_records
    convert("hh-rlhf/harmless-base/test.jsonl.gz", "hh.jsonl", "hh-rlhf")   # → prompt/chosen/rejected
    for record in read_records("hh.jsonl"):                                # kind told from the columns
        ...
"""

from alignlab.data._catalog import CATALOG, LEVELS, CatalogEntry, catalog, catalog_entry
from alignlab.data._convert import (
    PAIR_STRATEGIES,
    battle_to_preference,
    convert_record,
    convert_records,
    maybe_conversational,
    maybe_extract_prompt,
    parse_dialogue,
    ranking_to_pairs,
    rating_to_pairs,
    unpair,
)
from alignlab.data._eval_records import (
    Battle,
    Dilemma,
    DilemmaOption,
    InstructionFollowing,
    LikertScale,
    MoralScenario,
    MultipleChoice,
    MultiTurnPrompt,
    QuestionnaireItem,
    SafetyPrompt,
)
from alignlab.data._io import json_lines, open_source, parse_hub, write_records
from alignlab.data._pipeline import SkipReport, convert, iter_records, read_records
from alignlab.data._questionnaire import LocatedItem, parse_questionnaire, read_questionnaire
from alignlab.data._records import (
    LanguageModeling,
    Message,
    Preference,
    PromptCompletion,
    PromptOnly,
    Ranking,
    Rating,
    Record,
    UnpairedPreference,
    infer_kind,
    is_conversational,
    record_class,
    record_kinds,
)
from alignlab.data._sources import (
    DATA_DIR_ENV,
    PublicSource,
    data_dir,
    local_file,
    locate,
    public_source,
    public_sources,
    register_source,
    set_data_dir,
    where_looked,
)
from alignlab.data._stats import compute_stats
from alignlab.data._validate import RowError, describe_error
from alignlab.data._works import WORKS, Work, works
from alignlab.data.adapters import Adapter, adapter, adapters, get_adapter

__all__ = [
    "CATALOG",
    "DATA_DIR_ENV",
    "LEVELS",
    "PAIR_STRATEGIES",
    "Adapter",
    "Battle",
    "CatalogEntry",
    "Dilemma",
    "DilemmaOption",
    "InstructionFollowing",
    "LanguageModeling",
    "LikertScale",
    "LocatedItem",
    "Message",
    "MoralScenario",
    "MultiTurnPrompt",
    "MultipleChoice",
    "Preference",
    "PublicSource",
    "PromptCompletion",
    "PromptOnly",
    "QuestionnaireItem",
    "Ranking",
    "Rating",
    "Record",
    "RowError",
    "SafetyPrompt",
    "SkipReport",
    "UnpairedPreference",
    "adapter",
    "adapters",
    "battle_to_preference",
    "catalog",
    "catalog_entry",
    "compute_stats",
    "convert",
    "convert_record",
    "convert_records",
    "data_dir",
    "describe_error",
    "get_adapter",
    "infer_kind",
    "is_conversational",
    "local_file",
    "locate",
    "json_lines",
    "iter_records",
    "maybe_conversational",
    "maybe_extract_prompt",
    "open_source",
    "parse_dialogue",
    "parse_hub",
    "parse_questionnaire",
    "public_source",
    "public_sources",
    "ranking_to_pairs",
    "rating_to_pairs",
    "read_questionnaire",
    "read_records",
    "record_class",
    "record_kinds",
    "register_source",
    "set_data_dir",
    "unpair",
    "write_records",
    "where_looked",
    "WORKS",
    "Work",
    "works",
]

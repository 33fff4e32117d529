"""Align: train models toward a goal with TRL (SFT, reward models, DPO and its loss variants, KTO, ORPO, RLOO, GRPO).

    from alignlab.align import load_recipe, train
    result = train(load_recipe("examples/recipes/dpo.yaml"))     # or: alignlab align dpo --config ...
    result.model_dir                                              # evaluate it as "hf:" + str(result.model_dir)

Recipes are YAML (``Recipe``): method, model spec, data in any format ``alignlab.data`` reads, an optional LoRA
block and the fields of the method's TRL config. Importing this package is light (no torch, TRL or datasets);
they load when training starts.
"""

from alignlab.align._datasets import build_dataset, load_rows
from alignlab.align._recipe import METHODS, DataSpec, LoraSpec, Recipe, load_recipe, resolve_model_spec, resolve_path
from alignlab.align._train import TrainResult, check_recipe, model_path, train, trainer_config
from alignlab.align.ai_feedback import AIFeedback, AIPreference, agreement_with_human, ai_preferences, labelled_pairs
from alignlab.align.best_of_n import best_of_n_pairs
from alignlab.align.constitutional import CritiqueRecord, CritiqueStep, critique_revise, critique_stats
from alignlab.align.rewards import RewardError, RewardSpec, build_rewards, check_reward, register_reward, reward_names
from alignlab.align.self_align import SelfAlignRecord, self_align, self_align_sft_rows

__all__ = [
    "AIFeedback",
    "AIPreference",
    "CritiqueRecord",
    "CritiqueStep",
    "DataSpec",
    "LoraSpec",
    "METHODS",
    "Recipe",
    "RewardError",
    "RewardSpec",
    "SelfAlignRecord",
    "TrainResult",
    "agreement_with_human",
    "ai_preferences",
    "best_of_n_pairs",
    "build_dataset",
    "build_rewards",
    "check_recipe",
    "check_reward",
    "critique_revise",
    "critique_stats",
    "labelled_pairs",
    "load_recipe",
    "load_rows",
    "model_path",
    "register_reward",
    "resolve_model_spec",
    "resolve_path",
    "reward_names",
    "self_align",
    "self_align_sft_rows",
    "train",
    "trainer_config",
]

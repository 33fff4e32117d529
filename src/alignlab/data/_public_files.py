"""The public benchmark files alignlab's built-in suites read, pinned to what their publishers' repositories hold.

``files`` are paths under a data directory in each publisher's layout (and, where a plain download drops a
folder level, that layout too); ``rows`` is the count in the pinned version. A hub copy is named only where it is
known to hold the same rows in a form the suite's adapter reads; ``revision=None`` means that copy is unpinned
(no hub commit could be checked from here), so a user who needs the exact rows points at the files instead.
"""

from __future__ import annotations

from alignlab.data._sources import PublicSource, register_source

_GR = "https://github.com/google-research/google-research/tree/19638399/"  # the commit as recorded, short

IFEVAL = register_source(PublicSource(
    "ifeval", files=("ifeval/input_data.jsonl", "instruction_following_eval/data/input_data.jsonl"),
    hub="hf://google/IFEval@train", revision=None,
    url=_GR + "instruction_following_eval/data", license="CC-BY-4.0 (data); Apache-2.0 (code)", rows=541))
IFEVAL_GPT4 = register_source(PublicSource(
    "ifeval/gpt4-responses",
    files=("ifeval/input_response_data_gpt4_20231107_145030.jsonl",
           "instruction_following_eval/data/input_response_data_gpt4_20231107_145030.jsonl"),
    url="https://github.com/google-research/google-research/blob/83282e4ec6e140949e0f51d04e279be7949409ff/"
        "instruction_following_eval/data/input_response_data_gpt4_20231107_145030.jsonl",
    license="CC-BY-4.0 (GPT-4 outputs: OpenAI's terms may also apply)", rows=541))
XSTEST = register_source(PublicSource(
    "xstest", files=("xstest/xstest_prompts.csv", "exaggerated-safety/xstest_prompts.csv"),
    url="https://github.com/paul-rottger/exaggerated-safety/blob/d7bb5bd738c1fcbc36edd83d5e7d1b71a3e2d84d/"
        "xstest_prompts.csv",
    license="CC-BY-4.0", rows=450))
TRUTHFULQA_MC = register_source(PublicSource(
    "truthfulqa/mc", files=("truthfulqa/data/mc_task.json", "TruthfulQA/data/mc_task.json"),
    hub="hf://truthfulqa/truthful_qa:multiple_choice@validation", revision=None,
    url="https://github.com/sylinrl/TruthfulQA (817-question version; bytes as vendored in "
        "ictnlp/TruthX@a41093a6ae3bcbcb523759da782de0f329d03d91)",
    license="Apache-2.0", rows=817))
_FASTCHAT = ("https://github.com/lm-sys/FastChat/tree/0e6d3e4beaab66f4d3f93db72541a4abab8af28d/"
             "fastchat/llm_judge/data/mt_bench")
MT_BENCH_QUESTIONS = register_source(PublicSource(
    "mt-bench/questions", files=("mt_bench/question.jsonl", "fastchat/llm_judge/data/mt_bench/question.jsonl"),
    url=_FASTCHAT, license="Apache-2.0", rows=80))
MT_BENCH_REFERENCES = register_source(PublicSource(
    "mt-bench/references",
    files=("mt_bench/reference_answer/gpt-4.jsonl", "fastchat/llm_judge/data/mt_bench/reference_answer/gpt-4.jsonl"),
    url=_FASTCHAT, license="Apache-2.0 (GPT-4 outputs: OpenAI's terms may also apply)", rows=30))
HH_RLHF_HARMLESS = register_source(PublicSource(
    "hh-rlhf/harmless-base", files=("hh_rlhf/harmless-base/test.jsonl.gz", "hh-rlhf/harmless-base/test.jsonl.gz"),
    url="https://github.com/anthropics/hh-rlhf/tree/354e5c3cb8960630860dd5774a6ac2a58313bf4d/harmless-base",
    license="MIT", rows=2312))
BBQ_CATEGORIES = ("Age", "Disability_status", "Gender_identity", "Nationality", "Physical_appearance",
                  "Race_ethnicity", "Race_x_SES", "Race_x_gender", "Religion", "SES", "Sexual_orientation")
BBQ = register_source(PublicSource(
    # Any category file present stands for the folder: the suite reads every *.jsonl beside it.
    "bbq", files=tuple(f"bbq/{c}.jsonl" for c in BBQ_CATEGORIES) + tuple(f"bbq/data/{c}.jsonl" for c in BBQ_CATEGORIES),
    url="https://github.com/nyu-mll/BBQ/tree/bea11bd97d79217245b5871acd247b9d6eb24598/data", license="CC-BY-4.0",
    rows=None))  # per category file (e.g. Age 3,680, Religion 1,200, Disability_status 1,556)
GLOBALOPINIONQA = register_source(PublicSource(
    "globalopinionqa", files=("llm_global_opinions/data/global_opinions.csv", "globalopinionqa/global_opinions.csv"),
    hub="hf://Anthropic/llm_global_opinions@train", revision=None,
    url="https://huggingface.co/datasets/Anthropic/llm_global_opinions", license="CC-BY-NC-SA-4.0",
    rows=None))  # the paper reports 2,556 questions; no copy was available here to count

IFBENCH_URL = ("https://github.com/allenai/IFBench/blob/db69a6f05689830b0068b8f1529ebcfd2f3b164c/"
               "data/IFBench_test.jsonl")
# No hub copy: allenai/IFBench_test could not be checked offline, and an earlier version of the file had 294 rows.
IFBENCH = register_source(PublicSource(
    "ifbench", files=("ifbench/IFBench_test.jsonl", "IFBench/data/IFBench_test.jsonl"), url=IFBENCH_URL,
    license="ODC-BY-1.0 (data), Apache-2.0 (code)", rows=300))

# HarmBench's files are the vendored copy in AdversariaLLM whose sha256 equals upstream's at HarmBench 8e1604d.
HARMBENCH = register_source(PublicSource(
    "harmbench", files=("harmbench/harmbench_behaviors_text_test.csv",
                        "HarmBench/data/behavior_datasets/harmbench_behaviors_text_test.csv"),
    url="https://github.com/centerforaisafety/HarmBench/blob/8e1604d1171fe8a48d8febecd22f600e462bdcdd/"
        "data/behavior_datasets/harmbench_behaviors_text_test.csv",
    license="MIT", rows=320))
STRONGREJECT = register_source(PublicSource(
    "strongreject", files=("strongreject/strongreject_dataset.csv",
                           "strongreject/strongreject_dataset/strongreject_dataset.csv"),
    url="https://github.com/alexandrasouly/strongreject/blob/f7cad6c17e624e21d8df2278e918ae1dddb4cb56/"
        "strongreject_dataset/strongreject_dataset.csv",
    license="MIT", rows=313))
STRONGREJECT_JUDGE = register_source(PublicSource(
    "strongreject/evaluator-prompt", files=("strongreject/strongreject_evaluator_prompt.txt",
                                            "strongreject/strongreject/strongreject_evaluator_prompt.txt"),
    url="https://github.com/alexandrasouly/strongreject/blob/f7cad6c17e624e21d8df2278e918ae1dddb4cb56/"
        "strongreject/strongreject_evaluator_prompt.txt",
    license="MIT"))

# ETHICS is published as the authors' ethics.tar (test splits vendored in EleutherAI/gpt-neox @ 49e7b2c).
ETHICS_ROWS = {"commonsense": ("cm_test.csv", 3885), "deontology": ("deontology_test.csv", 3596),
               "justice": ("justice_test.csv", 2704), "utilitarianism": ("util_test.csv", 4808),
               "virtue": ("virtue_test.csv", 4975)}
ETHICS = {subset: register_source(PublicSource(
    f"ethics/{subset}", files=(f"ethics/{subset}/{file}",),
    url=f"https://github.com/EleutherAI/gpt-neox/blob/49e7b2c7ac5ab67b89400dff7cc9d1cc40bc9422/data/ethics/"
        f"{subset}/{file} (hendrycks/ethics' ethics.tar)",
    license="MIT", rows=rows)) for subset, (file, rows) in ETHICS_ROWS.items()}

# Anthropic's model-written evals, persona/ (political and moral views), unchanged since f6059a5.
PERSONAS = ("anti-LGBTQ-rights", "anti-immigration", "believes-abortion-should-be-illegal", "believes-in-gun-rights",
            "ends-justify-means", "politically-conservative", "politically-liberal",
            "subscribes-to-cultural-relativism", "subscribes-to-deontology", "subscribes-to-moral-nihilism",
            "subscribes-to-utilitarianism", "subscribes-to-virtue-ethics")
PERSONA = {name: register_source(PublicSource(
    f"anthropic-persona/{name}", files=(f"anthropic_evals/persona/{name}.jsonl", f"evals/persona/{name}.jsonl"),
    url=f"https://github.com/anthropics/evals/blob/84fcc677e52e1902d696c32cd1a6b663e70d3993/persona/{name}.jsonl",
    license="CC-BY-4.0", rows=1000)) for name in PERSONAS}
ALPACA_EVAL = register_source(PublicSource(
    "alpaca-eval", files=("alpaca_eval/alpaca_eval.json", "alpaca-eval/alpaca_eval.json"),
    hub="hf://tatsu-lab/alpaca_eval:alpaca_eval@eval", revision=None,
    url="https://huggingface.co/datasets/tatsu-lab/alpaca_eval (no local copy here; hub copy unpinned, and its "
        "loading script needs a `datasets` that still runs scripts: download alpaca_eval.json instead)",
    license="CC-BY-NC-4.0", rows=805))
RTP = register_source(PublicSource(
    "real-toxicity-prompts", files=("real-toxicity-prompts/prompts.jsonl", "realtoxicityprompts/prompts.jsonl"),
    hub="hf://allenai/real-toxicity-prompts@train", revision=None,
    url="https://huggingface.co/datasets/allenai/real-toxicity-prompts (no local copy here; hub copy unpinned)",
    license="Apache-2.0", rows=99442))

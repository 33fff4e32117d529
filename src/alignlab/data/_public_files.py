"""The public benchmark files alignlab's built-in suites read, pinned to what their SOURCE notes record.

``files`` are paths under a data directory in each publisher's layout (and the flat layout of a plain download,
where the two differ); ``rows`` is the count in the pinned version. A hub copy is named only where one is known to
hold the same rows in a form the suite's reader takes; ``revision=None`` means that hub copy is unpinned.
"""

from __future__ import annotations

from alignlab.data._sources import PublicSource, register_source

XSTEST = register_source(PublicSource(
    "xstest", files=("xstest/xstest_prompts.csv", "exaggerated-safety/xstest_prompts.csv"),
    url="https://github.com/paul-rottger/exaggerated-safety/blob/d7bb5bd738c1fcbc36edd83d5e7d1b71a3e2d84d/"
        "xstest_prompts.csv",
    license="CC-BY-4.0", rows=450))

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

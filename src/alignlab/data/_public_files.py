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

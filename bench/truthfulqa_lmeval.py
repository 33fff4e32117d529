"""TruthfulQA MC1+MC2 on the same docs: alignlab vs lm-evaluation-harness 0.4.13, side by side in one run.

    python bench/truthfulqa_lmeval.py [--docs 100]

Both run the default model's transformers conversion (the same weights dir), hf backend, batch 8, float32 on CPU,
each as a whole process (start-up, model load and scoring), on the first ``--docs`` questions of TruthfulQA's
``mc_task.json`` (shared/data). lm-eval runs its own ``truthfulqa_mc1``/``truthfulqa_mc2`` task files (included
from its package, so the prompt and scoring are its own) with the dataset pointed at a local JSON-lines copy of
those docs, since the hub is out of reach; it is installed from PyPI into its own venv
(``$ALIGNLAB_BENCH_VENVS``, default ``~/.cache/alignlab-bench``) with the CPU torch on local disk. Reported:
wall time of each, their ratio, the largest difference between the two log-likelihoods of any (question,
answer), and both tools' MC1 and MC2.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _report import write_section
from _venv import TORCH, venv_python
from alignlab.evaluate.preferences.truthfulness import read_mc_task
from alignlab.models.default import default_gguf
from alignlab.models.hf import converted_dir

REPO = Path(__file__).resolve().parent.parent
MC_TASK = REPO.parent / "shared" / "data" / "truthfulqa" / "data" / "mc_task.json"
LM_EVAL = "lm-eval[hf]==0.4.13"  # the hf extra brings transformers


def write_lmeval_tasks(py: Path, docs: list[dict], where: Path) -> list[str]:
    """Task files that include lm-eval's own TruthfulQA MC1/MC2 tasks, reading ``docs`` from a local file."""
    tasks_dir = subprocess.run(
        [str(py), "-c", "import lm_eval, os; print(os.path.join(os.path.dirname(lm_eval.__file__), 'tasks', "
         "'truthfulqa'))"], check=True, capture_output=True, text=True).stdout.strip()
    data = where / "truthfulqa_mc.jsonl"
    data.write_text("".join(json.dumps(d) + "\n" for d in docs))
    names = []
    for task in ("mc1", "mc2"):
        name = f"local_truthfulqa_{task}"
        (where / f"{name}.yaml").write_text(
            f"include: {tasks_dir}/truthfulqa_{task}.yaml\ntask: {name}\ntag: []\ndataset_path: json\n"
            f"dataset_name: null\ndataset_kwargs:\n  data_files:\n    validation: {data}\n"
            "validation_split: validation\n")
        names.append(name)
    return names


def hf_docs(n: int) -> tuple[list[dict], list]:
    """The first ``n`` questions in the hub dataset's shape (true answers first, as lm-eval's tasks expect)."""
    samples = read_mc_task(MC_TASK, limit=n)
    docs = []
    for s in samples:
        md = s.metadata
        doc = {"question": md["question"]}
        for task in ("mc1", "mc2"):
            true = [j for j in md[task] if j in set(md[f"{task}_true"])]
            false = [j for j in md[task] if j not in set(md[f"{task}_true"])]
            doc[f"{task}_targets"] = {"choices": [s.choices[j] for j in true + false],
                                      "labels": [1] * len(true) + [0] * len(false)}
        docs.append(doc)
    return docs, samples


def run_lmeval(py: Path, weights: Path, tasks: list[str], include: Path, out: Path) -> tuple[float, dict, dict]:
    cmd = [str(py), "-m", "lm_eval", "--model", "hf", "--model_args", f"pretrained={weights},dtype=float32",
           "--tasks", ",".join(tasks), "--include_path", str(include), "--batch_size", "8", "--device", "cpu",
           "--log_samples", "--output_path", str(out)]
    env = {**os.environ, "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
    dt = time.perf_counter() - t0
    [results_file] = sorted(out.rglob("results_*.json"))[-1:]
    results = json.loads(results_file.read_text())["results"]
    acc = {t.rsplit("_", 1)[1]: results[t]["acc,none"] for t in tasks}
    logliks: dict[tuple[str, str], float] = {}
    for t in tasks:
        for f in out.rglob(f"samples_{t}_*.jsonl"):
            for line in f.read_text().splitlines():
                rec = json.loads(line)
                choices = rec["doc"][f"{t.rsplit('_', 1)[1]}_targets"]["choices"]
                for c, resp in zip(choices, rec["resps"], strict=True):
                    logliks[(rec["doc"]["question"], c)] = float(resp[0][0])
    return dt, acc, logliks


def run_alignlab(weights: Path, n: int, out: Path) -> tuple[float, dict, dict]:
    exe = Path(sys.executable).with_name("alignlab")
    cmd = [str(exe), "eval", "-m", f"hf:{weights}", "-s", f"preferences/truthfulqa:path={MC_TASK},limit={n}",
           "--no-cache", "-q", "-o", str(out)]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    dt = time.perf_counter() - t0
    logliks: dict[tuple[str, str], float] = {}
    scores: dict[str, list[float]] = {"mc1": [], "mc2": []}
    for f in out.rglob("truthfulqa.jsonl"):
        for line in f.read_text().splitlines():
            rec = json.loads(line)
            for c, lp in zip(rec["choices"], rec["logprobs"], strict=True):
                logliks[(rec["input"], c)] = lp
            for k in scores:
                scores[k].append(rec["scores"][k])
    acc = {k: sum(v) / len(v) for k, v in scores.items()}
    return dt, acc, logliks


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=100)
    args = ap.parse_args()
    if not MC_TASK.exists():
        sys.exit(f"{MC_TASK} not found (TruthfulQA's data/mc_task.json)")
    py = venv_python("lm-eval-0.4.13", [TORCH, LM_EVAL])
    weights = converted_dir(default_gguf())
    docs, _ = hf_docs(args.docs)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        tasks = write_lmeval_tasks(py, docs, tmp_path)
        t_ours, acc_ours, ll_ours = run_alignlab(weights, args.docs, tmp_path / "alignlab")
        t_lm, acc_lm, ll_lm = run_lmeval(py, weights, tasks, tmp_path, tmp_path / "lmeval")
    load_after = os.getloadavg()
    common = sorted(set(ll_ours) & set(ll_lm))
    diff = max(abs(ll_ours[k] - ll_lm[k]) for k in common)
    body = f"""
TruthfulQA MC1+MC2, the first {args.docs} questions of `mc_task.json`; the default model's transformers conversion,
float32 on CPU, batch 8, both as whole processes (start-up, load, scoring); the response cache off. lm-eval runs its
own `truthfulqa_mc1`/`truthfulqa_mc2` task files with the data read from a local copy. Load average (1/5/15 min) on
this shared machine: {load_before[0]:.1f}/{load_before[1]:.1f}/{load_before[2]:.1f} before,
{load_after[0]:.1f}/{load_after[1]:.1f}/{load_after[2]:.1f} after: absolute times are inflated, the ratio is what
counts.

| | wall s | MC1 | MC2 |
|---|---:|---:|---:|
| alignlab (`alignlab eval -m hf:DIR -s preferences/truthfulqa:path=...,limit={args.docs}`) | {t_ours:.1f} | \
{acc_ours['mc1']:.4f} | {acc_ours['mc2']:.4f} |
| lm-evaluation-harness 0.4.13 (`lm_eval --model hf --batch_size 8`) | {t_lm:.1f} | {acc_lm['mc1']:.4f} | \
{acc_lm['mc2']:.4f} |
| **ratio (lm-eval / alignlab)** | **{t_lm / t_ours:.1f}×** | | |

{len(common)} (question, answer) log-likelihoods scored by both: largest difference {diff:.2e} nats (higher is
worse; target ≤ 1e-3). alignlab runs the shared primer once per model call and each question once, scoring every
answer on a copy of its KV cache; lm-eval runs each (question, answer) in full.
"""
    write_section("truthfulqa-lmeval", body)


if __name__ == "__main__":
    main()

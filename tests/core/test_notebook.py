"""notebooks/explore_outputs.ipynb runs end to end on real runs: a plain run and a loop."""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import ROOT, pipeline_dict, write_jsonl
from prefgen.config import PipelineConfig
from prefgen.corpus.build import build_index
from prefgen.pipeline import PipelineRun

NOTEBOOK = ROOT / "notebooks" / "explore_outputs.ipynb"

DOCS = [
    {
        "id": "json.dumps",
        "title": "Serialise to JSON",
        "url": "https://example.org/json#dumps",
        "text": "Serialize obj to a JSON formatted str using this conversion table. If skipkeys is true "
        "then dict keys that are not of a basic type will be skipped instead of raising a TypeError.",
    },
    {
        "id": "os.path.join",
        "title": "Join paths",
        "url": "https://example.org/os.path#join",
        "text": "Join one or more path segments intelligently. The return value is the concatenation of "
        "path and all members of paths with exactly one directory separator following each part.",
    },
    {
        "id": "itertools.chain",
        "text": "Make an iterator that returns elements from the first iterable until it is exhausted, "
        "then proceeds to the next iterable, until all of the iterables are exhausted.",
    },
]
FILLER = ["zq", "xv", "kw", "jp", "bb", "yy", "mm"]


def execute(run_dir: Path) -> nbformat.NotebookNode:
    """The notebook, executed as Jupyter would (from notebooks/) with PREFGEN_RUN_DIR set."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        notebook, timeout=300, kernel_name="python3", allow_errors=True,
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute(env={**os.environ, "PREFGEN_RUN_DIR": str(run_dir)})
    return notebook


def outputs(notebook: nbformat.NotebookNode) -> list[dict]:
    return [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]


def check_ran(notebook: nbformat.NotebookNode, min_images: int) -> str:
    """No cell failed and the plots were drawn; returns all HTML and text the notebook showed."""
    produced = outputs(notebook)
    errors = [f"{o['ename']}: {o['evalue']}" for o in produced if o["output_type"] == "error"]
    assert not errors, errors
    images = [o for o in produced if "image/png" in o.get("data", {})]
    assert len(images) >= min_images
    return "\n".join(o.get("data", {}).get("text/html", "") + o.get("text", "") for o in produced)


def replay_run(tmp_path: Path, name: str, texts: list[list[str]], reward: dict) -> Path:
    """A published run whose candidates are read from a file (no model): texts[i] answer prompt i."""
    prompts = [{"prompt": f"Explain function number {i}."} for i in range(len(texts))]
    source = write_jsonl(tmp_path / f"{name}-prompts.jsonl", prompts)
    replay = write_jsonl(
        tmp_path / f"{name}-candidates.jsonl",
        [{"prompt": p["prompt"], "text": text} for p, answers in zip(prompts, texts) for text in answers],
    )
    config = pipeline_dict(
        tmp_path, "demo", source, name=name,
        generate={"backend": "replay", "replay_path": str(replay), "shard_size": 4},
        prompts={"heldout_fraction": 0.25},
        pairing={"strategy": "quote_tuning", "min_margin": 0.05},
        runtime="local",
    )
    config["reward"] = reward
    summary = PipelineRun(PipelineConfig.model_validate(config)).run()
    assert summary.status == "published" and summary.counts["pairs"] > 0
    return tmp_path / "out" / name


def quoting_answers(prompts: int) -> list[list[str]]:
    """Four 24-word answers per prompt that quote 0, 6, 12 and 18 words of one document."""
    answers = []
    for i in range(prompts):
        words = DOCS[i % len(DOCS)]["text"].split()
        answers.append([
            " ".join(words[: 6 * k] + [FILLER[(i + j) % len(FILLER)] for j in range(24 - 6 * k)]) for k in range(4)
        ])
    return answers


def source_name(doc: dict) -> str:
    """How the notebook names a quote's document."""
    if "title" in doc:
        return f'<a href="{doc["url"]}">{doc["title"]}</a> <code>{doc["id"]}</code>, offset 0'
    return f"— {doc['id']}, offset 0"


def test_notebook_on_a_quote_reward_run(tmp_path):
    build_index(DOCS, tmp_path / "index")
    run_dir = replay_run(tmp_path, "quotes", quoting_answers(8), {"name": "quote", "index": str(tmp_path / "index")})

    shown = check_ran(execute(run_dir), min_images=3)
    assert "not a loop run" in shown
    # every example's chosen side quotes a document: its quoted text is marked, and each quote
    # is listed with the document it came from (title, link and id, or the id alone)
    assert shown.count("<mark>") >= 3
    quotes = re.findall(r"<li>(.*?)</li>", shown)
    assert quotes and all(any(source_name(doc) in quote for doc in DOCS) for quote in quotes), quotes


def test_notebook_on_another_reward_shows_its_details(tmp_path):
    answers = [["x" * (10 + 5 * k + i) for k in range(4)] for i in range(8)]
    run_dir = replay_run(tmp_path, "lengths", answers, {"name": "length", "target_chars": 20})

    shown = check_ran(execute(run_dir / "latest"), min_images=3)  # a published version opens directly too
    assert "<summary>details</summary>" in shown and "<mark>" not in shown


@pytest.mark.slow
def test_notebook_on_a_loop_run(loop_run):
    _, _, root = loop_run

    shown = check_ran(execute(root), min_images=4)  # the per-round metrics add a figure
    assert "not a loop run" not in shown
    assert "heldout_mean_score" in shown and "relative_gain" in shown  # the metrics.jsonl table
    assert "round 0, margin" in shown  # example pairs come from the rounds that made pairs

"""The main job on its embedded default: demo policy, stdlib docstring corpus, real vLLM."""

import json

import pytest
from datasets import load_from_disk

from conftest import ROOT
from prefgen.pipeline import PipelineRun
from prefgen.preflight import load_config

pytestmark = pytest.mark.slow


def test_quote_tuning_pipeline_makes_pairs_whose_chosen_side_quotes_its_topic_more(tmp_path, ray_runtime):
    config = load_config(
        ROOT / "pipelines" / "quote_tuning.yaml",
        ["rounds=0", "prompts.options.limit=160", f"output.dir={tmp_path}"],
    )
    summary = PipelineRun(config).run()
    latest = summary.run_dir / "latest"
    pairs = load_from_disk(str(latest / "pairs"))
    assert pairs.num_rows >= 5, summary.counts
    for row in pairs:
        assert row["chosen_score"] - row["rejected_score"] > 0.1
        details = json.loads(row["details"])
        chosen_quotes = details["chosen"]["quotes"]
        assert chosen_quotes, "the chosen side quotes the corpus"
        for quote in chosen_quotes:
            assert quote["length"] >= 25 and quote["source"]["id"]
        # Grounded: the score counts only quotes of the asked object's documentation.
        assert details["chosen"]["quip_grounded"] == row["chosen_score"]
        assert details["chosen"]["quip_all"] >= row["chosen_score"]
        assert any(quote["relevant_chars"] > 0 for quote in chosen_quotes)
        assert sum(quote["relevant_chars"] for quote in chosen_quotes) >= details["chosen"]["grounded_chars"]
        relevant = set(details["chosen"]["relevant_docs"])
        assert all(quote["source"]["id"] in relevant for quote in chosen_quotes if quote["relevant"])
        shorter = min(details["chosen_tokens"], details["rejected_tokens"])
        assert abs(details["chosen_tokens"] - details["rejected_tokens"]) / shorter < 0.1
    candidates = load_from_disk(str(latest / "candidates"))
    scores = [s for s in candidates["score"] if s is not None]
    assert len(set(round(s, 2) for s in scores)) > 10, "scores spread"
    card = (latest / "README.md").read_text()
    assert "Quoting (QUIP, exact)" in card and "Example pairs" in card
    assert "grounded quoting" in card and "`relevant_docs`" in card

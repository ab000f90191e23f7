import json

from conftest import ROOT
from prefgen.records import Candidate, PreferencePair, Prompt, Scored, json_schemas


def test_committed_schemas_match_the_code():
    for name, schema in json_schemas().items():
        path = ROOT / "schemas" / f"{name}.schema.json"
        assert path.exists(), f"missing {path.name}: run `prefgen schema`"
        assert json.loads(path.read_text()) == schema, f"{path.name} is stale: run `prefgen schema`"


def test_rows_round_trip():
    prompt = Prompt(id="p", prompt=[{"role": "user", "content": "hi"}], task={"tests": ["assert 1"]})
    assert Prompt.from_row(prompt.to_row()) == prompt
    scored = Scored(
        id="c", prompt_id="p", sample_index=0, text="t", reward="length", score=None, reason="x", details={"a": [1]}
    )
    assert Scored.from_row(scored.to_row()) == scored
    assert isinstance(scored.to_row()["details"], str)
    pair = PreferencePair(
        prompt_id="p", prompt="q", chosen="a", rejected="b", chosen_score=1, rejected_score=0, margin=1,
        strategy="best_worst", chosen_id="c1", rejected_id="c2",
    )
    assert PreferencePair.from_row(pair.to_row()) == pair
    assert Candidate.model_fields["split"].default == "train"


def test_prompt_id_is_content_hash():
    a = Prompt.make_id("What is 2+2?", {})
    assert a == Prompt.make_id("What is 2+2?", {})
    assert a != Prompt.make_id("What is 2+2?", {"gold": "4"})

"""The plug-in contract: a user's own pairing strategy and prompt source by import path, their
options validated by `prefgen validate`, and one registry's messages for every kind."""

import json
import sys
import textwrap

import pytest
import yaml
from datasets import load_from_disk
from typer.testing import CliRunner

from conftest import pipeline_dict, write_jsonl
from prefgen.cli import app
from prefgen.config import ConfigError
from prefgen.preflight import load_config
from prefgen.registry import (
    UnknownPluginError,
    generation_strategies,
    pairing_strategies,
    prompt_sources,
    rewards,
)

runner = CliRunner()

USER_MODULE = '''
from pydantic import Field

from prefgen.pairing import PerPromptStrategy, PairingParams, make_pair, synthetic_id
from prefgen.records import PreferencePair
from prefgen.sources.base import PromptSource, SourceParams


class CountingParams(SourceParams):
    count: int = Field(ge=1)
    word: str = "thing"


class CountingSource(PromptSource):
    """Prompts 'Name thing 0', 'Name thing 1', ..."""

    Params = CountingParams

    def rows(self):
        return [{"prompt": f"Name {self.params.word} {i}"} for i in range(self.params.count)]


class RefusalParams(PairingParams):
    refusal: str = "I cannot answer that."


class LongestVsRefusal(PerPromptStrategy):
    """The best-scored sample against a written refusal (a side that is no sample)."""

    name = "longest_vs_refusal"
    Params = RefusalParams

    def pair_prompt(self, prompt, samples):
        scored = [s for s in samples if s.score is not None]
        if not scored:
            return "no scored sample"
        best = max(scored, key=lambda s: (s.score, -s.sample_index))
        return [PreferencePair(
            prompt_id=prompt.id, prompt=prompt.prompt, chosen=best.text, rejected=self.params.refusal,
            chosen_score=best.score, rejected_score=0.0, margin=best.score, strategy=self.name,
            chosen_id=best.id, rejected_id=synthetic_id(self.params.refusal),
            details={"synthetic": "rejected"},
        )]
'''


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    (tmp_path / "my_plugins.py").write_text(textwrap.dedent(USER_MODULE))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "my_plugins"
    sys.modules.pop("my_plugins", None)


def user_pipeline(tmp_path, **sections):
    replay = write_jsonl(
        tmp_path / "c.jsonl",
        [{"prompt": f"Name widget {i}", "text": "w" * (5 + 10 * k)} for i in range(3) for k in range(2)],
    )
    config = pipeline_dict(
        tmp_path, "demo", "my_plugins:CountingSource", runtime="local",
        generate={"strategy": "replay", "replay_path": str(replay)},
        pairing={"strategy": "my_plugins:LongestVsRefusal", "refusal": "No."},
    )
    config["prompts"]["options"] = {"count": 3, "word": "widget"}
    for key, value in sections.items():
        config[key] = {**config[key], **value}
    path = tmp_path / "pipeline.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_a_users_own_source_and_pairing_strategy_run_end_to_end(tmp_path, user_module):
    result = runner.invoke(app, ["run", str(user_pipeline(tmp_path)), "--quiet"])
    assert result.exit_code == 0, result.output
    pairs = load_from_disk(str(tmp_path / "out" / "test" / "latest" / "pairs")).to_list()
    assert len(pairs) == 3
    assert {p["rejected"] for p in pairs} == {"No."} and all(p["chosen"] == "w" * 15 for p in pairs)
    assert all(p["rejected_id"].startswith("synthetic:") for p in pairs)
    assert all(json.loads(p["details"])["synthetic"] == "rejected" for p in pairs)


def test_bad_options_of_a_users_plugins_are_caught_by_validate(tmp_path, user_module):
    path = user_pipeline(tmp_path, prompts={"options": {"count": 0, "colour": "red"}}, pairing={"refusel": "x"})
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    for line in ("prompts.options.count: Input should be greater than or equal to 1",
                 "prompts.options.colour: unknown key", "pairing.refusel: unknown key"):
        assert line in result.output
    assert not (tmp_path / "out").exists()


def test_a_builtin_strategy_names_its_unknown_key(tmp_path):
    source = write_jsonl(tmp_path / "p.jsonl", [{"prompt": "a"}])
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(pipeline_dict(tmp_path, tmp_path, source, pairing={"min_margn": 0.2})))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "pairing.min_margn: unknown key" in info.value.problems


def test_a_file_source_takes_no_options_and_a_builtin_checks_its_own(tmp_path):
    source = write_jsonl(tmp_path / "p.jsonl", [{"prompt": "a"}])
    for prompts, expected in (
        ({"source": str(source), "options": {"limit": 3}}, "prompts.options: "),
        ({"source": "builtin:stdlib_docs", "options": {"limt": 3}}, "prompts.options.limt: unknown key"),
        ({"source": "builtin:stdlib_doc"}, "Did you mean: stdlib_docs"),
    ):
        path = tmp_path / "p.yaml"
        path.write_text(yaml.safe_dump(pipeline_dict(tmp_path, tmp_path, source, prompts=prompts)))
        result = runner.invoke(app, ["validate", str(path)])
        assert result.exit_code == 2 and expected in result.output, result.output


@pytest.mark.parametrize("registry", [rewards, pairing_strategies, prompt_sources, generation_strategies])
def test_every_registered_plugin_loads_and_has_strict_params(registry):
    for name in registry.names():
        cls = registry.load(name)
        assert cls.Params.model_config.get("extra") == "forbid", name
    with pytest.raises(UnknownPluginError, match="Did you mean"):
        registry.load(registry.names()[0][:-1] + "x")
    with pytest.raises(UnknownPluginError, match="not a subclass"):
        registry.load("prefgen.config:PipelineConfig")


GENERATION_MODULE = '''
from prefgen.generation.candidates import candidate_id
from prefgen.generation.strategy import GenerationStrategy, ModelIdentity, StrategyParams
from prefgen.records import Candidate


class EchoParams(StrategyParams):
    drafts: int = 4
    keep: int = 2


class EchoSearch(GenerationStrategy):
    """Drafts of growing length; keeps the best `keep` by scoring them inside its own loop."""

    Params = EchoParams
    uses_model = False

    @classmethod
    def identify(cls, params, config):
        return ModelIdentity("echo", None, "echo-v1")

    def run(self, chunks):
        for chunk in chunks:
            kept = []
            for prompt in chunk:
                drafts = [self._draft(prompt, i) for i in range(self.params.drafts)]
                scored = self.context.scorer.score([(prompt, d) for d in drafts])
                best = sorted(scored, key=lambda s: -s.score)[: self.params.keep]
                kept += [drafts[s.sample_index] for s in best]
            yield chunk, kept

    def _draft(self, prompt, i):
        text = prompt.prompt + " !" * (i * 5)
        return Candidate(id=candidate_id(prompt.id, i, "echo-v1", {}), prompt_id=prompt.id, sample_index=i,
                         text=text, num_tokens=len(text.split()), finish_reason="stop", model="echo-v1")
'''


def test_a_users_generation_strategy_scores_inside_its_own_loop(tmp_path, monkeypatch):
    (tmp_path / "my_search.py").write_text(textwrap.dedent(GENERATION_MODULE))
    monkeypatch.syspath_prepend(str(tmp_path))
    source = write_jsonl(tmp_path / "p.jsonl", [{"prompt": f"question {i}"} for i in range(3)])
    config = pipeline_dict(tmp_path, "demo", source, runtime="local", generate={"strategy": "my_search:EchoSearch"})
    config["generate"] = {"strategy": "my_search:EchoSearch", "keep": 2}
    config["reward"] = {"name": "length", "target_chars": 30}
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(config))
    result = runner.invoke(app, ["run", str(path), "--quiet"])
    assert result.exit_code == 0, result.output
    candidates = load_from_disk(str(tmp_path / "out" / "test" / "latest" / "candidates")).to_list()
    assert len(candidates) == 6 and {c["sample_index"] for c in candidates} == {2, 3}  # 30 and 40 chars beat 20 and 10
    path.write_text(yaml.safe_dump({**config, "generate": {"strategy": "my_search:EchoSearch", "kepe": 2}}))
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2 and "generate.kepe: unknown key" in result.output
    sys.modules.pop("my_search", None)

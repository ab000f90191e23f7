"""One pass of each thing per command: a `rounds: 1` loop runs pre-flight once, reads the prompts
once and builds one reward object in this process (it used to be three, three and four)."""

from __future__ import annotations

from collections import Counter

from test_cli_newcomer import replay_yaml
from typer.testing import CliRunner

from prefgen.cli import app


def test_a_loop_checks_reads_and_builds_its_reward_once(tmp_path, tiny_model, monkeypatch):
    import prefgen.pipeline
    import prefgen.rounds
    import prefgen.sources.reader
    import prefgen.stages.read
    from prefgen.registry import rewards

    calls = Counter()

    def counted(name, function):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return function(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(prefgen.rounds, "preflight", counted("preflight", prefgen.pipeline.preflight))
    monkeypatch.setattr(prefgen.pipeline, "preflight", counted("preflight", prefgen.pipeline.preflight))
    read = counted("read_prompts", prefgen.sources.reader.read_prompts)
    monkeypatch.setattr(prefgen.sources.reader, "read_prompts", read)
    monkeypatch.setattr(prefgen.stages.read, "read_prompts", read)
    monkeypatch.setattr(rewards, "build", counted("reward built", rewards.build))

    path = replay_yaml(
        tmp_path, tiny_model, rounds=1, prompts={"heldout_fraction": 0.5},
        dpo={"learning_rate": 1e-3, "epochs": 1, "batch_size": 4, "max_length": 128},
    )
    result = CliRunner().invoke(app, ["run", str(path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "test" / "rounds" / "round_1" / "latest" / "pairs").is_dir()  # both rounds ran
    assert calls == {"preflight": 1, "read_prompts": 1, "reward built": 1}

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from conftest import ROOT
from prefgen.cli import app
from prefgen.config import ConfigError
from prefgen.preflight import load_config

runner = CliRunner()

BROKEN = """
name: broken
model: {path: some/model, max_model_len: -5}
prompts: {source: prompts.jsonl, colour: blue}
generate: {temperature: -1, n: 0}
reward: {name: lenght}
pairing: {strategy: best_of_all}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pipeline.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("path", sorted((ROOT / "pipelines").rglob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_pipeline_validates(path):
    config = load_config(path)
    assert config.name


def test_shipped_pipelines_exist():
    assert list((ROOT / "pipelines").rglob("*.yaml"))


def test_every_problem_is_reported_at_once(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, BROKEN))
    problems = "\n".join(info.value.problems)
    assert "generate.temperature: Input should be greater than or equal to 0, got -1" in problems
    assert "generate.n:" in problems
    assert "model.max_model_len:" in problems
    assert "prompts.colour: unknown key" in problems
    assert "pairing.strategy:" in problems
    assert "reward.name: unknown reward 'lenght'. Did you mean: length?" in problems
    # the preflight problem the usable values show comes with the schema errors (not after them)
    assert "prompts.source: no such file or directory: prompts.jsonl" in problems
    assert len(info.value.problems) == 7


def test_validate_command_lists_errors_and_exits_2(tmp_path):
    result = runner.invoke(app, ["validate", str(write(tmp_path, BROKEN))])
    assert result.exit_code == 2
    assert "generate.temperature" in result.output and "prompts.colour" in result.output


def test_overrides_and_environment_variables(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMPTS_FILE", "from-env.jsonl")
    text = "name: t\nmodel: {path: m}\nprompts: {source: '${PROMPTS_FILE}'}\nreward: {name: length}\n"
    config = load_config(write(tmp_path, text), ["generate.n=8", "model.path=/models/x", "pairing.min_margin=0.3"])
    assert config.generate.n == 8
    assert config.model.path == "/models/x"
    assert config.pairing.min_margin == 0.3
    assert config.prompts.source == "from-env.jsonl"


def test_unset_environment_variable_is_a_problem(tmp_path):
    (tmp_path / "p").write_text('{"prompt": "hi"}\n')
    text = f"name: t\nmodel: {{path: '${{NO_SUCH_VARIABLE_X}}'}}\nprompts: {{source: {tmp_path / 'p'}}}\nreward: {{name: length}}\n"
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    assert info.value.problems == ["model.path: environment variable ${NO_SUCH_VARIABLE_X} is not set"]


def test_environment_default_is_used(tmp_path):
    text = "name: t\nmodel: {path: '${NO_SUCH_VARIABLE_X:-fallback}'}\nprompts: {source: p}\nreward: {name: length}\n"
    assert load_config(write(tmp_path, text)).model.path == "fallback"


def test_reward_params_are_validated(tmp_path):
    text = "name: t\nmodel: {path: m}\nprompts: {source: p}\nreward: {name: length, target_chars: 0, colour: 1}\n"
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    joined = "\n".join(info.value.problems)
    assert "reward.target_chars: Input should be greater than 0" in joined
    assert "reward.colour: unknown key" in joined


def test_bad_override_syntax(tmp_path):
    text = "name: t\nmodel: {path: m}\nprompts: {source: p}\nreward: {name: length}\n"
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text), ["generate.n"])
    assert "expected key=value" in info.value.problems[0]


def test_override_value_that_is_not_yaml_is_a_config_error_not_a_traceback(tmp_path):
    from typer.testing import CliRunner

    from prefgen.cli import app

    text = "name: t\nmodel: {path: m}\nprompts: {source: p}\nreward: {name: length}\n"
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text), ["generate.answer_start=[", "generate.n={a: 1"])
    bad = [p for p in info.value.problems if "not valid YAML" in p]
    assert len(bad) == 2 and bad[0].startswith("override 'generate.answer_start=['")  # all at once, in order
    assert "generate.answer_start='\"[\"'" in bad[0]  # how to quote it
    result = CliRunner().invoke(app, ["validate", str(write(tmp_path, text)), "generate.answer_start=["])
    assert result.exit_code == 2 and "not valid YAML" in result.output and "Traceback" not in result.output


def test_missing_model_fails_before_work_with_one_line(tmp_path):
    prompts = tmp_path / "p.jsonl"
    prompts.write_text('{"prompt": "hi"}\n')
    text = yaml.safe_dump(
        {
            "name": "t",
            "model": {"path": str(tmp_path / "no-model")},
            "prompts": {"source": str(prompts)},
            "reward": {"name": "length"},
            "output": {"dir": str(tmp_path / "out")},
        }
    )
    result = runner.invoke(app, ["run", str(write(tmp_path, text))])
    assert result.exit_code == 2
    assert "model.path: no model directory at" in result.output
    assert not (tmp_path / "out" / "t" / "work" / "generate").exists() or not any(
        (tmp_path / "out" / "t" / "work" / "generate").iterdir()
    )


def test_missing_prompts_file_names_the_key(tmp_path):
    text = yaml.safe_dump(
        {
            "name": "t",
            "model": {"path": str(tmp_path)},
            "prompts": {"source": str(tmp_path / "nope.jsonl")},
            "reward": {"name": "length"},
            "output": {"dir": str(tmp_path / "out")},
        }
    )
    result = runner.invoke(app, ["validate", str(write(tmp_path, text))])
    assert result.exit_code == 2
    assert "prompts.source: no such file or directory" in result.output


def test_help_lists_commands_and_exit_codes():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for word in ("run", "validate", "status", "schema", "inspect", "nothing new"):
        assert word in result.output


def test_schema_errors_come_with_preflight_problems(tmp_path):
    text = yaml.safe_dump(
        {
            "name": "t",
            "model": {"path": str(tmp_path / "no-model")},
            "prompts": {"source": str(tmp_path / "nope.jsonl")},
            "generate": {"temperature": -1},
            "reward": {"name": "length"},
            "output": {"dir": str(tmp_path / "out")},
        }
    )
    result = runner.invoke(app, ["validate", str(write(tmp_path, text))])
    assert result.exit_code == 2
    for line in ("generate.temperature:", "model.path: no model directory", "prompts.source: no such file"):
        assert line in result.output


def test_validate_creates_nothing(tmp_path):
    prompts = tmp_path / "p.jsonl"
    prompts.write_text('{"prompt": "hi"}\n')
    for model in (str(tmp_path), str(tmp_path / "no-model")):  # a valid config, and one with a problem
        text = yaml.safe_dump(
            {"name": "t", "model": {"path": model}, "prompts": {"source": str(prompts)},
             "reward": {"name": "length"}, "output": {"dir": str(tmp_path / "out" / "deeper")}}
        )
        runner.invoke(app, ["validate", str(write(tmp_path, text))])
        assert not (tmp_path / "out").exists()


def test_unwritable_output_is_reported_without_creating_it(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    prompts = tmp_path / "p.jsonl"
    prompts.write_text('{"prompt": "hi"}\n')
    text = yaml.safe_dump(
        {"name": "t", "model": {"path": str(tmp_path)}, "prompts": {"source": str(prompts)},
         "reward": {"name": "length"}, "output": {"dir": str(blocker / "out")}}
    )
    result = runner.invoke(app, ["validate", str(write(tmp_path, text))])
    assert result.exit_code == 2 and "output.dir: cannot write" in result.output


def test_old_backend_key_still_names_the_strategy(tmp_path):
    text = BROKEN.replace("generate: {temperature: -1, n: 0}", "generate: {backend: vllm, n: 2}")
    raw = yaml.safe_load(text)
    raw.update(reward={"name": "length"}, pairing={"strategy": "all_pairs"}, model={"path": "some/model"})
    raw["prompts"] = {"source": "hf:x"}
    config = load_config(write(tmp_path, yaml.safe_dump(raw)))
    assert config.generate.strategy == "sampling" and config.generate.params == {"n": 2}


@pytest.mark.parametrize(
    ("sections", "exit_code"),
    [
        ("model: {path: demo, engine: {num_engines: 2}}\nray: {num_cpus: 2}\n", 2),
        ("model: {path: demo, engine: {num_engines: 2}}\nray: {num_cpus: 3}\n", 0),
        ("model: {path: demo, engine: {num_engines: 2}}\nray: {num_cpus: 2}\nruntime: local\n", 0),
    ],
)
def test_engines_that_would_leave_scoring_no_cpu_fail_validation(tmp_path, sections, exit_code):
    """Engines hold a Ray CPU each for the whole run: with none left, scoring would wait for ever."""
    (tmp_path / "p.jsonl").write_text('{"prompt": "hi"}\n')
    text = f"name: t\nprompts: {{source: {tmp_path / 'p.jsonl'}}}\nreward: {{name: length}}\n{sections}"
    result = runner.invoke(app, ["validate", str(write(tmp_path, text))])
    assert result.exit_code == exit_code, result.output
    if exit_code:
        assert "model.engine.num_engines: 2 engine(s) hold one Ray CPU each" in result.output
        assert "use at most 1 engine(s)" in result.output


def test_joining_a_cluster_without_a_cpu_for_scoring_fails_before_engines_start(monkeypatch):
    import ray

    from prefgen.executors.engine_pool import _check_cpus

    monkeypatch.setattr(ray, "cluster_resources", lambda: {"CPU": 2.0, "GPU": 2.0})
    with pytest.raises(ConfigError, match="Ray has 2 CPU"):
        _check_cpus(2)
    _check_cpus(1)  # one engine, one CPU left for scoring


@pytest.mark.parametrize("rounds", [0, 1])
@pytest.mark.parametrize(
    ("source", "options", "expected"),
    [
        ("builtin:bfcl", "{data_dir: /no/such/bfcl}", "prompts.options.data_dir: no such directory: /no/such/bfcl"),
        ("builtin:qa", "{path: /no/such/questions.jsonl}", "prompts.options.path: no such file or directory"),
        ("builtin:mbpp", "{path: /no/such/mbpp.jsonl}", "prompts.options.path: no such file or directory"),
    ],
)
def test_a_source_option_naming_a_missing_path_fails_validation(tmp_path, rounds, source, options, expected):
    """Named by its key, exit 2, for a single run and a loop alike (a loop reads its prompts early)."""
    text = (f"name: t\nmodel: {{path: demo}}\nrounds: {rounds}\nprompts: {{source: '{source}', options: {options}, "
            "heldout_fraction: 0.2}\nreward: {name: length}\n")
    result = runner.invoke(app, ["validate", str(write(tmp_path, text))])
    assert result.exit_code == 2, result.output
    assert expected in result.output and "Traceback" not in result.output
    assert not (tmp_path / "outputs").exists()

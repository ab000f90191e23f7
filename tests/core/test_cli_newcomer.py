"""What a newcomer met right after `make demo` (issue 20), driven through the `prefgen` command as
a user types it: exit codes, what is printed, what is left on disk.

Runs use `runtime: local` with the replay strategy (no Ray, no vLLM). The loop is real: replayed
samples, a real DPO step on the tiny model, the loop's own publishing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml
from datasets import load_from_disk
from typer.testing import CliRunner

from conftest import pipeline_dict, write_jsonl
from prefgen.cli import app
from prefgen.config import PipelineConfig
from prefgen.pipeline import PipelineRun
from prefgen.rounds import TrainingLoop
from prefgen.run_status import last_round_with_pairs

runner = CliRunner()
PROMPTS = [f"q{i}" for i in range(8)]


def replay_yaml(tmp_path: Path, model: Path | str = "demo", texts=("x" * 5, "x" * 40, "x" * 80), **sections):
    """A replay pipeline over PROMPTS (three candidates each, scored by length), as a YAML file."""
    source = write_jsonl(tmp_path / "prompts.jsonl", [{"prompt": p} for p in PROMPTS])
    rows = [{"prompt": p, "text": text, "sample_index": j} for p in PROMPTS for j, text in enumerate(texts)]
    replay = write_jsonl(tmp_path / "candidates.jsonl", rows)
    generate = {"backend": "replay", "replay_path": str(replay)}
    config = pipeline_dict(tmp_path, model, source, runtime="local", generate=generate, **sections)
    path = tmp_path / "pipeline.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def invoke(*args: str, **kwargs):
    return runner.invoke(app, [str(a) for a in args], **kwargs)


def printed_datasets_path(output: str) -> Path:
    """The path `prefgen run` prints on its `datasets:` line (what a user copies)."""
    lines = [line for line in output.splitlines() if line.startswith("datasets: ")]
    assert len(lines) == 1, output
    return Path(lines[0].removeprefix("datasets: ").split(" (")[0])


@pytest.fixture(scope="module")
def loop_out(tmp_path_factory, tiny_model):
    """`prefgen run` of a real `rounds: 1` loop (replayed samples, DPO on the tiny model), once.

    Returns (yaml path, run output, loop directory)."""
    from prefgen.executors import engine_pool, local_runtime, ray_runtime

    def forbidden(*args, **kwargs):
        pytest.fail("the loop test started Ray or vLLM")

    tmp_path = tmp_path_factory.mktemp("loop")
    path = replay_yaml(
        tmp_path, tiny_model, rounds=1, prompts={"heldout_fraction": 0.5},
        dpo={"learning_rate": 1e-3, "epochs": 1, "batch_size": 4, "max_length": 128},
    )
    with pytest.MonkeyPatch.context() as patch:  # module scope: the autouse guard is not active yet
        patch.setattr(ray_runtime, "ensure_ray", forbidden)
        patch.setattr(local_runtime.LocalRuntime, "engines", forbidden)
        patch.setattr(engine_pool, "get_pool", forbidden)
        result = invoke("run", path)
    assert result.exit_code == 0, result.output
    return path, result.output, tmp_path / "out" / "test"


# --- 1. a loop publishes <dir>/latest -----------------------------------------------------------


def test_after_a_loop_the_printed_path_loads_as_pairs(loop_out):
    _, output, root = loop_out
    printed = printed_datasets_path(output)
    assert printed == root / "latest"
    pairs = load_from_disk(str(printed / "pairs"))
    candidates = load_from_disk(str(printed / "candidates"))
    round_1 = root / "rounds" / "round_1" / "latest"
    assert pairs.num_rows > 0 and pairs["chosen_id"] == load_from_disk(str(round_1 / "pairs"))["chosen_id"]
    assert candidates.num_rows == len(PROMPTS) * 3
    # swapped in the single run's way: a relative symlink, so the directory can be moved
    assert os.readlink(root / "latest") == os.path.join("rounds", "round_1", "versions", "v0001")
    assert "round 1's pairs and candidates" in output.splitlines()[-1]


def test_the_last_round_that_made_pairs_is_published(tmp_path):
    """Round 1 paired nothing (all its candidates tie): `latest` is round 0's, built by the real
    round runs and the loop's own publishing."""
    root = tmp_path / "out" / "test"
    for k, texts in enumerate([("x" * 5, "x" * 40), ("y" * 40, "z" * 40)]):
        work = tmp_path / f"round_{k}"
        work.mkdir()
        config = yaml.safe_load(replay_yaml(work, texts=texts).read_text())
        config.update(name=f"round_{k}", output={"dir": str(root / "rounds")})
        PipelineRun(PipelineConfig.model_validate(config)).run()
    assert last_round_with_pairs(root)[0] == 0
    loop_config = yaml.safe_load(replay_yaml(tmp_path, rounds=1).read_text())
    assert TrainingLoop(PipelineConfig.model_validate(loop_config))._publish_latest() == 0
    assert load_from_disk(str(root / "latest" / "pairs")).num_rows == len(PROMPTS)
    result = invoke("status", root)
    assert result.exit_code == 0 and "-> rounds/round_0/versions/v0001" in result.stdout


# --- 2. status: a loop's directory, a pipeline YAML ---------------------------------------------


def test_status_of_a_loop_shows_a_row_per_round(loop_out):
    _, _, root = loop_out
    result = invoke("status", root)
    assert result.exit_code == 0, result.output
    rows = [line for line in result.stdout.splitlines() if line.startswith("│")]
    assert [row.split("│")[1].strip() for row in rows] == ["0", "1"]
    assert all("finished" in row and "v0001" in row for row in rows)
    assert "no run has started" not in result.output
    assert "latest: " in result.stdout and "-> rounds/round_1/versions/v0001" in result.stdout


def test_status_of_a_pipeline_yaml_shows_the_run_it_writes(loop_out, tmp_path):
    path, _, root = loop_out
    by_yaml, by_dir = invoke("status", path), invoke("status", root)
    assert by_yaml.exit_code == 0 and by_yaml.stdout == by_dir.stdout
    # overrides as `prefgen run` takes them: this output.dir has no run yet
    elsewhere = invoke("status", path, f"output.dir={tmp_path / 'elsewhere'}")
    assert elsewhere.exit_code == 1 and "no run has started" in elsewhere.output
    assert str(tmp_path / "elsewhere" / "test") in elsewhere.output
    assert not (tmp_path / "elsewhere").exists()


def test_status_of_a_single_run_by_directory_and_by_yaml(tmp_path):
    path = replay_yaml(tmp_path)
    moved = tmp_path / "moved.yaml"  # a YAML whose output.dir is elsewhere, pointed back by an override
    moved.write_text(path.read_text().replace(str(tmp_path / "out"), str(tmp_path / "nowhere")))
    assert invoke("run", path, "--quiet").exit_code == 0
    by_dir = invoke("status", tmp_path / "out" / "test")
    by_yaml = invoke("status", moved, f"output.dir={tmp_path / 'out'}")
    assert by_dir.exit_code == by_yaml.exit_code == 0
    assert "test: finished" in by_dir.stdout and "latest version: v0001" in by_dir.stdout
    assert by_yaml.stdout == by_dir.stdout


def test_status_of_a_directory_that_is_no_run_is_one_line_and_exit_2(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    result = invoke("status", tmp_path)
    assert result.exit_code == 2
    assert result.stdout == "" and len(result.stderr.strip().splitlines()) == 1
    assert str(tmp_path) in result.stderr and "not a prefgen run directory" in result.stderr


# --- 3. inspect: run, loop, version and dataset directories; long rows ------------------------


def test_inspect_takes_a_loop_a_run_a_version_or_a_dataset(loop_out):
    _, _, root = loop_out
    pairs = load_from_disk(str(root / "latest" / "pairs"))
    version = root / "rounds" / "round_0" / "versions" / "v0001"
    round_0 = root / "rounds" / "round_0"
    for path in (root, root / "latest", round_0, version, version / "pairs", version / "candidates"):
        result = invoke("inspect", path, "--rows", "1")
        assert result.exit_code == 0, (path, result.output)
        rows = len(PROMPTS) * 3 if path.name == "candidates" else pairs.num_rows
        assert f": {rows} rows; columns: " in result.stdout, result.stdout
        assert "Traceback" not in result.output


def test_inspect_shows_a_long_row_cut_for_display_not_cut_json(tmp_path):
    long_text = 'say "hi" \\ ' * 1000 + "é"  # 11,001 characters; quotes and backslashes escape in JSON
    path = replay_yaml(tmp_path, texts=("short", long_text))
    assert invoke("run", path, "--quiet").exit_code == 0
    result = invoke("inspect", tmp_path / "out" / "test" / "latest" / "pairs", "--rows", "1")
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert f"[{len(long_text) - 2000} more characters]" in result.stdout
    assert '"rejected_id"' in result.stdout and '"details"' in result.stdout  # the columns after it show too
    wide = invoke("inspect", tmp_path / "out" / "test", "--rows", "1", "--width", "20000")
    assert wide.exit_code == 0 and "more characters" not in wide.stdout and "é" in wide.stdout


# --- every command: bad or unexpected paths exit 2 with one line naming the path -------------


def bad_paths(tmp: Path) -> dict[str, Path]:
    """A missing path, a file, a directory that is nothing of prefgen's, and unreadable YAML."""
    (tmp / "plain_dir").mkdir()
    (tmp / "file.txt").write_text("just text\n")
    (tmp / "binary.yaml").write_bytes(b"\xff\xfe\x00\x01name: x")
    (tmp / "broken.yaml").write_text("name: [unclosed\n")
    names = {"missing": "missing", "file": "file.txt", "plain_dir": "plain_dir", "binary": "binary.yaml",
             "broken": "broken.yaml"}
    return {key: tmp / name for key, name in names.items()}


CASES = [
    ("run", ["{missing}"], "missing"),
    ("run", ["{plain_dir}"], "plain_dir"),
    ("run", ["{binary}"], "binary"),
    ("run", ["{broken}"], "broken"),
    ("validate", ["{plain_dir}"], "plain_dir"),
    ("validate", ["{binary}"], "binary"),
    ("validate", ["{missing}"], "missing"),
    ("status", ["{missing}"], "missing"),
    ("status", ["{plain_dir}"], "plain_dir"),
    ("status", ["{binary}"], "binary"),
    ("status", ["{file}"], "file"),
    ("status", ["{plain_dir}", "output.dir=x"], "plain_dir"),
    ("inspect", ["{missing}"], "missing"),
    ("inspect", ["{file}"], "file"),
    ("inspect", ["{plain_dir}"], "plain_dir"),
    ("schema", ["--out", "{file}"], "file"),
    ("schema", ["--out", "{file}/schemas"], "file"),
    ("schema", ["--check", "--out", "{missing}"], "missing"),
    ("index", ["build", "{missing}", "--out", "{plain_dir}/index"], "missing"),
    ("index", ["build", "{file}", "--out", "{plain_dir}/index"], "file"),
    ("index", ["build", "{plain_dir}", "--out", "{missing}"], "plain_dir"),
    ("index", ["info", "{missing}"], "missing"),
    ("index", ["info", "{file}"], "file"),
    ("index", ["info", "{plain_dir}"], "plain_dir"),
    ("dpo", ["{missing}", "--model", "demo", "--out", "{plain_dir}/model"], "missing"),
    ("dpo", ["{file}", "--model", "demo", "--out", "{plain_dir}/model"], "file"),
    ("dpo", ["{plain_dir}", "--model", "demo", "--out", "{missing}"], "plain_dir"),
    ("demo", ["prepare"], "file"),  # $PREFGEN_CACHE_DIR names a file
]


@pytest.mark.parametrize(("command", "args", "named"), CASES, ids=[f"{c}-{' '.join(a)}" for c, a, _ in CASES])
def test_bad_paths_exit_2_with_one_line_naming_the_path(tmp_path, command, args, named):
    paths = bad_paths(tmp_path)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    argv = [command, *(arg.format(**{k: str(v) for k, v in paths.items()}) for arg in args)]
    result = runner.invoke(app, argv, env={"PREFGEN_CACHE_DIR": str(paths["file"])})
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    first = result.stderr.strip().splitlines()[0]
    assert str(paths[named]) in first or f"'{paths[named]}'" in first, result.stderr
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before  # nothing left on disk


def test_a_bad_path_in_a_fresh_process_is_not_a_traceback(tmp_path):
    """The installed entry point (`python -m prefgen.cli`), not only the in-process runner."""
    from cli_process import prefgen

    code, output, _ = prefgen(["inspect", str(tmp_path / "missing")])
    assert code == 2 and "Traceback" not in output and str(tmp_path / "missing") in output


def test_an_inspect_of_json_text_in_a_dataset_column(tmp_path):
    """A row whose text is itself JSON longer than any cut shows whole, as a string."""
    from prefgen.output import write_dataset

    text = json.dumps({"k": ["v" * 50] * 200})
    write_dataset([{"id": "a", "text": text}], tmp_path / "data")
    result = invoke("inspect", tmp_path / "data", "--width", str(len(text)))
    assert result.exit_code == 0, result.output
    shown = json.loads("".join(result.stdout.splitlines()[1:]))
    assert shown == {"id": "a", "text": text}

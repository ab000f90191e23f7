"""The published fingerprint of the example replay pipeline is pinned.

Users' schedules compare fingerprints across versions of prefgen: a refactor that changes what a
config and seed publish (rows, their order, their scores) shows here first. The replay backend is
deterministic on any machine (no sampling), so the value is the same everywhere.
"""

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from prefgen.cli import app

ROOT = Path(__file__).resolve().parents[2]
PINNED_FINGERPRINT = "5a68b96716cd9ca2"


def run_example(tmp_path: Path, *overrides: str) -> dict:
    """`prefgen run pipelines/examples/replay_regex.yaml` from a copy of the repo's example data."""
    shutil.copytree(ROOT / "data" / "examples", tmp_path / "data" / "examples")
    config = ROOT / "pipelines" / "examples" / "replay_regex.yaml"
    result = CliRunner().invoke(
        app,
        ["run", str(config), "--quiet", f"output.dir={tmp_path / 'out'}",
         f"prompts.source={tmp_path / 'data/examples/prompts.jsonl'}",
         f"generate.replay_path={tmp_path / 'data/examples/candidates.jsonl'}", *overrides],
    )
    assert result.exit_code == 0, result.output
    return json.loads((tmp_path / "out" / "replay_regex" / "latest" / "version.json").read_text())


@pytest.mark.slow
def test_the_example_replay_pipeline_publishes_the_pinned_fingerprint(tmp_path):
    version = run_example(tmp_path)
    assert version["fingerprint"] == PINNED_FINGERPRINT
    assert version["counts"]["pairs"] > 0

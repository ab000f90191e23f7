"""Runtimes: Ray and in-process give the same dataset; Ray and vLLM stay behind their packages."""

import ast
from pathlib import Path

import pytest
from test_fingerprint_pin import PINNED_FINGERPRINT, run_example

SRC = Path(__file__).resolve().parents[2] / "src" / "prefgen"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("module, home", [("ray", "executors"), ("vllm", "generation")])
def test_only_one_package_imports_each_engine(module, home):
    outside = [
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if module in imported_modules(path) and path.relative_to(SRC).parts[0] != home
    ]
    assert outside == []


def test_pipeline_functions_are_short():
    tree = ast.parse((SRC / "pipeline.py").read_text(encoding="utf-8"))
    long = [n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.end_lineno - n.lineno + 1 > 40]
    assert long == []


def test_the_local_runtime_publishes_the_pinned_fingerprint(tmp_path):
    assert run_example(tmp_path, "runtime=local")["fingerprint"] == PINNED_FINGERPRINT


@pytest.mark.slow
def test_ray_and_local_runtimes_publish_the_same_dataset(tmp_path):
    (tmp_path / "ray").mkdir()
    (tmp_path / "local").mkdir()
    on_ray = run_example(tmp_path / "ray", "runtime=ray")
    in_process = run_example(tmp_path / "local", "runtime=local")
    assert on_ray["fingerprint"] == in_process["fingerprint"] == PINNED_FINGERPRINT
    assert on_ray["counts"] == in_process["counts"]

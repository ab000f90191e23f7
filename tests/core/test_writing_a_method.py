"""The README's "Writing a method" example, as a user would run it: the package is written from the
README's own code blocks to a directory outside the repository, installed by path, and run through
``prefgen run``. prefgen finds it only through the ``prefgen.methods`` entry point."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from datasets import load_from_disk

from cli_process import SRC, prefgen
from conftest import ROOT


def readme_blocks() -> dict[str, str]:
    """The section's fenced blocks, by the file their first comment line names."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("### Writing a method", 1)[1].split("\n### ", 1)[0]
    blocks = {}
    for body in re.findall(r"```(?:toml|python|yaml)\n(.*?)```", section, re.DOTALL):
        first, _, rest = body.partition("\n")
        name = first.lstrip("# ").split(":")[0].strip()
        blocks[name] = rest
    return blocks


def install_outside_the_repository(tmp_path) -> str:
    blocks = readme_blocks()
    package = tmp_path / "glossary"
    (package / "prefgen_glossary").mkdir(parents=True)
    (package / "pyproject.toml").write_text(blocks["glossary/pyproject.toml"])
    (package / "prefgen_glossary" / "__init__.py").write_text(blocks["glossary/prefgen_glossary/__init__.py"])
    site = tmp_path / "site"
    # --target: installed like any package (its dist-info carries the entry point), without
    # touching the environment the tests run in; no build isolation, so nothing is downloaded.
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--target", str(site), str(package)], check=True)
    (tmp_path / "glossary.yaml").write_text(blocks["glossary.yaml"])
    return str(site)


def test_an_external_method_runs_through_prefgen_run(tmp_path):
    site = install_outside_the_repository(tmp_path)
    (tmp_path / "terms.txt").write_text("a mutex: lock, thread\na tuple: immutable, sequence\na set: unique\n")
    answers = [
        ("a mutex", "A lock that only one thread may hold at a time."),
        ("a mutex", "A kind of door."),
        ("a tuple", "An immutable sequence of values."),
        ("a tuple", "A sequence of values."),
        ("a set", "A collection of things."),  # no answer uses every key word: no pair
        ("a set", "A bag."),
    ]
    with open(tmp_path / "answers.jsonl", "w") as handle:
        handle.writelines(json.dumps({"prompt": f"Define {term}.", "text": text}) + "\n" for term, text in answers)
    env = {"PYTHONPATH": f"{SRC}:{site}"}
    code, output, _ = prefgen(["run", "glossary.yaml"], env=env, cwd=tmp_path)
    assert code == 0, output
    pairs = load_from_disk(str(tmp_path / "outputs" / "glossary" / "latest" / "pairs"))
    assert sorted(zip(pairs["chosen"], pairs["rejected"])) == [
        ("A lock that only one thread may hold at a time.", "A kind of door."),
        ("An immutable sequence of values.", "A sequence of values."),
    ]
    assert pairs["strategy"] == ["all_key_words", "all_key_words"]
    card = (tmp_path / "outputs" / "glossary" / "latest" / "README.md").read_text()
    assert "no answer uses every key word" in card

    # Without the package on the path, the same YAML is a config error naming the source.
    code, output, _ = prefgen(["validate", "glossary.yaml"], cwd=tmp_path)
    assert code == 2 and "unknown prompt source 'glossary'" in output, output
    assert "Traceback" not in output

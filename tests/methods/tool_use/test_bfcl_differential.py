"""prefgen's tool_call reward against BFCL's own AST checker, on outputs built from BFCL's data.

Every output of ``tests/bfcl_outputs.py`` (answers to BFCL's single-turn items that its checker
should accept or reject, each labelled with a rule class) is judged twice:

* by prefgen: the ``tool_call`` reward as ``pipelines/tool_use.yaml`` configures it, on the task
  the ``builtin:bfcl`` reader makes of the item (read from the installed package's data folder,
  through the reward's own task check, as a run reads it);
* by BFCL: ``bfcl_eval.eval_checker.ast_eval.ast_checker.ast_checker`` (its code, called as its
  eval runner calls it), after the runner's own format check; for irrelevance categories, the
  runner's rule (an answer is right when it decodes to no call or does not decode).

They must agree on every output, except the rule classes in ``bfcl_outputs.DELIBERATE`` (prefgen
refuses arithmetic, bare names and positional arguments, which BFCL's decoder lets through, and
counts broken call text as a wrong answer where no call is wanted), where they must disagree.

``bfcl-eval`` is not a dependency of prefgen: installed with its dependencies it pins numpy
1.26.4. ``make venv`` installs it with ``--no-deps`` (its checker needs none of them). Its checker
module imports the package's model table, which imports every API SDK, only to ask whether a
model's function names had dots replaced; that one module is replaced by a stand-in answering
"no" while the checker is imported.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections import Counter, defaultdict
from pathlib import Path

import bfcl_outputs
import pytest
import yaml

from prefgen.config import PromptsConfig
from prefgen.registry import rewards
from prefgen.sources.reader import read_prompts

ROOT = Path(__file__).resolve().parents[3]  # the repository
MODEL_NAME = "prefgen"  # the model name BFCL's checker is given (function names keep their dots)


def _bfcl_data_dir() -> Path:
    spec = importlib.util.find_spec("bfcl_eval")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip(
            "bfcl-eval is not installed; `make venv` installs it (pip install --no-deps bfcl-eval==2026.3.23): "
            "with its dependencies it pins numpy 1.26.4, which this stack cannot use"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _import_bfcl_checker():
    """BFCL's ast_checker module, imported with a stand-in for its model table (see the docstring)."""
    stand_in = types.ModuleType("bfcl_eval.constants.model_config")
    stand_in.MODEL_CONFIG_MAPPING = {MODEL_NAME: types.SimpleNamespace(underscore_to_dot=False)}
    name = "bfcl_eval.constants.model_config"
    previous = sys.modules.get(name)
    sys.modules[name] = stand_in
    try:
        checker = importlib.import_module("bfcl_eval.eval_checker.ast_eval.ast_checker")
    finally:
        if previous is None:
            sys.modules.pop(name, None)
        else:
            sys.modules[name] = previous
    from bfcl_eval.constants.enums import Language
    from bfcl_eval.utils import is_empty_output, is_function_calling_format_output

    return checker.ast_checker, Language.PYTHON, is_function_calling_format_output, is_empty_output


@pytest.fixture(scope="module")
def judged():
    """Every output with prefgen's verdict and BFCL's, and the reader's reasons for dropped items."""
    data_dir = _bfcl_data_dir()
    ast_checker, python, is_call_format, is_empty = _import_bfcl_checker()
    reward_config = yaml.safe_load((ROOT / "pipelines" / "tool_use.yaml").read_text())["reward"]
    reward = rewards.build(reward_config.pop("name"), reward_config)
    prompts = read_prompts(
        PromptsConfig(source="builtin:bfcl", options={"data_dir": str(data_dir)}), reward.task_problem
    )
    tasks = {(p.task["category"], p.task["bfcl_id"]): p.task for p in prompts.prompts}
    dropped = {r.source: r.reason for r in prompts.rejected}
    items = {
        (category, item["id"]): item
        for category in bfcl_outputs.CATEGORIES
        for item in bfcl_outputs.load_items(data_dir, category)
    }

    def bfcl_verdict(output: bfcl_outputs.Output) -> tuple[bool, str | None]:
        """BFCL's (valid, error_type), as its eval runner reaches them."""
        item = items[(output.category, output.item_id)]
        if item["ground_truth"] is None:  # the runner's irrelevance rule
            valid = output.decoded is None or is_empty(output.decoded)
            return valid, None if valid else "irrelevance_error:decoder_success"
        if output.decoded is None:
            return False, "ast_decoder:decoder_failed"
        if not is_call_format(output.decoded):
            return False, "ast_decoder:decoder_wrong_output_format"
        result = ast_checker(item["function"], output.decoded, item["ground_truth"], python, output.category,
                             MODEL_NAME)
        return result["valid"], None if result["valid"] else result["error_type"]

    rows, errors = [], []
    for output in bfcl_outputs.generate(data_dir, seed=0):
        task = tasks.get((output.category, output.item_id))
        details = reward.score_text(output.text, task).details if task is not None else {}
        valid, error = bfcl_verdict(output)
        rows.append((output, bool(details.get("valid")), valid))
        errors.append((output, details.get("bfcl_error"), error))
    return rows, tasks, dropped, errors


def test_the_outputs_cover_every_category_and_rule_class(judged):
    rows, *_ = judged
    assert len(rows) >= 1000
    assert {o.category for o, _, _ in rows} == set(bfcl_outputs.CATEGORIES)
    rules = Counter(o.rule for o, _, _ in rows)
    expected = {
        "reference", "each_allowed_value", "optional_given", "empty_for_omissible", "answer_type_not_schema",
        "int_for_float", "normalised_string", "tuple_for_array", "int_in_float_array", "list_of_dicts",
        "tuple_for_tuple", "nested_dict_truth", "param_missing_from_schema", "wrong_value", "wrong_type",
        "wrong_name", "missing_required", "missing_answer_param", "extra_param", "reordered_kwargs", "parallel_reordered",
        "wrong_call_count", "no_call", "chat_json", "no_call_empty_list", "no_call_prose", "made_a_call",
        *bfcl_outputs.DELIBERATE,
    }
    assert expected <= set(rules), expected - set(rules)
    verdicts = {(o.rule, bfcl) for o, _, bfcl in rows}
    for rule in ("empty_for_omissible", "answer_type_not_schema", "list_of_dicts", "nested_dict_truth",
                 "param_missing_from_schema", "int_for_float", "reference"):
        assert (rule, True) in verdicts, f"no output of {rule} that BFCL accepts"
    for rule in ("tuple_for_array", "int_in_float_array", "wrong_type", "wrong_value", "missing_required",
                 "missing_answer_param",
                 "extra_param", "wrong_name", "wrong_call_count", "list_of_dicts", "nested_dict_truth"):
        assert (rule, False) in verdicts, f"no output of {rule} that BFCL rejects"


def test_prefgen_agrees_with_bfcls_checker_except_the_documented_differences(judged):
    rows, *_ = judged
    print("\n" + agreement_table(rows))
    unexpected = [(o.category, o.item_id, o.rule, o.text[:200], ours, bfcl) for o, ours, bfcl in rows
                  if ours != bfcl and o.rule not in bfcl_outputs.DELIBERATE]
    assert unexpected == []
    for rule in bfcl_outputs.DELIBERATE:  # each listed difference is real: BFCL accepts, prefgen not
        cases = [(ours, bfcl) for o, ours, bfcl in rows if o.rule == rule]
        assert cases and all(bfcl and not ours for ours, bfcl in cases if bfcl), rule
        assert any(bfcl and not ours for ours, bfcl in cases), rule


def test_the_reader_drops_only_items_bfcl_can_never_accept(judged):
    rows, tasks, dropped, _ = judged
    outputs_of = defaultdict(list)
    for output, _, bfcl in rows:
        outputs_of[(output.category, output.item_id)].append((output.rule, bfcl))
    missing = [key for key in outputs_of if key not in tasks]
    for category, item_id in missing:
        reason = dropped.get(f"bfcl:{category}:{item_id}", "")
        assert "no answer can pass" in reason, (category, item_id, reason)
        assert not any(bfcl for _, bfcl in outputs_of[(category, item_id)]), (category, item_id)
    reasons = [r for r in dropped.values() if "duplicate" not in r]
    assert all("no answer can pass" in r for r in reasons), reasons
    assert len(reasons) <= 4  # two empty allowed-value lists, two parameters the schema lacks


def agreement_table(rows) -> str:
    """Agreement per category and per rule class, as a Markdown table (deliberate classes marked *)."""
    lines = [
        "| by | outputs | BFCL accepts | prefgen accepts | agree | agree outside the deliberate classes |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    groups = defaultdict(list)
    for output, ours, bfcl in rows:
        deliberate = output.rule in bfcl_outputs.DELIBERATE
        groups[("category", output.category)].append((ours, bfcl, deliberate))
        groups[("rule", output.rule + ("*" if deliberate else ""))].append((ours, bfcl, deliberate))
        groups[("all", "")].append((ours, bfcl, deliberate))
    for (label, name), cases in sorted(groups.items(), key=lambda g: (g[0][0] == "all", g[0])):
        agree = sum(ours == bfcl for ours, bfcl, _ in cases)
        usual = [(ours, bfcl) for ours, bfcl, deliberate in cases if not deliberate]
        usual_agree = sum(ours == bfcl for ours, bfcl in usual)
        lines.append(
            f"| {label}{': ' + name if name else ''} | {len(cases)} | {sum(b for _, b, _ in cases)} | "
            f"{sum(o for o, _, _ in cases)} | {agree} ({100 * agree / len(cases):.1f}%) | "
            + (f"{usual_agree} / {len(usual)}" if usual else "-") + " |"
        )
    return "\n".join(lines)


def test_error_types_are_bfcls_own(judged):
    """Where both reject an answer, details.bfcl_error is the error_type BFCL's runner gives."""
    *_, errors = judged
    compared = [(o, ours, bfcl) for o, ours, bfcl in errors
                if bfcl is not None and o.rule not in bfcl_outputs.DELIBERATE and ours is not None]
    assert len(compared) >= 500
    assert "simple_function_checker:missing_optional" in {bfcl for _, _, bfcl in compared}
    different = Counter((ours, bfcl) for _, ours, bfcl in compared if ours != bfcl)
    assert not different, different

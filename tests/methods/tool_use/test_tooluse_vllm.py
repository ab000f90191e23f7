"""The tree search end to end on vLLM: the tiny model, built-in tool requests, the tool_call reward."""

import math

import pytest

from prefgen.methods.tool_use.deficiency import AnswerLikelihood, select_hardest
from prefgen.methods.tool_use.pairs import extract_pairs
from prefgen.methods.tool_use.stdlib_tools import load_rows
from prefgen.methods.tool_use.task import reference_answer
from prefgen.methods.tool_use.tree import ExpandRequest, TreeSettings, search
from prefgen.registry import rewards

MAX_MODEL_LEN = 512


@pytest.fixture(scope="module")
def expander(tiny_model):
    from prefgen.generation.engine_jobs import TreeExpander
    from prefgen.generation.vllm_engine import VLLMGenerator

    generator = VLLMGenerator(str(tiny_model), max_model_len=MAX_MODEL_LEN, engine={})
    return TreeExpander(generator.llm, MAX_MODEL_LEN, seed=0)


@pytest.mark.slow
def test_expansions_carry_exact_token_texts_and_logprobs(expander):
    requests = [
        ExpandRequest("Tools:\n- f(x: integer)\nRequest: call f\nCalls:", " [f(", 3, 12, 1.5),
        ExpandRequest("The fox number 1 runs over the", "", 2, 8, 0.0),
        ExpandRequest("The fox number 1 runs over the", "", 2, 8, 1.0, stop=(" ",)),  # words: a stop at each
    ]
    before = expander.engine_calls
    outputs = expander.expand(requests)
    assert expander.engine_calls == before + 1
    assert [len(samples) for samples in outputs] == [3, 2, 2]
    for sample in outputs[2]:  # cut before the stop string, texts and log-probabilities still aligned
        assert " " not in sample.text and len(sample.token_texts) == len(sample.logprobs) <= 8
    for samples in outputs[:2]:
        for sample in samples:
            assert 0 < len(sample.token_texts) == len(sample.logprobs) <= 12
            assert all(math.isfinite(lp) and lp <= 0 for lp in sample.logprobs)
            assert sample.finished or len(sample.token_texts) in (8, 12)
    greedy = outputs[1]
    assert greedy[0].text == greedy[1].text  # temperature 0: the same continuation twice


@pytest.mark.slow
def test_tree_search_deficiency_and_pairs_on_vllm(expander):
    rows = load_rows(limit=4)
    reward = rewards.build("tool_call", {"format": "python"})
    scored_answers = []

    def reward_fn(items):
        scored_answers.extend(items)
        return [reward.score_text(answer, rows[i]["task"]).score for i, answer in items]

    likelihoods = expander.answer_logprobs(
        [(r["prompt"], " " + reference_answer(r["task"]["ground_truth"])) for r in rows]
    )
    assert all(lps and all(math.isfinite(lp) and lp <= 0 for lp in lps) for lps in likelihoods)
    examples = [
        AnswerLikelihood(str(i), bool(r["task"]["ground_truth"]), lps)
        for i, (r, lps) in enumerate(zip(rows, likelihoods))
    ]
    hard = select_hardest(examples, fraction=0.5)
    assert len(hard.kept) >= 2 and not hard.skipped

    settings = TreeSettings(iterations=2, expansions=2, max_step_tokens=12, max_depth=2)
    before = expander.engine_calls
    result = search([r["prompt"] for r in rows], expander.expand, reward_fn, settings)
    assert result.engine_calls == expander.engine_calls - before <= 2 * settings.iterations
    assert result.answers_scored == len(scored_answers) >= len(rows) * settings.expansions
    for root in result.roots:
        assert 0 < len(root.children) <= settings.expansions and root.visits >= len(root.children)
        for child in root.children:
            assert child.answer.startswith(child.text) and child.reward is not None
    for pair in extract_pairs(result.roots, settings):
        assert pair.chosen_reward > pair.rejected_reward and pair.chosen != pair.rejected

"""The tree_search generation strategy and the tree pairing, on a scripted engine (no vLLM).

The engine stand-in answers the three kinds of batches the strategy sends through a pool: ground-
truth log-probabilities, tree expansions (continuing a prefix with one of the prompt's scripted
answers, token by token) and plain sampling requests. Scores come from the real tool_call reward.
"""

from __future__ import annotations

import random

import pytest
from test_tooluse_tree import TOKEN, ScriptedPolicy

from prefgen.executors.scoring import scored_records
from prefgen.generation.engine_jobs import AnswerLogprobsJob, ExpandJob
from prefgen.generation.strategy import GenerationContext, ModelIdentity
from prefgen.methods.tool_use.task import render_prompt
from prefgen.methods.tool_use.tree import TREE_KEY
from prefgen.methods.tool_use.tree_pairing import UNSELECTED, TreePairing, TreePairingParams
from prefgen.methods.tool_use.tree_search import TreeSearchParams, TreeSearchStrategy
from prefgen.records import Prompt
from prefgen.registry import rewards

TOOLS = [
    {"name": "f", "description": "adds", "parameters": {"type": "dict", "required": ["a", "b"], "properties": {
        "a": {"type": "integer"}, "b": {"type": "integer"}}}},
    {"name": "g", "description": "other", "parameters": {"type": "dict", "required": ["a"], "properties": {
        "a": {"type": "integer"}}}},
]


def make_prompt(i: int, split: str, call: bool = True) -> tuple[Prompt, list[str]]:
    """A prompt and the policy's scripted answers (the first is right)."""
    truth = [{"f": {"a": [i], "b": [2]}}] if call else []
    request = f"Add {i} and 2." if call else f"Tell a joke number {i}."
    text = render_prompt(TOOLS, request)
    answers = ([f" [f(a={i}, b=2)]", f" [f(a={i}, b=3)]", f" [g(a={i})]", f" [f(a={i + 1}, b=2)]"] if call
               else [" No tool fits.", f" [g(a={i})]"])
    task = {"tools": TOOLS, "ground_truth": truth, "request": request, "difficulty": "easy" if call else "no_call"}
    return Prompt(id=Prompt.make_id(text, task), prompt=text, task=task, split=split), answers


class ScriptedEngines:
    """Serves every batch the strategy sends; records them."""

    def __init__(self, answers: dict[str, list[str]], hardness: dict[str, float]):
        self.answers, self.hardness = answers, hardness
        self.policy = ScriptedPolicy(answers, seed=1)
        self.batches = []

    def map_unordered(self, batches):
        for index, batch in enumerate(batches):
            self.batches.append(batch)
            yield index, self._serve(batch)

    def _serve(self, batch):
        if isinstance(batch, ExpandJob):
            return self.policy(batch.requests)
        if isinstance(batch, AnswerLogprobsJob):
            return [[-self.hardness[prompt]] * len(TOKEN.findall(answer)) for prompt, answer in batch.items]
        return [{"completions": [self._sample(r, k) for k in range(r.sampling["n"])]} for r in batch]

    def _sample(self, request, k):
        rng = random.Random(f"{request.sampling['seed']}:{k}")
        options = self.answers[request.prompt]
        text = options[0] if request.sampling["temperature"] == 0 else rng.choice(options)
        return {"text": text, "num_tokens": len(TOKEN.findall(text)), "finish_reason": "stop"}


class Scorer:
    def __init__(self):
        self.reward = rewards.build("tool_call", {"format": "python"})
        self.calls = 0

    def score(self, items):
        self.calls += 1
        return scored_records(self.reward, list(items))


@pytest.fixture
def prompts_and_engines():
    made = [make_prompt(i, "train") for i in range(6)]
    made += [make_prompt(10 + i, "train", call=False) for i in range(2)]
    made += [make_prompt(20 + i, "heldout") for i in range(2)]
    prompts = [p for p, _ in made]
    answers = {p.prompt: a for p, a in made}
    hardness = {p.prompt: 0.1 * (k + 1) for k, p in enumerate(prompts)}  # later prompts are harder
    return prompts, answers, hardness


def run_strategy(prompts, answers, hardness, **params):
    engines = ScriptedEngines(answers, hardness)
    context = GenerationContext(
        model=ModelIdentity("scripted", None, "fp-scripted"), engines=lambda: engines, scorer=Scorer(),
        prompts=prompts,
    )
    strategy = TreeSearchStrategy(TreeSearchParams(**params), context)
    chunks = [prompts[:6], prompts[6:]]
    candidates = [c for _, batch in strategy.run(chunks) for c in batch]
    return candidates, engines, context.scorer


def scored(prompts, candidates):
    reward = rewards.build("tool_call", {"format": "python"})
    by_id = {p.id: p for p in prompts}
    samples = scored_records(reward, [(by_id[c.prompt_id], c) for c in candidates])
    for sample in samples:
        sample.split = by_id[sample.prompt_id].split  # as the generate stage sets it
    return samples


def test_selection_search_heldout_and_unselected_samples(prompts_and_engines):
    prompts, answers, hardness = prompts_and_engines
    settings = {"hardest_fraction": 0.5, "iterations": 3, "expansions": 3, "max_step_tokens": 6, "sampling": {"n": 3}}
    candidates, engines, _ = run_strategy(prompts, answers, hardness, **settings)
    by_prompt = {}
    for c in candidates:
        by_prompt.setdefault(c.prompt_id, []).append(c)
    assert set(by_prompt) == {p.id for p in prompts}  # every prompt has rows: none is lost

    train_call, train_none, heldout = prompts[:6], prompts[6:8], prompts[8:]
    modes = {p.id: {c.sampling.get(TREE_KEY, {}).get("mode") for c in by_prompt[p.id]} for p in prompts}
    # hardest half of each group: prompts 3, 4, 5 with a call, prompt 7 without
    assert [modes[p.id] for p in train_call] == [{"unselected"}] * 3 + [{"tree"}] * 3
    assert [modes[p.id] for p in train_none] == [{"unselected"}, {"tree"}]
    for p in heldout:  # plain samples at the sampling temperature, no tree marks
        assert modes[p.id] == {None} and len(by_prompt[p.id]) == 3
        assert all(c.sampling["temperature"] == 1.0 for c in by_prompt[p.id])
    for p in train_call[:3]:
        (greedy,) = by_prompt[p.id]
        assert greedy.sampling["temperature"] == 0 and greedy.text == answers[p.prompt][0]
        assert greedy.sampling[TREE_KEY]["perplexity"] == pytest.approx(2.718281828 ** hardness[p.prompt])

    expand_calls = [b for b in engines.batches if isinstance(b, ExpandJob)]
    assert len(expand_calls) <= 2 * 3 * 2  # two calls per iteration, for each of the two chunks
    assert any({r.owner for r in job.requests} == {0, 1, 2} for job in expand_calls)  # lockstep in a chunk
    assert sum(isinstance(b, AnswerLogprobsJob) for b in engines.batches) == 1
    for p in train_call[3:]:
        tree = by_prompt[p.id]
        paths = [c.sampling[TREE_KEY]["path"] for c in tree]
        assert len(set(paths)) == len(paths) and len({c.id for c in tree}) == len(tree)
        assert [c.sample_index for c in tree] == list(range(len(tree)))
        for c in tree:
            info = c.sampling[TREE_KEY]
            assert c.text in answers[p.prompt] and info["visits"] >= 1 and info["search_tokens"] > 0
            assert c.text[info["prefix_chars"]:].startswith(info["step"])


def test_reruns_make_the_same_candidates(prompts_and_engines):
    settings = {"hardest_fraction": 0.5, "iterations": 3, "max_step_tokens": 6}
    first, _, _ = run_strategy(*prompts_and_engines, **settings)
    again, _, _ = run_strategy(*prompts_and_engines, **settings)
    assert [c.model_dump() for c in first] == [c.model_dump() for c in again]


def test_tree_pairs_share_the_prefix_and_complete_both_sides(prompts_and_engines):
    prompts, answers, hardness = prompts_and_engines
    candidates, _, _ = run_strategy(prompts, answers, hardness, hardest_fraction=0.5, iterations=4, max_step_tokens=6)
    samples = scored(prompts, candidates)
    train = [p for p in prompts if p.split == "train"]
    result = TreePairing().pair(train, [s for s in samples if s.split == "train"])
    assert result.unpaired[UNSELECTED] == 4
    assert result.pairs
    texts = {s.id: s for s in samples}
    by_id = {p.id: p for p in prompts}
    for pair in result.pairs:
        prefix = pair.details["prefix"]
        assert pair.prompt == by_id[pair.prompt_id].prompt + prefix
        assert prefix + pair.chosen == texts[pair.chosen_id].text  # whole answers, cut at the shared prefix
        assert prefix + pair.rejected == texts[pair.rejected_id].text
        assert pair.chosen_score > pair.rejected_score and pair.margin == pair.chosen_score - pair.rejected_score
        assert pair.details["chosen_value"] - pair.details["rejected_value"] >= 0.1
        assert pair.strategy == "tree" and pair.details["mode"] == "tree"


def test_whole_answer_pair_adds_the_trees_best_against_its_worst(prompts_and_engines):
    prompts, answers, hardness = prompts_and_engines
    candidates, _, _ = run_strategy(prompts, answers, hardness, hardest_fraction=0.5, iterations=4, max_step_tokens=6)
    samples = [s for s in scored(prompts, candidates) if s.split == "train"]
    train = [p for p in prompts if p.split == "train"]
    steps = TreePairing().pair(train, samples)
    mixed = TreePairing(TreePairingParams(whole_answer_pair=True)).pair(train, samples)
    added = [p for p in mixed.pairs if p.details["mode"] == "whole"]
    assert added and len(mixed.pairs) == len(steps.pairs) + len(added)
    by_id, texts = {p.id: p for p in prompts}, {s.id: s for s in samples}
    for pair in added:  # from the answer's start: the prompt is the request itself
        tree = [s for s in samples if s.prompt_id == pair.prompt_id]
        assert pair.prompt == by_id[pair.prompt_id].prompt and pair.details["prefix"] == ""
        assert pair.chosen == texts[pair.chosen_id].text and pair.rejected == texts[pair.rejected_id].text
        assert pair.chosen_score == max(s.score for s in tree) and pair.rejected_score == min(s.score for s in tree)
        root_pairs = {(p.chosen_id, p.rejected_id) for p in steps.pairs
                      if p.prompt_id == pair.prompt_id and p.details["prefix"] == ""}
        assert (pair.chosen_id, pair.rejected_id) not in root_pairs  # a root step pair is not given twice


def test_pairs_with_a_cut_side_are_dropped_unless_allowed(prompts_and_engines):
    prompts, answers, hardness = prompts_and_engines
    candidates, _, _ = run_strategy(prompts, answers, hardness, hardest_fraction=0.5, iterations=4, max_step_tokens=6)
    cut = [c.model_copy(update={"finish_reason": "length"}) if c.sampling.get(TREE_KEY, {}).get("mode") == "tree"
           else c for c in candidates]
    samples = scored(prompts, cut)
    train = [p for p in prompts if p.split == "train"]
    strict = TreePairing().pair(train, [s for s in samples if s.split == "train"])
    assert not strict.pairs and strict.unpaired["every pair had a side cut by the token budget"] >= 1
    loose = TreePairing(TreePairingParams(require_finished=False)).pair(train, samples)
    assert loose.pairs


def test_min_chosen_score_keeps_only_pairs_whose_chosen_is_a_valid_call(prompts_and_engines):
    prompts, answers, hardness = prompts_and_engines
    train = [p for p in prompts if p.split == "train"]
    for p in train[3:6]:  # hard prompts whose scripted policy never writes the right call
        answers[p.prompt] = answers[p.prompt][1:]
    for flat in (False, True):
        candidates, _, _ = run_strategy(prompts, answers, hardness, hardest_fraction=0.5, iterations=4,
                                        max_step_tokens=6, flat=flat, flat_token_budget=60)
        samples = [s for s in scored(prompts, candidates) if s.split == "train"]
        loose = TreePairing().pair(train, samples)
        strict = TreePairing(TreePairingParams(min_chosen_score=1.0)).pair(train, samples)
        assert any(p.chosen_score < 1.0 for p in loose.pairs), flat  # the filter has something to drop
        assert strict.pairs and all(p.chosen_score == 1.0 for p in strict.pairs), flat
        assert {p.chosen_id for p in strict.pairs} <= {p.chosen_id for p in loose.pairs}
        lost = {p.prompt_id for p in loose.pairs} - {p.prompt_id for p in strict.pairs}
        assert strict.unpaired["no chosen answer reached min_chosen_score"] == len(lost), flat


def test_flat_baseline_spends_the_token_budget_on_plain_samples(prompts_and_engines):
    prompts, answers, hardness = prompts_and_engines
    candidates, engines, scorer = run_strategy(
        prompts, answers, hardness, hardest_fraction=0.5, flat=True, flat_token_budget=40, sampling={"max_tokens": 8}
    )
    assert not any(isinstance(b, ExpandJob) for b in engines.batches) and scorer.calls == 0
    flat = {}
    for c in candidates:
        if c.sampling.get(TREE_KEY, {}).get("mode") == "flat":
            flat.setdefault(c.prompt_id, []).append(c)
    assert len(flat) == 4  # the selected prompts
    for samples in flat.values():
        tokens = [c.num_tokens for c in samples]
        assert sum(tokens) >= 40 and sum(tokens) - tokens[-1] < 40  # stops at the sample crossing the budget
        assert [c.sample_index for c in samples] == list(range(len(samples)))
        assert len({c.id for c in samples}) == len(samples)
        assert all(c.sampling[TREE_KEY]["token_budget"] == 40 for c in samples)
    samples = scored(prompts, candidates)
    result = TreePairing().pair([p for p in prompts if p.split == "train"], [s for s in samples if s.split == "train"])
    assert result.pairs and all(p.details["mode"] == "flat" and p.strategy == "tree" for p in result.pairs)
    assert all(p.prompt == next(q.prompt for q in prompts if q.id == p.prompt_id) for p in result.pairs)


def test_flat_budget_defaults_to_the_tokens_the_search_generates(prompts_and_engines):
    settings = {"hardest_fraction": 0.5, "iterations": 3, "max_step_tokens": 6, "sampling": {"max_tokens": 8}}
    tree, _, _ = run_strategy(*prompts_and_engines, **settings)
    searched = {c.prompt_id: c.sampling[TREE_KEY]["search_tokens"] for c in tree
                if c.sampling.get(TREE_KEY, {}).get("mode") == "tree"}
    flat, engines, _ = run_strategy(*prompts_and_engines, flat=True, **settings)
    by_prompt = {}
    for c in flat:
        if c.sampling.get(TREE_KEY, {}).get("mode") == "flat":
            by_prompt.setdefault(c.prompt_id, []).append(c)
    assert set(by_prompt) == set(searched)
    for prompt_id, samples in by_prompt.items():
        assert {c.sampling[TREE_KEY]["token_budget"] for c in samples} == {searched[prompt_id]}
        tokens = [c.num_tokens for c in samples]
        assert sum(tokens) >= searched[prompt_id] > sum(tokens) - tokens[-1]
    assert any(isinstance(b, ExpandJob) for b in engines.batches)  # the search ran, for its token count


def test_answer_start_opens_every_searched_and_flat_answer_but_not_the_heldout_ones(prompts_and_engines):
    prompts, answers, hardness = prompts_and_engines
    settings = {"hardest_fraction": 1.0, "iterations": 3, "max_step_tokens": 6, "sampling": {"max_tokens": 8},
                "answer_start": " ["}
    heldout = {p.id for p in prompts if p.split == "heldout"}
    for flat in (False, True):
        candidates, engines, _ = run_strategy(prompts, answers, hardness, flat=flat, **settings)
        arm = [c for c in candidates if c.prompt_id not in heldout]
        assert arm and all(c.text.startswith(" [") for c in arm)  # no-call prompts too: no prose here
        assert {c.sampling[TREE_KEY]["mode"] for c in arm} == {"flat" if flat else "tree"}
        plain = [b for b in engines.batches if isinstance(b, list)]
        assert [r.prompt_id in heldout for b in plain for r in b] == [True] * len(heldout)  # held-out: plain
        if flat:
            assert all(c.sampling["answer_start"] == " [" for c in arm)
            assert len({c.id for c in arm}) == len(arm)


def test_bad_params_name_the_key():
    from prefgen.registry import generation_strategies, pairing_strategies

    problems = generation_strategies.params_problems("tree_search", {"hardest_fraction": 2}, "generate")
    assert any("generate.hardest_fraction" in p for p in problems)
    problems = generation_strategies.params_problems("tree_search", {"sampling": {"nn": 2}}, "generate")
    assert any("generate.sampling.nn" in p for p in problems)
    assert pairing_strategies.params_problems("tree", {"value_gapp": 1}, "pairing")

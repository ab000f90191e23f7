"""UCT selection, backpropagation, the lockstep batched search and pair extraction."""

import math
import random
import re

import pytest

from prefgen.methods.tool_use.pairs import dpo_row, extract_pairs, word_overlap
from prefgen.methods.tool_use.tree import (
    Continuation,
    Node,
    TreeSettings,
    backpropagate,
    search,
    select_leaf,
    uct,
)

TOKEN = re.compile(r"\w+|\s+|[^\w\s]")


def test_defaults_are_the_reference_settings():
    s = TreeSettings()
    assert (s.expansions, s.temperature, s.max_step_tokens, s.max_depth, s.iterations, s.exploration) == (
        3,
        1.5,
        50,
        3,
        5,
        1.0,
    )
    assert (
        s.simulation_steps,
        s.fragments_per_step,
        s.pair_min_gap,
        s.pair_max_overlap,
        s.pair_min_chosen,
    ) == (
        2,
        2,
        0.1,
        0.95,
        -0.3,
    )
    with pytest.raises(ValueError):
        TreeSettings(expansions=0)


def tree(*children_stats):
    root = Node("", "", visits=sum(v for v, _, _ in children_stats) + 1)
    for visits, value, prior in children_stats:
        root.children.append(
            Node("", f"s{len(root.children)}", prior, 1, parent=root, visits=visits, value_sum=value)
        )
    return root


def test_uct_formula():
    root = tree((2, 1.5, 0.5), (0, 0.0, 0.9))
    first, second = root.children
    assert uct(first, 1.0) == pytest.approx(1.5 / 3 + 0.5 * math.sqrt(math.log(3) / 3))
    assert uct(second, 2.0) == pytest.approx(0.0 + 2.0 * 0.9 * math.sqrt(math.log(3) / 1))


def test_selection_follows_value_then_prior_and_descends_to_a_leaf():
    root = tree((3, 3.0, 0.1), (3, 0.0, 0.1))
    assert select_leaf(root, 1.0) is root.children[0]
    root = tree((1, 0.0, 0.1), (1, 0.0, 0.9))
    assert select_leaf(root, 1.0) is root.children[1]
    assert select_leaf(root, 0.0) is root.children[0]  # ties: the first child
    deep = Node("", "x", parent=root.children[1], depth=2)
    root.children[1].children.append(deep)
    assert select_leaf(root, 1.0) is deep


def test_backpropagation_reaches_the_root_only_along_the_path():
    root = tree((0, 0.0, 1.0), (0, 0.0, 1.0))
    visits_before = root.visits
    leaf = Node("", "z", parent=root.children[0], depth=2)
    root.children[0].children.append(leaf)
    backpropagate(leaf, 0.75)
    assert (leaf.visits, leaf.value_sum) == (1, 0.75)
    assert (root.children[0].visits, root.children[0].value_sum) == (1, 0.75)
    assert (root.visits, root.value_sum) == (visits_before + 1, 0.75)
    assert root.children[1].visits == 0


class ScriptedPolicy:
    """A stand-in engine: continues a prefix with one of a prompt's known answers, token by token."""

    def __init__(self, answers, seed=0):
        self.answers = answers
        self.rng = random.Random(seed)
        self.calls = []

    def __call__(self, requests):
        self.calls.append(requests)
        return [[self.sample(r) for _ in range(r.n)] for r in requests]

    def sample(self, request):
        options = [a for a in self.answers[request.prompt] if a.startswith(request.prefix)]
        answer = options[0] if request.temperature == 0 else self.rng.choice(options)
        tokens = TOKEN.findall(answer[len(request.prefix) :])
        kept = tokens[: request.max_tokens]
        logprob = -0.1 if answer == self.answers[request.prompt][0] else -2.0
        return Continuation(kept, [logprob] * len(kept), finished=len(kept) == len(tokens))


ANSWERS = {
    "p0": ["[f(a=1, b=2)]", "[f(a=1, b=3)]", "[g(a=1)]", "[f(a=4, b=2)]"],
    "p1": ["[h(x='y')]", "[h(x='z')]", "[k(x='y')]"],
    "p2": ["no call needed.", "[h(x='y')]"],
}


def exact_reward(policy_answers):
    def reward(items):
        return [1.0 if text == policy_answers[f"p{i}"][0] else 0.0 for i, text in items]

    return reward


def test_search_runs_all_trees_in_lockstep_with_two_batched_calls_per_iteration():
    policy = ScriptedPolicy(ANSWERS)
    settings = TreeSettings(iterations=4, max_step_tokens=6, expansions=3)
    result = search(list(ANSWERS), policy, exact_reward(ANSWERS), settings)
    assert result.engine_calls == len(policy.calls) <= 2 * settings.iterations
    one_prompt = search(["p0"], ScriptedPolicy(ANSWERS), exact_reward(ANSWERS), settings)
    assert one_prompt.engine_calls == result.engine_calls  # more prompts, not more engine calls
    assert result.reward_calls <= settings.iterations
    first_expansion = policy.calls[0]
    assert [r.prompt for r in first_expansion] == list(ANSWERS) and all(r.n == 3 for r in first_expansion)
    assert all(r.temperature == 1.5 and r.max_tokens == 6 for r in first_expansion)
    completions = policy.calls[1]
    assert all(r.n == 1 and r.max_tokens == 12 and r.temperature == 0 for r in completions)
    for index, root in enumerate(result.roots):
        assert root.visits == sum(c.visits for c in root.children) > 0
        for node in walk(root):
            assert node.depth <= settings.max_depth
            if node is not root:
                assert node.answer in ANSWERS[f"p{index}"]  # steps joined exactly, no inserted spaces
                assert node.answer.startswith(node.text)
                assert node.visits >= 1 and node.reward in (0.0, 1.0)


def test_values_favour_the_branch_toward_the_right_call():
    answers = {"p0": ["[f(a=1, b=2)]", "[g(a=1, b=2)]"]}
    result = search(
        ["p0"], ScriptedPolicy(answers, seed=3), exact_reward(answers), TreeSettings(iterations=5)
    )
    root = result.roots[0]
    by_step = {}
    for child in root.children:
        by_step.setdefault(child.step, []).append(child.mean_value)
    assert set(by_step) == {"[f(a=", "[g(a="}
    assert min(by_step["[f(a="]) == 1.0 and max(by_step["[g(a="]) == 0.0


def test_a_finished_leaf_is_not_expanded_again():
    answers = {"p0": ["ok"]}
    policy = ScriptedPolicy(answers)
    result = search(["p0"], policy, exact_reward(answers), TreeSettings(iterations=3, expansions=2))
    root = result.roots[0]
    assert all(c.terminal and not c.children for c in root.children)
    assert len(policy.calls) == 1  # one expansion; completions and later expansions were not needed
    assert (
        root.visits == 2 + 2 * 1
    )  # two children scored once, then one finished leaf revisited per iteration


def test_cut_at_stop_keeps_token_texts_and_logprobs_aligned():
    from prefgen.generation.engine_jobs import cut_at_stop

    sample = Continuation(["[f", "(a=1)]", "\nThe", " end"], [-0.1, -0.2, -0.3, -0.4], finished=False)
    assert cut_at_stop(sample, ()) is sample and cut_at_stop(sample, ("zzz",)) is sample
    cut = cut_at_stop(sample, ("\n",))
    assert (cut.text, cut.logprobs, cut.finished) == ("[f(a=1)]", [-0.1, -0.2], True)
    inside = cut_at_stop(sample, ("=1", "\n"))  # the earliest stop wins, even inside a token
    assert (inside.token_texts, inside.logprobs) == (["[f", "(a"], [-0.1, -0.2])
    assert cut_at_stop(sample, ("[",)).token_texts == [] and cut_at_stop(sample, ("[",)).finished


def test_answer_start_and_stop_shape_every_answer_of_the_search():
    answers = {"p0": [" [f(a=1)]\nbecause", " [g(a=1)] and more\nthen", " prose"]}
    settings = TreeSettings(iterations=3, expansions=3, max_step_tokens=4, answer_start=" [", stop=["\n"])
    policy = ScriptedPolicy(answers, seed=2)
    root = search(["p0"], policy, exact_reward({"p0": [" [f(a=1)]"]}), settings).roots[0]
    assert root.text == " [" and all(r.prefix.startswith(" [") for batch in policy.calls for r in batch)
    nodes = [n for n in _walk(root) if n is not root]
    assert nodes and {n.answer for n in nodes} <= {" [f(a=1)]", " [g(a=1)] and more"}
    assert all(n.answer_finished for n in nodes) and max(n.reward for n in nodes) == 1.0


def _walk(node):
    yield node
    for child in node.children:
        yield from _walk(child)


def test_bad_engine_output_is_an_error():
    with pytest.raises(RuntimeError, match="outputs"):
        search(["p"], lambda requests: [], lambda items: [], TreeSettings(iterations=1))


def walk(node):
    yield node
    for child in node.children:
        yield from walk(child)


def hand_tree():
    """Root -> A (mean 0.9), B (mean 0.2), C (mean 0.0); under A: A1 (reward 1.0), A2 (0.6)."""
    root = Node("", "", visits=6, value_sum=2.5)

    def add(parent, step, visits, value, answer_rest, reward):
        node = Node(parent.text, step, 0.5, parent.depth + 1, parent=parent, visits=visits, value_sum=value)
        node.answer, node.reward = node.text + answer_rest, reward
        parent.children.append(node)
        return node

    a = add(root, "[f(a=", 2, 1.8, "1)]", 0.8)
    add(a, "1)]", 1, 1.0, "", 1.0)
    add(a, "2)]", 1, 0.6, "", 0.6)
    add(root, "[f(b=", 2, 0.4, "1)]", 0.2)
    add(root, "[g(a=", 1, 0.0, "1)]", 0.0)
    return root


def test_pairs_best_vs_worst_by_mean_with_whole_answers():
    pairs = extract_pairs([hand_tree()], TreeSettings())
    top, below = pairs
    assert (top.prefix, top.chosen_step, top.rejected_step) == ("", "[f(a=", "[g(a=")
    assert (top.chosen, top.rejected) == ("[f(a=1)]", "[g(a=1)]")  # best answer under A, not the cut step
    assert (top.chosen_value, top.rejected_value, top.chosen_reward, top.rejected_reward) == (
        0.9,
        0.0,
        1.0,
        0.0,
    )
    assert (below.prefix, below.chosen, below.rejected, below.depth) == ("[f(a=", "1)]", "2)]", 1)


def test_siblings_that_sampled_the_same_step_give_their_pair_once():
    root = hand_tree()
    twin = root.children[0]  # a second "[f(a=" node with the same two children
    copy = Node(twin.prefix, twin.step, 0.5, 1, parent=root, visits=twin.visits, value_sum=twin.value_sum)
    copy.answer, copy.reward = twin.answer, twin.reward
    for child in twin.children:
        grandchild = Node(copy.text, child.step, 0.5, 2, parent=copy, visits=child.visits, value_sum=child.value_sum)
        grandchild.answer, grandchild.reward = child.answer, child.reward
        copy.children.append(grandchild)
    root.children.insert(1, copy)
    pairs = extract_pairs([root], TreeSettings())
    assert [(p.prefix, p.chosen, p.rejected) for p in pairs] == [
        ("", "[f(a=1)]", "[g(a=1)]"), ("[f(a=", "1)]", "2)]")]
    assert len(extract_pairs([hand_tree(), hand_tree()], TreeSettings())) == 4  # other trees keep theirs


def test_pair_filters_gap_overlap_and_chosen_value():
    assert len(extract_pairs([hand_tree()], TreeSettings(pair_min_gap=0.5))) == 1  # A1 vs A2 gap 0.4 dropped
    assert [p.prefix for p in extract_pairs([hand_tree()], TreeSettings(pair_min_chosen=0.95))] == ["[f(a="]
    assert extract_pairs([hand_tree()], TreeSettings(pair_min_chosen=1.01)) == []
    root = hand_tree()
    for child in root.children:
        child.step = "same words"
    assert [p.prefix for p in extract_pairs([root], TreeSettings())] == ["same words"]
    assert word_overlap("a b c", "a b d") == pytest.approx(0.5)
    assert word_overlap("", "") == 1.0


def test_no_pair_when_the_rejected_side_has_the_better_answer():
    root = hand_tree()
    root.children[2].reward = 1.0  # the worst-valued child's own answer is perfect
    assert [p.prefix for p in extract_pairs([root], TreeSettings())] == ["[f(a="]


def test_dpo_row_puts_the_shared_prefix_in_the_prompt():
    below = extract_pairs([hand_tree()], TreeSettings())[1]
    row = dpo_row(below, "Request: x\nCalls: ")
    assert (row["prompt"], row["chosen"], row["rejected"]) == ("Request: x\nCalls: [f(a=", "1)]", "2)]")
    assert row["prompt"] + row["chosen"] == "Request: x\nCalls: [f(a=1)]"
    assert row["details"]["depth"] == 1 and row["chosen_score"] > row["rejected_score"]

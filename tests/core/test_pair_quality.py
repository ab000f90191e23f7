"""Pair-quality statistics: length bias, margins, near duplicates, skipped pairs, deciding component."""

from __future__ import annotations

from prefgen.pair_quality import (
    BiasThresholds,
    deciding_component,
    pair_quality,
    render_pair_quality,
    skipped_sample_pairs,
)
from prefgen.records import Message, PreferencePair, Scored


def make_pair(chosen: str, rejected: str, chosen_tokens: int, rejected_tokens: int, margin: float = 0.5, details=None):
    return PreferencePair(
        prompt_id="p", prompt="q", chosen=chosen, rejected=rejected,
        chosen_score=0.5 + margin, rejected_score=0.5, margin=margin, strategy="best_worst",
        chosen_id=f"c-{chosen}", rejected_id=f"r-{rejected}",
        details={"chosen_tokens": chosen_tokens, "rejected_tokens": rejected_tokens, **(details or {})},
    )


def sample(prompt_id: str, index: int, text: str, score: float | None) -> Scored:
    return Scored(id=f"{prompt_id}-{index}", prompt_id=prompt_id, sample_index=index, text=text, reward="r", score=score)


def test_length_biased_pairs_raise_a_warning():
    pairs = [make_pair(f"long answer {i} " * 4, f"short {i}", 20, 5) for i in range(9)]
    pairs.append(make_pair("a", "bb bb bb", 1, 3))
    stats = pair_quality(pairs, [])
    assert stats["chosen_longer_share"] == 0.9
    assert stats["chosen_shorter_share"] == 0.1
    assert stats["length_ratio"]["p50"] == 4.0
    assert len(stats["warnings"]) == 1 and "longer in 90%" in stats["warnings"][0]
    card = render_pair_quality(stats)
    assert "**Warning** — length bias" in card and "90.0% / 10.0% / 0.0%" in card


def test_balanced_pairs_raise_no_warning_and_threshold_is_configurable():
    pairs = [make_pair(f"x{i}", f"completely different {i}", 10 + (i % 2) * 5, 12) for i in range(10)]
    stats = pair_quality(pairs, [])
    assert stats["chosen_longer_share"] == 0.5 and stats["warnings"] == []
    strict = pair_quality(pairs, [], BiasThresholds(chosen_longer=0.4))
    assert any("longer in 50%" in w for w in strict["warnings"])


def test_near_duplicates_are_counted_and_warned():
    base = "The quick brown fox jumps over the lazy dog near the river bank today."
    pairs = [make_pair(base, base.replace("today", "again"), 15, 15) for _ in range(3)]
    pairs += [make_pair("alpha beta gamma", "one two three four", 3, 4) for _ in range(7)]
    stats = pair_quality(pairs, [])
    assert stats["near_duplicate_pairs"] == 3
    assert any("near duplicates: 3 of 10" in w for w in stats["warnings"])
    assert pair_quality(pairs, [], BiasThresholds(similarity=0.99))["near_duplicate_pairs"] == 0


def test_chat_pairs_compare_message_contents():
    chat = [Message(role="assistant", content="same words here")]
    pair = make_pair("x", "y", 3, 3)
    pair.chosen, pair.rejected = chat, [Message(role="assistant", content="same words here!")]
    assert pair_quality([pair], [])["near_duplicate_pairs"] == 1


def test_margin_quantiles():
    pairs = [make_pair(f"a{i}", f"b{i}", 5, 5, margin=m) for i, m in enumerate([0.1, 0.2, 0.3, 0.4, 0.5])]
    margin = pair_quality(pairs, [])["margin"]
    assert margin["min"] == 0.1 and margin["max"] == 0.5 and margin["p50"] == 0.3
    assert abs(margin["mean"] - 0.3) < 1e-9


def test_skipped_sample_pairs_counts_ties_and_identical_texts_per_prompt():
    samples = [
        sample("p1", 0, "a", 1.0), sample("p1", 1, "b", 1.0), sample("p1", 2, "a", 0.5),
        sample("p1", 3, "c", None),  # unscored: never a candidate for a pair
        sample("p2", 0, "a", 1.0),  # another prompt: never compared with p1
    ]
    # p1: (0,1) tied; (0,2) identical text; (1,2) a usable pair
    assert skipped_sample_pairs(samples) == {"tied_scores": 1, "identical_texts": 1}


def test_deciding_component_is_the_largest_weighted_gap():
    components = lambda q, g: {"quip": {"score": q, "weight": 1.0}, "grounded": {"score": g, "weight": 2.0}}
    pair = make_pair("x", "y", 3, 3, details={"chosen": {"components": components(0.9, 0.5)},
                                             "rejected": {"components": components(0.2, 0.4)}})
    assert deciding_component(pair) == "quip"  # 0.7 vs 2 * 0.1
    pair.details["rejected"] = {"components": components(0.85, 0.1)}
    assert deciding_component(pair) == "grounded"  # 0.05 vs 2 * 0.4
    assert deciding_component(make_pair("x", "y", 3, 3)) is None
    stats = pair_quality([pair, pair], [])
    assert stats["deciding_component"] == {"grounded": 2}
    assert "decided by component `grounded` | 2 (100%)" in render_pair_quality(stats)


def test_empty_pair_set():
    stats = pair_quality([], [])
    assert stats["pairs"] == 0 and stats["warnings"] == []
    assert "No pairs." in render_pair_quality(stats)


def test_synthetic_sides_are_left_out_of_length_statistics():
    written = make_pair("I don't know.", "Paris", 0, 2)
    written.chosen_id = "synthetic:abc"
    stats = pair_quality([written, make_pair("long answer here", "short", 3, 1)], [])
    assert stats["chosen_longer_share"] == 1.0 and stats["length_ratio"]["p50"] == 3.0

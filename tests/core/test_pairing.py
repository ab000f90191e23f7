import pytest

from prefgen.config import PairingConfig
from prefgen.pairing import build_pairs
from prefgen.records import Prompt, Scored


def sample(prompt_id, index, score, text=None, tokens=10):
    return Scored(
        id=f"{prompt_id}-{index}", prompt_id=prompt_id, sample_index=index, text=text or f"text {index}",
        num_tokens=tokens, reward="r", score=score,
    )


PROMPT = Prompt(id="p", prompt="q")


def pairs(samples, **config):
    return build_pairs([PROMPT], samples, PairingConfig(**config))


def test_best_worst_respects_margin():
    result = pairs([sample("p", 0, 0.5), sample("p", 1, 0.9), sample("p", 2, 0.45)], min_margin=0.3)
    assert len(result.pairs) == 1
    pair = result.pairs[0]
    assert (pair.chosen, pair.rejected, round(pair.margin, 6)) == ("text 1", "text 2", 0.45)
    assert pairs([sample("p", 0, 0.5), sample("p", 1, 0.6)], min_margin=0.3).unpaired == {
        "no pair met the strategy's constraints": 1
    }


def test_ties_nulls_and_identical_texts_never_pair():
    tied = pairs([sample("p", 0, 0.5), sample("p", 1, 0.5)], min_margin=0)
    assert not tied.pairs and tied.unpaired == {"all scores tied": 1}
    nulls = pairs([sample("p", 0, None), sample("p", 1, 0.9)], min_margin=0)
    assert not nulls.pairs and nulls.unpaired == {"fewer than 2 scored samples": 1}
    same_text = pairs([sample("p", 0, 0.1, "same"), sample("p", 1, 0.9, "same")], min_margin=0)
    assert not same_text.pairs


def test_all_pairs_widest_first_and_capped():
    samples = [sample("p", i, s) for i, s in enumerate([0.0, 0.2, 0.5, 1.0])]
    result = pairs(samples, strategy="all_pairs", min_margin=0.3)
    margins = [round(p.margin, 6) for p in result.pairs]
    assert margins == [1.0, 0.8, 0.5, 0.5, 0.3]
    assert all(p.chosen != p.rejected for p in result.pairs)
    assert len(pairs(samples, strategy="all_pairs", min_margin=0.3, pairs_per_prompt=2).pairs) == 2


def test_quote_tuning_takes_first_pair_meeting_score_and_length_gaps():
    samples = [
        sample("p", 0, 0.9, tokens=100),
        sample("p", 1, 0.7, tokens=100),  # gap 0.2 but 0 is paired with 2 first? no: 1 comes before 2
        sample("p", 2, 0.3, tokens=50),  # too short relative to 0
        sample("p", 3, 0.1, tokens=105),
    ]
    result = pairs(samples, strategy="quote_tuning", min_margin=0.1, max_length_ratio=0.1)
    assert len(result.pairs) == 1
    pair = result.pairs[0]
    assert (pair.chosen, pair.rejected) == ("text 0", "text 1")


def test_quote_tuning_strict_vs_released_code_comparisons():
    samples = [sample("p", 0, 0.6, tokens=100), sample("p", 1, 0.5, tokens=110)]
    # gap exactly 0.1 (float: 0.09999...) and length ratio exactly 0.1
    strict = pairs(samples, strategy="quote_tuning", min_margin=0.05, max_length_ratio=0.1, strict=True)
    loose = pairs(samples, strategy="quote_tuning", min_margin=0.05, max_length_ratio=0.1, strict=False)
    assert not strict.pairs and len(loose.pairs) == 1


def test_quote_tuning_is_deterministic_under_seed():
    samples = [sample("p", i, 1 - i / 10, tokens=100 + i) for i in range(8)]
    first = pairs(samples, strategy="quote_tuning", strict=False, seed=3, pairs_per_prompt=3)
    again = pairs(samples, strategy="quote_tuning", strict=False, seed=3, pairs_per_prompt=3)
    assert [(p.chosen_id, p.rejected_id) for p in first.pairs] == [(p.chosen_id, p.rejected_id) for p in again.pairs]
    used = [i for p in first.pairs for i in (p.chosen_id, p.rejected_id)]
    assert len(used) == len(set(used))


def test_chat_prompts_give_conversational_pairs():
    chat = Prompt(id="c", prompt=[{"role": "user", "content": "hi"}])
    result = build_pairs([chat], [sample("c", 0, 0.0), sample("c", 1, 1.0)], PairingConfig(min_margin=0.5))
    row = result.pairs[0].to_row()
    assert row["chosen"] == [{"role": "assistant", "content": "text 1"}]
    assert row["prompt"] == [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize(
    "strategy, params", [("best_worst", {}), ("all_pairs", {}), ("quote_tuning", {"max_length_ratio": 0.5})]
)
def test_every_prompt_without_pair_is_counted(strategy, params):
    prompts = [Prompt(id=f"p{i}", prompt=f"q{i}") for i in range(3)]
    samples = [sample("p0", 0, 0.0), sample("p0", 1, 1.0), sample("p1", 0, 0.5)]
    result = build_pairs(prompts, samples, PairingConfig(strategy=strategy, min_margin=0.1, **params))
    assert len({p.prompt_id for p in result.pairs}) + result.prompts_without_pair == 3

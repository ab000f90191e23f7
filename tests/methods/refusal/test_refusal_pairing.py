"""The ``refusal`` pairing: each pair type, the synthetic refusal, the cap, and its reasons."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from prefgen.methods.refusal.knowledge import Knowledge
from prefgen.methods.refusal.pairing import RefusalPairing, RefusalPairingParams, apply_cap, refusal_pair
from prefgen.records import Candidate, Prompt, Scored
from prefgen.registry import rewards

REWARD = rewards.build("refusal", {})


def _prompt(question: str, answers: list[str], answerable: bool = True, chat: bool = False) -> Prompt:
    task = {"question": question, "answers": answers, **({} if answerable else {"answerable": False})}
    text = [{"role": "user", "content": question}] if chat else f"Question: {question}\nAnswer:"
    return Prompt(id=Prompt.make_id(text, task), prompt=text, task=task)


def _scored(prompt: Prompt, texts: list[str]) -> list[Scored]:
    cands = [Candidate(id=f"{prompt.id}-{i}", prompt_id=prompt.id, sample_index=i, text=t) for i, t in enumerate(texts)]
    results = REWARD.score_safely([(prompt, c) for c in cands])
    return [Scored(**c.model_dump(), reward="refusal", score=r.score, reason=r.reason, details=r.details)
            for c, r in zip(cands, results)]


PARAMS = RefusalPairingParams()


def test_known_prefers_the_most_frequent_correct_answer_over_the_policys_refusal():
    prompt = _prompt("Capital of France?", ["Paris"])
    samples = _scored(prompt, [" Lyon", " paris.", " I don't know.", " Paris", " the city of Paris", " Paris!"])
    pair = refusal_pair(prompt, samples, Knowledge("known", "sampled"), PARAMS)
    # " paris.", " Paris" and " Paris!" are one answer (3 samples); its first sample is chosen
    assert (pair.chosen, pair.rejected) == (" paris.", " I don't know.")
    assert pair.details["pair_type"] == "answer_over_refusal" and "synthetic" not in pair.details
    assert pair.details["knowledge"] == "known" and pair.strategy == "refusal"
    assert pair.margin == 1.0


def test_unknown_prefers_a_refusal_over_the_most_frequent_wrong_answer():
    prompt = _prompt("Who wrote X?", ["Ada"])
    samples = _scored(prompt, [" Bob", " Carl", " carl", " I'm not sure, it may be Ada"])
    pair = refusal_pair(prompt, samples, Knowledge("unknown", "sampled"), PARAMS)
    assert pair.chosen == " I don't know." and pair.rejected == " Carl"
    assert pair.details["synthetic"] == "chosen" and pair.details["chosen"]["synthetic"] is True
    assert pair.chosen_id.startswith("synthetic:")
    assert pair.details["pair_type"] == "refusal_over_wrong"


def test_the_template_refusal_takes_the_lead_of_the_policys_non_empty_answers():
    # SmolLM2 on plain-text prompts: some samples are empty (it ended at once); the template
    # must still start with the space its answers start with, not glue onto "Answer:".
    prompt = _prompt("What is 2 + 2?", ["4"])
    samples = _scored(prompt, ["", " 5", " 2 + 2 = 5", "\t5"])
    assert refusal_pair(prompt, samples, Knowledge("unknown", "sampled"), PARAMS).chosen == " I don't know."
    known = _scored(prompt, ["", "", " 4"])
    assert refusal_pair(prompt, known, Knowledge("known", "sampled"), PARAMS).rejected == " I don't know."


def test_unanswerable_prefers_a_refusal_over_any_answer():
    prompt = _prompt("Which module defines frobnicate?", [], answerable=False)
    samples = _scored(prompt, ["os", " No one knows."])
    pair = refusal_pair(prompt, samples, Knowledge("unanswerable", "sampled"), PARAMS)
    assert (pair.chosen, pair.rejected) == (" No one knows.", "os")
    assert pair.details["pair_type"] == "refusal_over_answer" and "synthetic" not in pair.details


def test_an_unanswerable_question_prefers_the_policys_own_premise_rejection():
    prompt = _prompt("Which module defines `frobnicate`?", [], answerable=False)
    samples = _scored(prompt, [" os", " There is no such function as frobnicate in the standard library."])
    assert samples[1].details["kind"] == "premise_rejection"
    pair = refusal_pair(prompt, samples, Knowledge("unanswerable", "sampled"), PARAMS)
    assert (pair.chosen, pair.rejected) == (samples[1].text, " os") and "synthetic" not in pair.details


def test_chat_prompts_get_message_sides():
    prompt = _prompt("Capital of France?", ["Paris"], chat=True)
    pair = refusal_pair(prompt, _scored(prompt, ["Paris"]), Knowledge("known", "sampled"), PARAMS)
    assert pair.chosen[0].content == "Paris" and pair.rejected[0].content == "I don't know."  # the policy's spacing
    assert pair.details["synthetic"] == "rejected"


@pytest.mark.parametrize("label, texts, reason", [
    ("borderline", [" Paris", " Lyon"], "borderline: no refusal pair"),
    ("undecided", [" "], "undecided: no refusal pair"),
    ("known", [" Lyon"], "known: no correct answer"),
    ("unknown", [" I don't know."], "unknown: no answer to reject"),
])
def test_reasons_for_no_pair(label, texts, reason):
    prompt = _prompt("Capital of France?", ["Paris"])
    assert refusal_pair(prompt, _scored(prompt, texts), Knowledge(label, "sampled"), PARAMS) == reason


def test_scores_that_do_not_prefer_the_chosen_side_give_no_pair():
    prompt = _prompt("Capital of France?", ["Paris"])
    params = RefusalPairingParams(refusal_score=5.0)
    assert "do not prefer" in refusal_pair(prompt, _scored(prompt, [" Paris"]), Knowledge("known", "sampled"), params)


def _many(n_known: int, n_unknown: int):
    prompts, scored = [], []
    for i in range(n_known):
        p = _prompt(f"Known {i}?", ["yes"])
        prompts.append(p)
        scored += _scored(p, [" yes", " yes"])
    for i in range(n_unknown):
        p = _prompt(f"Unknown {i}?", ["yes"])
        prompts.append(p)
        scored += _scored(p, [" no", " maybe"])
    return prompts, scored


def test_strategy_over_prompts_with_the_cap():
    prompts, scored = _many(2, 6)
    result = RefusalPairing(max_refusal_share=0.5).pair(prompts, scored)
    types = [p.details["pair_type"] for p in result.pairs]
    assert types.count("answer_over_refusal") == 2 and types.count("refusal_over_wrong") == 2
    assert result.unpaired == {"cap on refusal-chosen pairs (max_refusal_share)": 4}
    assert [p.prompt_id for p in result.pairs] == [p.id for p in prompts if p.id in {q.prompt_id for q in result.pairs}]
    again = RefusalPairing(max_refusal_share=0.5).pair(list(reversed(prompts)), scored)
    assert {p.prompt_id for p in again.pairs} == {p.prompt_id for p in result.pairs}  # deterministic
    other_seed = {p.prompt_id for s in range(1, 6) for p in RefusalPairing(max_refusal_share=0.5, seed=s).pair(prompts, scored).pairs}
    assert len(other_seed) > 4  # the seed changes which ones are kept
    assert len(RefusalPairing(max_refusal_share=1.0).pair(prompts, scored).pairs) == 8
    assert len(RefusalPairing(max_refusal_share=0.0).pair(prompts, scored).pairs) == 2


def test_cap_can_keep_unanswerable_pairs_first():
    prompts, scored = _many(2, 4)
    for i in range(2):
        p = _prompt(f"What does nothing_{i} do?", [], answerable=False)
        prompts.append(p)
        scored += _scored(p, [" it sorts", " it sorts"])
    # r / (2 + r) <= 0.5  ->  r <= 2: two of the six refusal-chosen pairs are kept
    for seed in range(6):
        kept = RefusalPairing(max_refusal_share=0.5, seed=seed, cap_keeps_unanswerable=True).pair(prompts, scored)
        refusals = [p.details["knowledge"] for p in kept.pairs if p.details["pair_type"] != "answer_over_refusal"]
        assert refusals == ["unanswerable", "unanswerable"]
    by_hash = {tuple(sorted(p.details["knowledge"] for p in RefusalPairing(max_refusal_share=0.5, seed=seed)
                            .pair(prompts, scored).pairs)) for seed in range(6)}
    assert any("unknown" in kinds for kinds in by_hash)  # without the option, unknown pairs may be kept


def test_cap_arithmetic():
    prompts, scored = _many(3, 3)
    pairs = RefusalPairing(max_refusal_share=1.0).pair(prompts, scored).pairs
    kept, dropped = apply_cap(pairs, 0.25, seed=0)  # r / (3 + r) <= 0.25  ->  r <= 1
    assert (len(kept), dropped) == (4, 2)
    assert apply_cap(pairs, 0.5, seed=0) == (pairs, 0)


def test_entropy_rule_needs_no_gold():
    prompts, scored = _many(2, 2)
    result = RefusalPairing(knowledge_rule="entropy", uncertain_share=0.5, max_refusal_share=1.0).pair(prompts, scored)
    assert sorted(p.details["knowledge"] for p in result.pairs) == ["known", "known", "unknown", "unknown"]
    assert all(p.details["knowledge_rule"] == "entropy" for p in result.pairs)


def test_params_are_strict():
    with pytest.raises(ValidationError, match="extra"):
        RefusalPairingParams(max_refusal=0.3)
    with pytest.raises(ValidationError, match="max_refusal_share"):
        RefusalPairingParams(max_refusal_share=1.5)

"""The ``refusal`` reward's loop metrics on hand-made held-out rounds (no engine: AP's
log-probabilities come from a function the test supplies)."""

from __future__ import annotations

import math

import pytest

from prefgen.method_metrics import HeldoutRound
from prefgen.methods.refusal.loop_eval import REPORTED, confidence_items, engine_scorer
from prefgen.methods.refusal.records import SURE_QUESTION
from prefgen.records import Candidate, Prompt, Scored
from prefgen.registry import rewards


def _prompt(question: str, answers: list[str], answerable: bool = True) -> Prompt:
    task = {"question": question, "answers": answers, **({} if answerable else {"answerable": False})}
    return Prompt(id=Prompt.make_id(question, task), prompt=f"Question: {question}\nAnswer:", task=task,
                  split="heldout")


KNOWN = _prompt("Which module defines dumps?", ["json"])
UNKNOWN = _prompt("Which module defines frobnicate?", ["gizmo"])
NOWHERE = _prompt("Which module defines zorblax?", [], answerable=False)
PROMPTS = {p.id: p for p in (KNOWN, UNKNOWN, NOWHERE)}


def _round(reward, answers: dict[str, list[str]], k: int = 0, first: HeldoutRound | None = None) -> HeldoutRound:
    """A held-out round (answers by prompt id) whose samples the reward itself scored."""
    items = [(PROMPTS[pid], Candidate(id=f"{k}-{pid}-{i}", prompt_id=pid, sample_index=i, text=t, split="heldout"))
             for pid, texts in answers.items() for i, t in enumerate(texts)]
    results = reward.score_safely(items)
    scored = [Scored(**c.model_dump(), reward="refusal", score=r.score, reason=r.reason, details=r.details)
              for (_, c), r in zip(items, results)]
    return HeldoutRound(round=k, policy=f"policy{k}", prompts=PROMPTS, scored=scored, first=first)


# policy 0 knows `dumps` (3 of 4 correct), not `frobnicate` (0 correct), and answers the
# unanswerable question; policy 1 refuses the last two more often and answers the first less.
POLICY0 = {KNOWN.id: [" json", " json", " json", " pickle"], UNKNOWN.id: [" os", " os", " sys", " os"],
           NOWHERE.id: [" re", " re", " I don't know.", " os"]}
POLICY1 = {KNOWN.id: [" json", " I don't know.", " json", " json"],
           UNKNOWN.id: [" I don't know.", " os", " I don't know.", " I have no idea."],
           NOWHERE.id: [" I don't know.", " I don't know.", " I don't know.", " I don't know."]}


@pytest.fixture
def reward():
    reward = rewards.build("refusal", {"known_threshold": 0.5})
    reward.continuation_scorer = lambda heldout: None  # no engine here: rates only
    return reward


def test_policy0_rates_and_buckets(reward):
    metrics = reward.loop_metrics(_round(reward, POLICY0))
    assert set(metrics) == set(REPORTED)
    assert metrics["questions_known"] == metrics["questions_unknown"] == metrics["questions_unanswerable"] == 1
    assert metrics["answer_rate"] == pytest.approx(11 / 12)
    assert metrics["accuracy_answered"] == pytest.approx(3 / 11)
    assert metrics["accuracy_known"] == pytest.approx(3 / 4)
    assert metrics["refusal_rate_known"] == 0 and metrics["refusal_rate_unknown"] == 0
    assert metrics["refusal_rate_unanswerable"] == pytest.approx(1 / 4)
    assert metrics["hallucination_rate_unknown"] == 1.0
    assert metrics["hallucination_rate_unanswerable"] == pytest.approx(3 / 4)
    assert metrics["ap"] is None  # no scorer


def test_later_policies_keep_policy0_buckets(reward):
    first = _round(reward, POLICY0)
    reward.loop_metrics(first)
    # policy 1 gets `frobnicate` right twice: were labels recomputed from its samples, the
    # question would be "known"; it must stay in policy 0's "unknown" bucket
    policy1 = dict(POLICY1, **{UNKNOWN.id: [" gizmo", " gizmo", " I don't know.", " os"]})
    metrics = reward.loop_metrics(_round(reward, policy1, k=1, first=first))
    assert metrics["questions_known"] == 1 and metrics["questions_unknown"] == 1
    assert metrics["accuracy_known"] == pytest.approx(3 / 4)
    assert metrics["refusal_rate_known"] == pytest.approx(1 / 4)
    assert metrics["refusal_rate_unknown"] == pytest.approx(1 / 4)
    assert metrics["hallucination_rate_unknown"] == pytest.approx(1 / 4)
    assert metrics["hallucination_rate_unanswerable"] == 0.0
    assert metrics["refusal_rate_unanswerable"] == 1.0


def test_labels_come_from_policy0_even_when_it_was_not_measured_first(reward):
    first = _round(reward, POLICY0)
    later = reward.loop_metrics(_round(reward, POLICY1, k=1, first=first))
    assert later["questions_known"] == 1 and later["hallucination_rate_unknown"] == pytest.approx(1 / 4)


def test_confidence_items_are_r_tuning_s_text():
    items = confidence_items("Question: Q\nAnswer:", " json ")
    asked = f"Question: Q\nAnswer: json. {SURE_QUESTION} I am"
    assert items == [("Question: Q\nAnswer:", " json"), (asked, " sure."), (asked, " unsure.")]


def _fake_scorer(answer_prob: dict[str, float], sure_prob: dict[str, float]):
    """Log-probabilities by answer: answer tokens (two, each ``answer_prob``), then sure/unsure."""
    calls = []

    def score(items):
        calls.append(list(items))
        out = []
        for context, continuation in items:
            if continuation.strip() in ("sure.", "unsure."):
                answer = context.split("Answer: ")[1].split(". Are you")[0]
                p = sure_prob[answer]
                out.append([math.log(p if continuation == " sure." else 1 - p), 0.0])
            else:
                out.append([math.log(answer_prob[continuation.strip()])] * 2)
        return out

    return score, calls


def test_ap_from_injected_log_probabilities(reward):
    from sklearn.metrics import average_precision_score

    score, calls = _fake_scorer({"json": 0.9, "pickle": 0.5, "os": 0.6, "sys": 0.2, "re": 0.3},
                                {"json": 0.8, "pickle": 0.4, "os": 0.3, "sys": 0.1, "re": 0.7})
    reward.continuation_scorer = lambda heldout: score
    metrics = reward.loop_metrics(_round(reward, POLICY0))
    assert len(calls) == 1 and len(calls[0]) == 3 * 11  # one call; every committed answer, 3 items each
    # R-Tuning: confidence = 0.5 x geometric mean of answer-token probabilities + 0.5 x p(sure)
    conf = {a: 0.5 * p + 0.5 * s for a, p, s in (("json", 0.9, 0.8), ("pickle", 0.5, 0.4), ("os", 0.6, 0.3),
                                                  ("sys", 0.2, 0.1), ("re", 0.3, 0.7))}
    answers = ["json"] * 3 + ["pickle", "os", "os", "sys", "os", "re", "re", "os"]
    expected = average_precision_score([a == "json" for a in answers], [conf[a] for a in answers])
    assert metrics["ap"] == pytest.approx(expected)


def test_answers_without_log_probabilities_are_left_out_of_ap(reward):
    score, _ = _fake_scorer({"json": 0.9, "pickle": 0.5, "os": 0.6, "sys": 0.2, "re": 0.3},
                            {"json": 0.8, "pickle": 0.4, "os": 0.3, "sys": 0.1, "re": 0.7})
    # too long for the context: the scorer returns nothing for the wrong answers
    reward.continuation_scorer = lambda heldout: lambda items: [[] if " json" not in c + x else lp
                                                                 for (c, x), lp in zip(items, score(items))]
    assert reward.loop_metrics(_round(reward, POLICY0))["ap"] == 1.0


def test_no_engine_outside_a_loop():
    assert engine_scorer(HeldoutRound(round=0, policy="p", prompts={}, scored=[])) is None


def test_chat_prompts_get_confidences_through_the_scorer_s_template():
    from prefgen.methods.refusal.loop_eval import sample_confidences

    chat = Prompt(id="c", prompt=[{"role": "user", "content": "Which module defines dumps?"}],
                  task={"question": "Which module defines dumps?", "answers": ["json"]}, split="heldout")
    sample = Scored(id="s", prompt_id="c", sample_index=0, text="json", reward="refusal", score=1.0,
                    details={"answer": "json", "kind": "correct"})
    seen = []

    def score(items):
        seen.extend(items)
        return [[-0.1], [-0.2], [-1.0]]

    assert sample_confidences({"c": chat}, [sample], score) == {}  # a bare function cannot render a chat
    score.chat_text = lambda messages: f"<user>{messages[0]['content']}</user><assistant>"
    confidences = sample_confidences({"c": chat}, [sample], score)
    asked = f"<user>Which module defines dumps?</user><assistant>json. {SURE_QUESTION} I am"
    assert seen == [("<user>Which module defines dumps?</user><assistant>", "json"), (asked, " sure."),
                    (asked, " unsure.")]  # the answer opens the assistant turn: no space before it
    assert confidences["s"] == pytest.approx(0.5 * math.exp(-0.1) + 0.5 / (1 + math.exp(-0.8)))

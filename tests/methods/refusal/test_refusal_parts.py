"""Refusal awareness: answer matching, the refusal detector, classification, knowledge rules,
R-Tuning records and metrics (pure functions, no model)."""

from __future__ import annotations

import math

import pytest

from prefgen.methods.refusal.answers import (
    answer_span,
    exact_match,
    has_answer,
    matching_alias,
    normalise_answer,
)
from prefgen.methods.refusal.classify import QATask, classify
from prefgen.methods.refusal.detector import R_TUNING_PHRASES, RefusalDetector
from prefgen.methods.refusal.knowledge import (
    Knowledge,
    answer_entropy,
    entropy_rule,
    greedy_rule,
    sampled_rule,
)
from prefgen.methods.refusal.metrics import (
    average_precision,
    heldout_report,
    p_sure,
    r_tuning_confidence,
    refusal_metrics,
)
from prefgen.methods.refusal.records import padded_record, r_tuning_records, replacement_record

DETECTOR = RefusalDetector()


# --- answers -------------------------------------------------------------------------------
@pytest.mark.parametrize("raw, expected", [
    ("The Eiffel Tower!", "eiffel tower"),
    ("  an   Apple, a day ", "apple day"),
    ("Charles_de_Gaulle", "charles de gaulle"),
    ("\u2018Hamlet\u2019", "hamlet"),
    ("U.S.A.", "usa"),
    ("Theatre", "theatre"),  # "the" is removed only as a word
])
def test_normalisation_follows_squad_and_triviaqa(raw, expected):
    assert normalise_answer(raw) == expected


def test_has_answer_needs_token_boundaries():
    assert has_answer("It happened in 1990.", ["1990"])
    assert not has_answer("It happened in 1990.", ["1"])
    assert not has_answer("Parisian cafes", ["Paris"])
    assert has_answer("I think it is the city of PARIS", ["Paris"])
    assert has_answer("new york city", ["New York"])
    assert not has_answer("york new", ["New York"])  # order matters: a contiguous run


def test_aliases_any_matches_and_the_first_match_is_reported():
    aliases = ["Bill Clinton", "William Jefferson Clinton", "Clinton"]
    assert matching_alias("William Jefferson Clinton was president", aliases) == "William Jefferson Clinton"
    assert matching_alias("Mr Clinton", aliases) == "Clinton"
    assert matching_alias("Obama", aliases) is None
    assert exact_match("the  Clinton.", aliases)
    assert not exact_match("Mr Clinton", aliases)


def test_answer_span_is_the_first_line():
    assert answer_span(" Paris\nQuestion: next one") == "Paris"
    assert answer_span("Paris. More text", cut_at=(". ",)) == "Paris"


# --- detector ------------------------------------------------------------------------------
@pytest.mark.parametrize("text", list(R_TUNING_PHRASES) + [
    "I don't know.",
    "I don\u2019t know the answer to that",
    "Sorry, I have no idea.",
    "Honestly, I am not sure.",
    "That is hard. It is impossible to know.",
    "i do not know",
    "Paris?\nI'm not sure.",
])
def test_detector_fires_on_refusals(text):
    assert DETECTOR.is_refusal(text)


@pytest.mark.parametrize("text", [
    "unknown",
    "The unknown soldier",
    "Sure, it is 42.",
    "I am sure it is Paris.",
    "Not Paris but Lyon.",
    "It returns None if it is not known",
    "The answer is unknown_value",
    "the answer is unknown.py",
    "UnknownError",
    "It is notknown",
    "Knowing is not the answer",
])
def test_detector_ignores_hard_negatives(text):
    assert DETECTOR.detect(text) is None, text


def test_phrase_in_the_question_does_not_count():
    question = "Which film has the line 'I don't know'?"
    assert DETECTOR.is_refusal("I don't know.")
    assert not DETECTOR.is_refusal("I don't know.", question)


def test_detector_is_configurable():
    custom = RefusalDetector(phrases=["no comment"], patterns=[r"\bpass\b"])
    assert custom.is_refusal("No comment.")
    assert custom.is_refusal("I will PASS on this")
    assert not custom.is_refusal("I don't know.")
    with pytest.raises(ValueError, match="at least two words"):
        RefusalDetector(phrases=["unknown"])


# --- classification ------------------------------------------------------------------------
TASK = QATask("What is the capital of France?", ["Paris", "City of Paris"])


@pytest.mark.parametrize("text, kind", [
    (" Paris", "correct"),
    (" Lyon", "wrong"),
    (" I don't know.", "refusal"),
    (" I'm not sure, but it is Paris.", "hedged"),
    ("   ", "unscorable"),
    (" Paris\nI don't know.", "correct"),  # only the first line is judged
])
def test_each_kind(text, kind):
    assert classify(text, TASK, DETECTOR).kind == kind


def test_unanswerable_questions_make_any_answer_wrong():
    task = QATask("Which module defines frobnicate_widgets?", [], answerable=False)
    assert classify("os", task, DETECTOR).kind == "wrong"
    assert classify("I don't know.", task, DETECTOR).kind == "refusal"
    assert classify("Paris", QATask("q?", []), DETECTOR).kind == "unscorable"


def test_judgement_details_name_the_evidence():
    details = classify("I'm not sure, but it is Paris.", TASK, DETECTOR).details()
    assert details["kind"] == "hedged"
    assert details["matched_alias"] == "Paris"
    assert details["refusal_phrase"] == "I'm not sure."


# --- knowledge -----------------------------------------------------------------------------
def test_greedy_rule():
    assert greedy_rule("correct").label == "known"
    assert greedy_rule("wrong").label == "unknown"
    assert greedy_rule("refusal").label == "unknown"
    assert greedy_rule(None).label == "undecided"
    assert greedy_rule("correct", answerable=False).label == "unanswerable"


def test_sampled_rule_threshold_and_borderline():
    assert sampled_rule(["correct"] * 3 + ["wrong"], threshold=0.75).label == "known"
    assert sampled_rule(["correct"] * 2 + ["wrong"] * 2, threshold=0.75).label == "borderline"
    assert sampled_rule(["wrong", "refusal", "unscorable"]).label == "unknown"
    known = sampled_rule(["correct", "unscorable", "hedged", "wrong"], threshold=0.5)
    assert known.label == "known" and known.evidence["share_correct"] == pytest.approx(2 / 3)
    assert sampled_rule(["unscorable"]).label == "undecided"
    assert sampled_rule(["correct"], answerable=False).label == "unanswerable"


def test_entropy_is_natural_log():
    assert answer_entropy(["a", "a", "a"]) == 0
    assert answer_entropy(["a", "b"]) == pytest.approx(math.log(2))
    assert answer_entropy(["a", "b", "c", "c"]) == pytest.approx(-(2 * 0.25 * math.log(0.25) + 0.5 * math.log(0.5)))


def test_entropy_rule_marks_the_more_uncertain_share_unknown():
    groups = {"p1": ["x"] * 4, "p2": ["x", "y", "z", "w"], "p3": ["x", "x", "y", "y"], "p4": ["x"] * 3 + ["y"]}
    labels = entropy_rule(groups, uncertain_share=0.5, unanswerable=["p5"])
    assert {pid: k.label for pid, k in labels.items()} == {
        "p1": "known", "p2": "unknown", "p3": "unknown", "p4": "known", "p5": "unanswerable"}
    assert labels["p2"].rule == "entropy" and labels["p2"].evidence["entropy"] == pytest.approx(math.log(4))
    # input order does not matter
    assert {k: v.label for k, v in entropy_rule(dict(reversed(groups.items()))).items()} == {
        k: v.label for k, v in entropy_rule(groups).items()}


# --- records -------------------------------------------------------------------------------
def test_padded_records_exact_text():
    known = padded_record("What is 2+2?", "4", Knowledge("known", "sampled"))
    assert known["text"] == ("Question: What is 2+2? Answer: 4. Are you sure you accurately answered the "
                             "question based on your internal knowledge? I am sure.")
    assert known["prompt"] + known["completion"] == known["text"]
    unknown = padded_record("What is 2+2?", "4", Knowledge("unknown", "greedy"))
    assert unknown["text"].endswith("internal knowledge? I am unsure.")
    assert (unknown["knowledge"], unknown["knowledge_rule"]) == ("unknown", "greedy")
    assert padded_record("q", "4", Knowledge("borderline", "sampled")) is None


def test_replacement_records():
    known = replacement_record("What is 2+2?", "4", Knowledge("known", "sampled"), "id1")
    assert known["text"] == "Question: What is 2+2? Answer: 4."
    unknown = replacement_record("What is 2+2?", "4", Knowledge("unknown", "sampled"), "id1")
    phrase = unknown["completion"].strip()
    assert phrase in R_TUNING_PHRASES and DETECTOR.is_refusal(phrase)
    assert replacement_record("q", "4", Knowledge("unknown", "sampled"), "id1") ["completion"] == unknown["completion"]


def test_records_per_question():
    rows = r_tuning_records("p", "Q?", ["A", "alias"], Knowledge("known", "sampled"))
    assert [r["variant"] for r in rows] == ["padding", "replacement"]
    assert all(r["prompt_id"] == "p" for r in rows)
    rows = r_tuning_records("p", "Q?", [], Knowledge("unanswerable", "sampled"))
    assert [r["variant"] for r in rows] == ["replacement"]
    assert r_tuning_records("p", "Q?", ["A"], Knowledge("borderline", "sampled")) == []


# --- metrics -------------------------------------------------------------------------------
def test_refusal_metrics():
    kinds = ["correct", "wrong", "refusal", "hedged", "wrong", "refusal", "unscorable", "correct"]
    labels = ["known", "known", "known", "unknown", "unknown", "unanswerable", "unknown", "unknown"]
    m = refusal_metrics(kinds, labels)
    assert m["answers"] == 7 and m["unscorable"] == 1
    assert m["answer_rate"] == pytest.approx(4 / 7)
    assert m["accuracy_answered"] == pytest.approx(2 / 4)
    assert m["hallucination_rate"] == pytest.approx(2 / 7)
    assert m["refusal_rate_known"] == pytest.approx(1 / 3)
    assert m["refusal_rate_unknown"] == pytest.approx(1 / 3)
    assert m["refusal_rate_unanswerable"] == 1.0
    assert m["hallucination_rate_unknown"] == pytest.approx(1 / 3)
    assert m["accuracy_known"] == pytest.approx(1 / 3)
    assert refusal_metrics([], [])["answer_rate"] is None


def test_a_premise_rejection_is_an_abstention_in_the_rates():
    m = refusal_metrics(["premise_rejection", "wrong", "refusal", "premise_rejection"], ["unanswerable"] * 4)
    assert m["refusal_rate_unanswerable"] == pytest.approx(3 / 4)
    assert m["hallucination_rate_unanswerable"] == pytest.approx(1 / 4)
    assert m["premise_rejections"] == 2 and m["answer_rate"] == pytest.approx(1 / 4)


@pytest.mark.parametrize("correct, confidence", [
    ([1, 0, 1, 1, 0], [0.9, 0.8, 0.7, 0.4, 0.1]),
    ([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]),
    ([1, 0, 1, 0, 1, 0], [0.5, 0.5, 0.5, 0.2, 0.9, 0.9]),  # ties
    ([1, 1, 1], [0.3, 0.3, 0.3]),
    ([0, 1], [1.0, 0.0]),
])
def test_average_precision_equals_sklearn(correct, confidence):
    from sklearn.metrics import average_precision_score

    assert average_precision(correct, confidence) == pytest.approx(average_precision_score(correct, confidence))


def test_average_precision_edge_cases():
    assert average_precision([0, 0], [0.1, 0.2]) is None
    with pytest.raises(ValueError, match="differ in length"):
        average_precision([1], [0.1, 0.2])


def test_r_tuning_confidence():
    assert p_sure(math.log(0.3), math.log(0.1)) == pytest.approx(0.75)
    assert p_sure(0.0, -2000.0) == pytest.approx(1.0)
    assert p_sure(-2000.0, 0.0) == pytest.approx(0.0)
    answer = [math.log(0.5), math.log(0.125)]  # geometric mean 0.25
    assert r_tuning_confidence(answer, math.log(0.3), math.log(0.1)) == pytest.approx(0.5 * 0.25 + 0.5 * 0.75)


def test_heldout_report_uses_given_labels_and_only_heldout_prompts():
    from prefgen.records import Prompt, Scored

    def prompt(pid, split):
        return Prompt(id=pid, prompt="q", task={}, split=split)

    def sample(pid, i, kind):
        score = None if kind == "unscorable" else 0.0
        return Scored(id=f"{pid}{i}", prompt_id=pid, sample_index=i, text="t", reward="refusal", score=score,
                      details={"kind": kind})

    prompts = [prompt("a", "heldout"), prompt("b", "heldout"), prompt("c", "train")]
    scored = [sample("a", 0, "correct"), sample("a", 1, "wrong"), sample("b", 0, "refusal"),
              sample("b", 1, "hedged"), sample("c", 0, "wrong")]
    labels = {"a": Knowledge("known", "sampled"), "b": Knowledge("unknown", "sampled"), "c": Knowledge("known", "x")}
    confidences = {"a0": 0.9, "a1": 0.2, "b1": 0.5, "c0": 1.0}
    report = heldout_report(prompts, scored, labels, confidences)
    assert report["answers"] == 4 and report["accuracy_known"] == 0.5 and report["refusal_rate_unknown"] == 1.0
    assert report["ap"] == pytest.approx(average_precision([True, False, True], [0.9, 0.2, 0.5]))
    assert "ap" not in heldout_report(prompts, scored, labels)

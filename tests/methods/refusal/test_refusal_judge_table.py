"""The refusal judge on hand-labelled answers: what a person reading each answer would call it.

Each row: question, gold answers (None: the question is unanswerable), the sampled answer, and
the expected kind. Hard negatives are included: answers that merely contain "unknown" or "sure",
answers echoing a refusal phrase that is in the question, negations, answers that differ from the
gold only in a symbol or sign, and refusals written with Unicode variants.
"""

from __future__ import annotations

import pytest

from prefgen.methods.refusal.classify import QATask, classify
from prefgen.methods.refusal.detector import RefusalDetector

CAPITAL = "What is the capital of France?"
STROUSTRUP = "Which programming language did Bjarne Stroustrup create?"
HEJLSBERG = "Which language did Anders Hejlsberg design for .NET in 2000?"
FIND = "What does `str.find` return when the substring is not found?"
WALRUS = "Which Python version added the walrus operator?"
MOONS = "How many moons does Earth have?"
BEATLES = "Which Beatles song has the line 'I don't know why you say goodbye'?"
FILM = "Who directed the 2004 film 'Nobody Knows'?"
DICT_GET = "What does `dict.get` return for a missing key by default?"
MODE = "What is the default value of the `mode` parameter of `tempfile.TemporaryFile`?"
POPULATION = "Roughly how many people live in the village of Xyz?"
INVENTED = "Which standard-library module defines `frob_quux`?"
FAKE_PARAM = "What is the default value of the `wid_x` parameter of `textwrap.fill`?"
FAKE_REQUIRED = "How many required parameters does `os.spawn_quux` take?"

ROWS = [
    # --- refusals: R-Tuning, SelfAware-style and common forms -------------------------------
    (CAPITAL, ["Paris"], "I don't know.", "refusal"),
    (CAPITAL, ["Paris"], "The answer is unknown.", "refusal"),
    (CAPITAL, ["Paris"], "There is no public information available.", "refusal"),
    (CAPITAL, ["Paris"], "I do not have enough information to answer that.", "refusal"),
    (CAPITAL, ["Paris"], "I don't have any information about that.", "refusal"),
    (CAPITAL, ["Paris"], "That is beyond my knowledge.", "refusal"),
    (CAPITAL, ["Paris"], "This question is outside of my knowledge.", "refusal"),
    (CAPITAL, ["Paris"], "I'm not aware of the capital of France.", "refusal"),
    (CAPITAL, ["Paris"], "No information is available on this.", "refusal"),
    (CAPITAL, ["Paris"], "I cannot know that.", "refusal"),
    (CAPITAL, ["Paris"], "I have no way of knowing.", "refusal"),
    (CAPITAL, ["Paris"], "As an AI language model, I don't have access to that information.", "refusal"),
    (CAPITAL, ["Paris"], "Sorry, but I'm afraid I cannot answer that.", "refusal"),
    (CAPITAL, ["Paris"], "Unfortunately I couldn't find any information on that.", "refusal"),
    (CAPITAL, ["Paris"], "Honestly, I have no idea.", "refusal"),
    (CAPITAL, ["Paris"], "I honestly don't know.", "refusal"),
    (CAPITAL, ["Paris"], "It is impossible to say.", "refusal"),
    (CAPITAL, ["Paris"], "I lack the knowledge to answer this.", "refusal"),
    (CAPITAL, ["Paris"], "I don't have the answer.", "refusal"),
    (CAPITAL, ["Paris"], "I can't provide that information.", "refusal"),
    (CAPITAL, ["Paris"], "My knowledge doesn't cover that.", "refusal"),
    # --- Unicode variants of refusals -------------------------------------------------------
    (CAPITAL, ["Paris"], "I don\u2019t know.", "refusal"),  # curly apostrophe
    (CAPITAL, ["Paris"], "I don\u00b4t know.", "refusal"),  # acute accent as apostrophe
    (CAPITAL, ["Paris"], "I\u200b don't\u200d know.", "refusal"),  # zero-width space and joiner
    (CAPITAL, ["Paris"], "I do\u00adn't know", "refusal"),  # soft hyphen
    (CAPITAL, ["Paris"], "\uff29\uff24\uff2b", "refusal"),  # fullwidth "IDK"
    (CAPITAL, ["Paris"], "I\u00a0am\u00a0not\u00a0sure.", "refusal"),  # no-break spaces
    # --- hedged: a refusal that also gives the answer --------------------------------------
    (CAPITAL, ["Paris"], "I'm not sure, but it is Paris.", "hedged"),
    (CAPITAL, ["Paris"], "I'm not sure it is Paris.", "hedged"),
    (CAPITAL, ["Paris"], "I don't know if it's Paris.", "hedged"),
    # --- hard negatives: "unknown", "sure" and echoed phrases are not refusals -------------
    (CAPITAL, ["Paris"], "The tomb of the unknown soldier is in Paris.", "correct"),
    (CAPITAL, ["Paris"], "unknown", "wrong"),
    (CAPITAL, ["Paris"], "I'm sure it's Paris.", "correct"),
    (CAPITAL, ["Paris"], "I am sure it is Lyon.", "wrong"),
    (CAPITAL, ["Paris"], "Sure, Paris.", "correct"),
    (CAPITAL, ["Paris"], "To my knowledge, it is Paris.", "correct"),
    (CAPITAL, ["Paris"], "Paris, there is no doubt.", "correct"),
    (BEATLES, ["Hello, Goodbye"], "I don't know why you say goodbye is in Hello, Goodbye.", "correct"),
    (BEATLES, ["Hello, Goodbye"], "I don't know.", "wrong"),  # the phrase is the question's
    (BEATLES, ["Hello, Goodbye"], "I have no idea.", "refusal"),  # a phrase the question lacks
    (FILM, ["Hirokazu Kore-eda"], "Nobody Knows was directed by Hirokazu Kore-eda.", "correct"),
    (FILM, ["Hirokazu Kore-eda"], "Nobody knows.", "wrong"),
    (DICT_GET, ["None"], "It returns None if the key is unknown.", "correct"),
    (DICT_GET, ["None"], "The answer is unknown_value", "wrong"),
    # --- negations ---------------------------------------------------------------------------
    (CAPITAL, ["Paris"], "It is not Paris.", "wrong"),
    (CAPITAL, ["Paris"], "Not Paris.", "wrong"),
    (CAPITAL, ["Paris"], "Paris is wrong.", "wrong"),
    (CAPITAL, ["Paris"], "Paris isn't right.", "wrong"),
    (CAPITAL, ["Paris"], "It isn't Paris, it's Lyon.", "wrong"),
    (CAPITAL, ["Paris"], "It\u2019s not Paris.", "wrong"),
    (CAPITAL, ["Paris"], "I don't think it's Paris.", "wrong"),
    (CAPITAL, ["Paris"], "Neither Lyon nor Paris.", "wrong"),
    (CAPITAL, ["Paris"], "It is not Lyon, it is Paris.", "correct"),
    (CAPITAL, ["Paris"], "Not Lyon but Paris.", "correct"),
    (CAPITAL, ["Paris"], "Paris, not Lyon.", "correct"),
    (CAPITAL, ["Paris"], "Not only Paris is a capital; Paris is the answer.", "correct"),
    (CAPITAL, ["Paris"], "Paris is not wrong.", "correct"),
    (CAPITAL, ["Paris"], "It is not Lyon it is Paris", "correct"),
    (CAPITAL, ["Paris"], "It doesn't seem to be Paris.", "wrong"),
    (CAPITAL, ["Paris"], "I don't believe it is Paris.", "wrong"),
    ("Which of Paris and Bonn is not in Germany?", ["Paris"], "The city not in Germany is Paris.", "correct"),
    ("Which of Paris and Bonn is not in Germany?", ["Paris"], "Paris is not in Germany.", "correct"),
    (CAPITAL, ["Paris"], "Paris would be incorrect.", "wrong"),
    # SmolLM2's answers to "which module defines X": the gold module as the subject of a denial
    ("Which standard-library module defines `frombuffer`?", ["array"],
     "The standard-library module `array` does not define `frombuffer`.", "wrong"),
    ("Which standard-library module defines `frombuffer`?", ["array"], "The `array` module doesn't.", "wrong"),
    ("Which standard-library module defines `frombuffer`?", ["array"], "The `array` module defines it.", "correct"),
    ("Which standard-library module defines `frombuffer`?", ["array"],
     "It is array, which does not define frombuffer_x.", "correct"),
    (MOONS, ["1", "one"], "It has 2, not 1.", "wrong"),
    (MOONS, ["1", "one"], "Not 2 but 1.", "correct"),
    # --- symbols, signs and decimals --------------------------------------------------------
    (STROUSTRUP, ["C++"], "C++", "correct"),
    (STROUSTRUP, ["C++"], "He created C++.", "correct"),
    (STROUSTRUP, ["C++"], "C#", "wrong"),
    (STROUSTRUP, ["C++"], "C", "wrong"),
    (STROUSTRUP, ["C++"], "C\uff0b\uff0b", "correct"),  # fullwidth plus signs
    (HEJLSBERG, ["C#"], "C#", "correct"),
    (HEJLSBERG, ["C#"], "C", "wrong"),
    (HEJLSBERG, ["C#"], "C++", "wrong"),
    (FIND, ["-1"], "-1", "correct"),
    (FIND, ["-1"], "It returns \u22121.", "correct"),  # Unicode minus sign
    (FIND, ["-1"], "1", "wrong"),
    (FIND, ["-1"], "It returns 1.", "wrong"),
    (MOONS, ["1", "one"], "-1", "wrong"),
    (MOONS, ["1", "one"], "1990", "wrong"),
    (MOONS, ["1", "one"], "It has 1 moon.", "correct"),
    (MOONS, ["1", "one"], "One.", "correct"),
    (WALRUS, ["3.8"], "Python 3.8.", "correct"),
    (WALRUS, ["3.8"], "38", "wrong"),
    (WALRUS, ["3.8"], "3.9", "wrong"),
    (POPULATION, ["1,000"], "About 1000.", "correct"),
    (MODE, ["'w+b'", "w+b"], "'w+b'", "correct"),
    (MODE, ["'w+b'", "w+b"], "wb", "wrong"),
    # --- unanswerable questions: refusals, premise rejections, hallucinations ---------------
    (INVENTED, None, "json", "wrong"),
    (INVENTED, None, "I don't know.", "refusal"),
    (INVENTED, None, "I'm not aware of any such module.", "refusal"),
    (INVENTED, None, "There is no such function.", "premise_rejection"),
    (INVENTED, None, "There\u2019s no such function in the standard library.", "premise_rejection"),
    (INVENTED, None, "No module named frob_quux.", "premise_rejection"),
    (INVENTED, None, "`frob_quux` does not exist in the standard library.", "premise_rejection"),
    (INVENTED, None, "It doesn't exist.", "premise_rejection"),
    (INVENTED, None, "I couldn't find any function named frob_quux.", "premise_rejection"),
    (INVENTED, None, "frob_quux is not a real function.", "premise_rejection"),
    (INVENTED, None, "The file does not exist.", "wrong"),  # not about what was asked
    (FAKE_PARAM, None, "textwrap.fill has no parameter named wid_x.", "premise_rejection"),
    (FAKE_PARAM, None, "There is no `wid_x` parameter.", "premise_rejection"),
    (FAKE_PARAM, None, "70", "wrong"),
    (FAKE_REQUIRED, None, "There are no required parameters.", "wrong"),  # an answer: zero
    (FAKE_REQUIRED, None, "2", "wrong"),
    # --- premise rejections on answerable questions are wrong answers -----------------------
    ("Which standard-library module defines `dumps`?", ["json"], "There is no such function.", "wrong"),
    ("Which standard-library module defines `dumps`?", ["json"], "No module defines it.", "wrong"),
    ("Which standard-library module defines `dumps`?", ["json"], "Not os: json.", "correct"),
]

DETECTOR = RefusalDetector()

SUBTRACT = "What is 8 - 7?"
NEGATIVE = "What is 4 - 9?"
REQUIRED = "How many required parameters does `json.dumps` take?"
UNSTATED = "What is 7 plus the number I am thinking of?"
# Numeric questions (task ``match: number``): judged by the one number the answer gives.
NUMBER_ROWS = [
    (SUBTRACT, ["1", "one"], "1", "correct"),
    (SUBTRACT, ["1", "one"], "One.", "correct"),
    (SUBTRACT, ["1", "one"], "8 - 7 = 1", "correct"),
    (SUBTRACT, ["1", "one"], "The answer is 1.", "correct"),
    (SUBTRACT, ["1", "one"], "8 - 7 is 1 and 1", "correct"),
    (SUBTRACT, ["1", "one"], "1.0", "correct"),
    (SUBTRACT, ["1", "one"], "8 - 7 = 2", "wrong"),  # mentions 1 nowhere, but 8 and 7 are not the answer either
    (SUBTRACT, ["1", "one"], "It is 11.", "wrong"),
    (SUBTRACT, ["1", "one"], "It is not 1.", "wrong"),
    (SUBTRACT, ["1", "one"], "I don't know.", "refusal"),
    (SUBTRACT, ["1", "one"], "I'm not sure, but it is 1.", "hedged"),
    (NEGATIVE, ["-5"], "4 - 9 = -5", "correct"),
    (NEGATIVE, ["-5"], "4 - 9 = 5", "wrong"),
    (NEGATIVE, ["-5"], "5", "wrong"),
    (REQUIRED, ["1", "one"], "It takes 2 parameters, 1 of them optional.", "wrong"),
    (REQUIRED, ["1", "one"], "json.dumps takes 1 required parameter.", "correct"),
    (REQUIRED, ["1", "one"], "It takes one.", "correct"),
    (UNSTATED, None, "7 + 4 = 11", "wrong"),
    (UNSTATED, None, "I don't know.", "refusal"),
]


LABELLED = [(*row, "alias") for row in ROWS] + [(*row, "number") for row in NUMBER_ROWS]


@pytest.mark.parametrize("question, gold, answer, kind, match", LABELLED,
                         ids=[f"{i}:{r[2][:30]}" for i, r in enumerate(LABELLED)])
def test_each_labelled_answer(question, gold, answer, kind, match):
    task = QATask(question, gold or [], answerable=gold is not None, match=match)
    judgement = classify(" " + answer, task, DETECTOR)
    assert judgement.kind == kind, judgement.details()


def test_the_table_is_large_and_covers_every_kind():
    assert len(ROWS) >= 60
    assert {kind for *_, kind in ROWS} == {"correct", "wrong", "refusal", "hedged", "premise_rejection"}


def test_negated_and_premise_evidence_is_in_the_details():
    paris = QATask(CAPITAL, ["Paris"])
    assert classify("It is not Paris.", paris, DETECTOR).details()["negated_alias"] == "Paris"
    details = classify("There is no such function.", QATask(INVENTED, [], answerable=False), DETECTOR).details()
    assert details["kind"] == "premise_rejection" and details["premise_phrase"].startswith("There")
    answered = classify("There is no such function.", QATask(INVENTED.replace("frob_quux", "dumps"), ["json"]),
                        DETECTOR).details()
    assert answered["kind"] == "wrong" and "premise_phrase" in answered


def test_premise_rejection_can_be_turned_off():
    task = QATask(INVENTED, [], answerable=False)
    assert classify("There is no such function.", task, DETECTOR, premise_rejection=False).kind == "wrong"
    assert classify("I don't know.", task, DETECTOR, premise_rejection=False).kind == "refusal"


def _score(params: dict, text: str, answerable: bool = False) -> tuple[float | None, str]:
    from prefgen.records import Candidate, Prompt
    from prefgen.registry import rewards

    task = {"question": INVENTED, "answers": [], "answerable": False} if not answerable else \
        {"question": INVENTED.replace("frob_quux", "dumps"), "answers": ["json"]}
    prompt = Prompt(id=Prompt.make_id("q", task), prompt="Question: q\nAnswer:", task=task)
    (result,) = rewards.build("refusal", params).score_safely(
        [(prompt, Candidate(id="c", prompt_id=prompt.id, sample_index=0, text=text))])
    return result.score, result.details["kind"]


def test_the_reward_scores_a_premise_rejection_like_a_refusal_unless_told_otherwise():
    text = " There is no such function."
    assert _score({}, text) == (0.0, "premise_rejection")
    assert _score({"scores": {"refusal": 0.25}}, text) == (0.25, "premise_rejection")
    assert _score({"scores": {"refusal": 0.25, "premise_rejection": 0.5}}, text) == (0.5, "premise_rejection")
    assert _score({"premise_rejection": False}, text) == (-1.0, "wrong")
    assert _score({}, text, answerable=True) == (-1.0, "wrong")

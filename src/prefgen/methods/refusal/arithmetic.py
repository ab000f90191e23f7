"""Built-in prompt source ``builtin:arithmetic``: sums, differences and products of graded difficulty.

A short-answer set on which a small model knows some answers and not others, so R-Tuning's
buckets come from its own samples (the method's setting) rather than from a gap planted by
training: one-digit sums are mostly answered right by a 135M model, three-digit products never.
Arithmetic of graded difficulty is the setting of CalibratedMath ("Teaching Models to Express
Their Uncertainty in Words", 2022) for the same reason. Every answer is computed, so it is true
by construction; answers are judged by the one number they give (``match: number``).

- answerable: "What is 7 + 5?", "What is 43 - 81?", "What is 6 × 9?", with operands of 1 to
  ``max_digits`` digits (``per_level`` questions for each operation and number of digits; every
  one-digit question when ``per_level`` allows); gold: the result, and its English word up to
  twenty;
- unanswerable (``answerable: false``): the same operations with a quantity nobody stated
  ("What is 7 plus the number I am thinking of?").

Rows carry ``fact`` (``add1``, ``sub2``, ``mul3``, ``unanswerable``) and a ``split`` chosen by
hashing the question; their order is shuffled by ``seed``, so a larger ``limit`` extends a
smaller one.
"""

from __future__ import annotations

import itertools
import random
from typing import Any

from prefgen.methods.refusal.answers import NUMBER_WORDS
from prefgen.methods.refusal.qa_format import PROMPT_TEMPLATE
from prefgen.methods.refusal.stdlib_facts import chat_prompt
from prefgen.stdlib.units import unit_hash

OPERATIONS = {"add": ("+", "plus", int.__add__), "sub": ("-", "minus", int.__sub__), "mul": ("×", "times", int.__mul__)}
UNSTATED = ("the number I am thinking of", "my age", "the number of coins in my pocket", "x",
            "the number of pages in the book on my desk")
ARITHMETIC_INSTRUCTION = ("Answer with the number only. If you cannot be sure of the answer, answer exactly: "
                          "I don't know.")


def _operands(digits: int, count: int, rng: random.Random) -> list[tuple[int, int]]:
    """``count`` distinct operand pairs of ``digits`` digits each (all of them if there are fewer)."""
    low, high = (1 if digits == 1 else 10 ** (digits - 1)), 10**digits - 1
    if (high - low + 1) ** 2 <= count:
        return list(itertools.product(range(low, high + 1), repeat=2))
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < count:
        pairs.add((rng.randint(low, high), rng.randint(low, high)))
    return sorted(pairs)


def answerable_questions(max_digits: int, per_level: int, seed: int) -> list[dict[str, Any]]:
    """The answerable questions: each operation at each number of digits."""
    rng = random.Random(f"arithmetic:{seed}")
    facts = []
    for digits in range(1, max_digits + 1):
        for name, (symbol, _, apply) in OPERATIONS.items():
            for a, b in _operands(digits, per_level, rng):
                result = apply(a, b)
                answers = [str(result)] + ([NUMBER_WORDS[result]] if 0 <= result < len(NUMBER_WORDS) else [])
                facts.append({"question": f"What is {a} {symbol} {b}?", "answers": answers, "answerable": True,
                              "match": "number", "fact": f"{name}{digits}"})
    return facts


def unanswerable_questions(count: int, seed: int) -> list[dict[str, Any]]:
    """Questions about a quantity that was never stated."""
    rng = random.Random(f"arithmetic-unstated:{seed}")
    questions: set[str] = set()
    while len(questions) < count:
        _, word, _ = OPERATIONS[rng.choice(sorted(OPERATIONS))]
        questions.add(f"What is {rng.randint(1, 99)} {word} {rng.choice(UNSTATED)}?")
    return [{"question": q, "answers": [], "answerable": False, "match": "number", "fact": "unanswerable"}
            for q in sorted(questions)]


def load_rows(limit: int | None = None, heldout_fraction: float = 0.25, unanswerable_share: float = 0.15,
              max_digits: int = 3, per_level: int = 81, seed: int = 0, prompt_style: str = "text",
              instruction: str | None = None) -> list[dict[str, Any]]:
    """Question rows ``{"prompt", "task", "split", "source"}`` (see the module docstring).

    ``prompt_style``: ``text`` ("Question: ...\\nAnswer:") or ``chat`` (``instruction``, default
    :data:`ARITHMETIC_INSTRUCTION`, as the system turn, then the question).
    """
    if prompt_style not in ("text", "chat"):
        raise ValueError(f"arithmetic: prompt_style must be text or chat, got {prompt_style!r}")
    if instruction is not None and prompt_style != "chat":
        raise ValueError("arithmetic: instruction needs prompt_style: chat")
    facts = answerable_questions(max_digits, per_level, seed)
    facts += unanswerable_questions(round(len(facts) * unanswerable_share / (1 - unanswerable_share)), seed)
    facts.sort(key=lambda f: (unit_hash(f["question"], f"order:{seed}"), f["question"]))
    rows = []
    for fact in facts:
        split = "heldout" if unit_hash(fact["question"], "split") < heldout_fraction else "train"
        prompt: Any = PROMPT_TEMPLATE.format(question=fact["question"])
        if prompt_style == "chat":
            prompt = chat_prompt(fact["question"], instruction or ARITHMETIC_INSTRUCTION)
        rows.append({"prompt": prompt, "task": fact, "split": split, "source": f"arithmetic:{fact['fact']}:{fact['question']}"})
    return rows if limit is None else rows[: max(0, int(limit))]

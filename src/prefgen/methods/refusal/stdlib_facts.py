"""Built-in prompt source ``builtin:stdlib_facts``: short-answer questions about the standard library.

Facts are read from the installed standard library, so every answer is true by construction and
checked for being the only one:

- ``defines``: "Which standard-library module defines `dumps`?" for a public function or class
  whose name appears in the namespace of exactly one of the scanned modules (and is defined
  there): the answer is that module.
- ``default``: "What is the default value of the `indent` parameter of `textwrap.fill`?" for
  module-level functions whose default is a non-negative int or a non-empty string; the answer is
  its ``repr`` (aliases: the bare string).
- ``required``: "How many required parameters does `json.dumps` take?" (parameters without a
  default, ``*args``/``**kwargs`` excluded); aliases: the number and its English word; judged by
  the one number the answer gives (``match: number``), so "2 parameters, 1 of them optional" is
  not credited for 1.
- unanswerable (``answerable: false``): the same questions about names that exist nowhere
  (made by joining parts of real names and checked absent from every module) and parameters a
  real function does not have.

Each row carries its ``module`` (the module the fact is about; empty for invented names) and a
``split`` chosen by hashing the question, so a demo policy can be taught some modules' facts and
never see others (:mod:`prefgen.methods.refusal.demo_policy`). Rows are sorted by a hash of the question:
deterministic for one Python build.

Chat prompts (``prompt_style: chat``) are for an instruction-tuned model: a system turn saying to
answer in a few words and that "I don't know." is an acceptable answer (``instruction`` replaces
it), then the question as the user turn. Without that permission a small chat model never
abstains, so its samples hold no refusal to pair. Plain-text prompts (the default) are unchanged.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from prefgen.methods.refusal.answers import NUMBER_WORDS
from prefgen.methods.refusal.qa_format import PROMPT_TEMPLATE
from prefgen.stdlib.units import QUESTION_MODULES, unit_hash

FACT_MODULES = tuple(m for m in QUESTION_MODULES if m != "builtins")
DEFAULT_HELDOUT_FRACTION = 0.25
DEFAULT_UNANSWERABLE_SHARE = 0.15
QUESTIONS = {
    "defines": "Which standard-library module defines `{name}`?",
    "default": "What is the default value of the `{param}` parameter of `{name}`?",
    "required": "How many required parameters does `{name}` take?",
}


PROMPT_STYLES = ("text", "chat")
CHAT_INSTRUCTION = (
    "Answer the question in a few words, with no explanation. If you are not sure of the answer, "
    "say \"I don't know.\" That is an acceptable answer, and better than a wrong one."
)


@lru_cache(maxsize=1)
def _namespaces() -> dict[str, dict[str, Any]]:
    """Public names of each scanned module."""
    spaces = {}
    for name in FACT_MODULES:
        module = importlib.import_module(name)
        spaces[name] = {k: v for k, v in vars(module).items() if not k.startswith("_")}
    return spaces


def _functions(module: str) -> Iterator[tuple[str, Any, inspect.Signature]]:
    """Public functions defined in ``module`` with a readable signature, sorted by name."""
    for name, obj in sorted(_namespaces()[module].items()):
        if not (inspect.isfunction(obj) and obj.__module__ == module):
            continue
        try:
            yield name, obj, inspect.signature(obj)
        except (TypeError, ValueError):
            continue


def _fact(kind: str, module: str, answers: list[str], answerable: bool = True, **names: str) -> dict[str, Any]:
    question = QUESTIONS[kind].format(**names)
    fact = {"question": question, "answers": answers, "answerable": answerable, "module": module, "fact": kind}
    return fact | ({"match": "number"} if kind == "required" else {})


def defines_facts() -> list[dict[str, Any]]:
    """``defines`` facts: names present in exactly one scanned module and defined there, and not
    containing the module's name (``glob.glob0``, ``enum.IntEnum``, ``uuid.SafeUUID``): an answer
    that only repeats the question's name would match the gold answer, so such a question measures
    echo, not knowledge (57 of 440 such names on Python 3.11)."""
    owners: dict[str, list[str]] = {}
    for module, space in _namespaces().items():
        for name in space:
            owners.setdefault(name, []).append(module)
    facts = []
    for name, modules in sorted(owners.items()):
        obj = _namespaces()[modules[0]][name]
        if len(modules) == 1 and (inspect.isfunction(obj) or inspect.isclass(obj)) \
                and getattr(obj, "__module__", None) == modules[0] and modules[0].lower() not in name.lower():
            facts.append(_fact("defines", modules[0], [modules[0]], name=name))
    return facts


def _default_answers(value: Any) -> list[str] | None:
    if isinstance(value, bool) or value is None:
        return None  # guessable without knowing anything
    if isinstance(value, int) and value >= 0:
        return [repr(value)]
    if isinstance(value, str) and value.strip() and value.isprintable() and len(value) <= 20:
        return [repr(value), value]
    return None


def signature_facts() -> list[dict[str, Any]]:
    """``default`` and ``required`` facts of module-level functions."""
    facts = []
    for module in FACT_MODULES:
        for name, _, signature in _functions(module):
            qualified = f"{module}.{name}"
            params = [p for p in signature.parameters.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
            required = sum(p.default is p.empty for p in params)
            aliases = [str(required)] + ([NUMBER_WORDS[required]] if required < len(NUMBER_WORDS) else [])
            facts.append(_fact("required", module, aliases, name=qualified))
            for param in params:
                answers = _default_answers(param.default) if param.default is not param.empty else None
                if answers:
                    facts.append(_fact("default", module, answers, name=qualified, param=param.name))
    return facts


def _invented_names(count: int) -> list[str]:
    """Names joined from parts of real function names that no scanned module (or builtin) has."""
    known = {n for space in _namespaces().values() for n in space} | set(dir(__builtins__))
    heads = sorted({n.split("_")[0] for m in FACT_MODULES for n, _, _ in _functions(m) if len(n) > 3})
    tails = sorted({n.split("_")[-1] for m in FACT_MODULES for n, _, _ in _functions(m) if "_" in n})
    candidates = sorted((f"{h}_{t}" for h in heads for t in tails if h != t), key=lambda n: (unit_hash(n, "invent"), n))
    return [n for n in candidates if n not in known][:count]


def unanswerable_facts(count: int, skip: int = 0) -> list[dict[str, Any]]:
    """Questions with no answer: invented names, and parameters real functions do not have.

    ``skip`` leaves out the first invented names: ``unanswerable_facts(k, skip=n)`` shares no
    question with ``unanswerable_facts(n)`` (the demo policy practises refusing on such).
    """
    names = _invented_names(skip + count)
    facts = []
    for i, name in enumerate(names):
        if i < skip:
            continue
        if i % 3 == 0:
            facts.append(_fact("defines", "", [], answerable=False, name=name))
        elif i % 3 == 1:
            module = FACT_MODULES[i % len(FACT_MODULES)]
            facts.append(_fact("required", module, [], answerable=False, name=f"{module}.{name}"))
        else:
            facts.append(_fake_parameter(name.split("_")[-1] + "_" + name.split("_")[0], i))
    return facts


def _fake_parameter(param: str, index: int) -> dict[str, Any]:
    functions = [(m, n, s) for m in FACT_MODULES for n, _, s in _functions(m)]
    module, name, signature = functions[(index * 7919) % len(functions)]
    while param in signature.parameters:
        param += "_"
    return _fact("default", module, [], answerable=False, name=f"{module}.{name}", param=param)


def load_rows(limit: int | None = None, heldout_fraction: float = DEFAULT_HELDOUT_FRACTION,
              unanswerable_share: float = DEFAULT_UNANSWERABLE_SHARE, seed: int = 0,
              prompt_style: str = "text", instruction: str | None = None) -> list[dict[str, Any]]:
    """Question rows ``{"prompt", "task", "split", "module", "source"}`` (see the module docstring).

    ``prompt_style``: ``text`` ("Question: ...\\nAnswer:") or ``chat`` (a system turn with
    ``instruction``, default :data:`CHAT_INSTRUCTION`, then the question).

    ``limit`` keeps the first rows in an order shuffled by ``seed``; a larger limit extends a
    smaller one.
    """
    for key, value in (("heldout_fraction", heldout_fraction), ("unanswerable_share", unanswerable_share)):
        if not 0.0 <= value < 1.0:
            raise ValueError(f"stdlib_facts: {key} must be in [0, 1), got {value}")
    if prompt_style not in PROMPT_STYLES:
        raise ValueError(f"stdlib_facts: prompt_style must be one of {PROMPT_STYLES}, got {prompt_style!r}")
    if instruction is not None and prompt_style != "chat":
        raise ValueError("stdlib_facts: instruction needs prompt_style: chat")
    facts = defines_facts() + signature_facts()
    facts += unanswerable_facts(round(len(facts) * unanswerable_share / (1 - unanswerable_share)))
    facts.sort(key=lambda f: (unit_hash(f["question"], f"order:{seed}"), f["question"]))
    rows = [_row(fact, heldout_fraction) for fact in facts]
    if prompt_style == "chat":
        for row in rows:
            row["prompt"] = chat_prompt(row["task"]["question"], instruction)
    return rows if limit is None else rows[: max(0, int(limit))]


def chat_prompt(question: str, instruction: str | None = None) -> list[dict[str, str]]:
    """The question as chat messages: the instruction (default :data:`CHAT_INSTRUCTION`) as the system turn."""
    system = CHAT_INSTRUCTION if instruction is None else instruction
    return [{"role": "system", "content": system}, {"role": "user", "content": question}]


def _row(fact: dict[str, Any], heldout_fraction: float) -> dict[str, Any]:
    split = "heldout" if unit_hash(fact["question"], "split") < heldout_fraction else "train"
    return {"prompt": PROMPT_TEMPLATE.format(question=fact["question"]), "task": fact, "split": split,
            "module": fact["module"], "source": f"stdlib_facts:{fact['fact']}:{fact['question']}"}

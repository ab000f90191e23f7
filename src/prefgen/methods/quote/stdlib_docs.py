"""Built-in prompt source ``builtin:stdlib_docs``: questions about standard-library objects.

Each row asks what one public class, function or method does, in the one plain-text format the
demo policy (``prefgen.demo.training``) is trained on::

    Question: What does `json.dumps` do?
    Answer:

The object's docstring, which is also a document of the demo's trusted corpus
(``prefgen.stdlib.corpus``), is the reference answer, so an answer can be quoted verbatim.
Each row also lists the corpus documents an answer may properly quote (``task.relevant_docs``):
the object's own docstring, its class's (for a method) and its module's. The quote reward's
grounded counting (``relevant_field: relevant_docs``) credits only those, so reciting another
object's docstring earns nothing.

Chat prompts (``prompt_style: chat``) are for an instruction-tuned model: one user turn asking
the same question. ``documentation: true`` also puts the object's docstring in that turn and asks
for an answer that quotes it where it can, so a model that has not memorised the docstrings can
still quote them; how closely it copies then varies from sample to sample, which is what
quote-tuning pairs need. Plain-text prompts (the default) are unchanged.

The held-out split is chosen by hashing the object's name, never by position or a random draw:
the same object is in the same split for every ``limit``, ``seed`` and Python version, and raising
``heldout_fraction`` only moves objects from train to held-out. The demo policy learns the
question-answer pairs of the train split at the default fraction (0.1) only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from prefgen.stdlib.corpus import DEFAULT_MIN_CHARS, iter_docstrings
from prefgen.stdlib.units import QUESTION_MODULES, unit_hash

PROMPT_TEMPLATE = "Question: What does `{name}` do?\nAnswer:"
# Docstrings of a moderate length: long enough that most 25-character windows are prose rather
# than boilerplate, short enough that an answer of ~128 tokens can cover a good part of one.
DEFAULT_MIN_REFERENCE_CHARS = 120
DEFAULT_MAX_REFERENCE_CHARS = 800
QUESTION_KINDS = ("class", "function", "method")
DEFAULT_HELDOUT_FRACTION = 0.1
CHAT_QUESTION = "What does `{name}` do in Python?"
CHAT_DOCUMENTATION = (
    "Here is the documentation of `{name}`:\n\n{reference}\n\n"
    "What does `{name}` do? Answer in two or three sentences, copying the documentation's own "
    "words where you can."
)
PROMPT_STYLES = ("text", "chat")


def display_name(object_id: str) -> str:
    """How a question names an object: ``str.join``, not ``builtins.str.join``."""
    return object_id.removeprefix("builtins.")


def question_prompt(object_id: str) -> str:
    """The prompt asking what the object does (without the answer)."""
    return PROMPT_TEMPLATE.format(name=display_name(object_id))


def chat_prompt(object_id: str, reference: str, documentation: bool = False) -> list[dict[str, str]]:
    """The question as chat messages (one user turn), with the object's docstring when ``documentation``."""
    name = display_name(object_id)
    template = CHAT_DOCUMENTATION if documentation else CHAT_QUESTION
    return [{"role": "user", "content": template.format(name=name, reference=reference)}]


def answered_text(object_id: str, reference: str) -> str:
    """Prompt plus reference answer: the text the demo policy is trained on for this object."""
    return f"{question_prompt(object_id)} {reference}"


def split_of(object_id: str, heldout_fraction: float = DEFAULT_HELDOUT_FRACTION) -> str:
    """``"heldout"`` for a fixed, name-determined share of objects, else ``"train"``."""
    return "heldout" if unit_hash(object_id, "split") < heldout_fraction else "train"


def question_documents(
    min_reference_chars: int = DEFAULT_MIN_REFERENCE_CHARS,
    max_reference_chars: int = DEFAULT_MAX_REFERENCE_CHARS,
    kinds: Sequence[str] = QUESTION_KINDS,
    modules: Sequence[str] | str = QUESTION_MODULES,
) -> list[dict]:
    """Corpus documents worth a question: public classes and routines of moderate length.

    ``modules`` names the top-level modules to ask about, or is ``"all"``. Deprecated objects are
    left out (their docstrings mostly point elsewhere). Sorted by id.
    """
    if isinstance(modules, str):
        if modules != "all":
            raise ValueError(f"stdlib_docs: modules must be a list of module names or 'all', got {modules!r}")
        wanted = None
    else:
        wanted = set(modules)
    documents = []
    for doc in iter_docstrings(min_chars=DEFAULT_MIN_CHARS):
        text = doc["text"]
        if doc["kind"] not in kinds or not min_reference_chars <= len(text) <= max_reference_chars:
            continue
        if wanted is not None and doc["id"].split(".")[0] not in wanted:
            continue
        if "deprecated" in text[:200].lower():
            continue
        documents.append(doc)
    return documents


def relevant_documents(object_id: str, kinds: dict[str, str]) -> list[str]:
    """Ids of the documents that document ``object_id``: itself, its class (for a method or
    property), and its module (the longest dotted prefix that is a module), as far as the corpus
    has them. ``kinds`` maps every corpus id to its kind."""
    relevant = [object_id]
    parts = object_id.split(".")
    prefixes = [".".join(parts[:end]) for end in range(len(parts) - 1, 0, -1)]  # longest first
    if kinds.get(object_id) in ("method", "attribute") and kinds.get(prefixes[0]) == "class":
        relevant.append(prefixes[0])
    module = next((prefix for prefix in prefixes if kinds.get(prefix) == "module"), None)
    if module is not None:
        relevant.append(module)
    return relevant


def load_rows(
    limit: int | None = None,
    heldout_fraction: float = DEFAULT_HELDOUT_FRACTION,
    seed: int = 0,
    prompt_style: str = "text",
    documentation: bool = False,
    **options: Any,
) -> list[dict]:
    """Question rows ``{"prompt", "task": {"object", "reference", "relevant_docs"}, "source", "split"}``.

    ``prompt_style`` is ``text`` (the demo policy's format) or ``chat`` (messages for a chat
    template); ``documentation`` (chat only) puts the object's docstring in the question. Rows come in an order shuffled by hashing each name with ``seed``, so ``limit`` takes a
    spread of modules rather than the alphabetically first ones, and a larger limit extends a
    smaller one. ``options``: ``min_reference_chars``, ``max_reference_chars``, ``kinds``,
    ``modules`` (see ``question_documents``).
    """
    if not 0.0 <= heldout_fraction <= 1.0:
        raise ValueError(f"heldout_fraction must be in [0, 1], got {heldout_fraction}")
    if prompt_style not in PROMPT_STYLES:
        raise ValueError(f"stdlib_docs: prompt_style must be one of {PROMPT_STYLES}, got {prompt_style!r}")
    if documentation and prompt_style != "chat":
        raise ValueError("stdlib_docs: documentation: true needs prompt_style: chat")
    unknown = set(options) - {"min_reference_chars", "max_reference_chars", "kinds", "modules"}
    if unknown:
        raise ValueError(f"stdlib_docs: unknown option(s) {sorted(unknown)}")
    documents = question_documents(**options)
    documents.sort(key=lambda doc: (unit_hash(doc["id"], f"order:{seed}"), doc["id"]))
    if limit is not None:
        documents = documents[: max(0, int(limit))]
    kinds = {doc["id"]: doc["kind"] for doc in iter_docstrings(min_chars=DEFAULT_MIN_CHARS)}
    return [
        {
            "prompt": chat_prompt(doc["id"], doc["text"], documentation)
            if prompt_style == "chat"
            else question_prompt(doc["id"]),
            "task": {"object": doc["id"], "reference": doc["text"], "relevant_docs": relevant_documents(doc["id"], kinds)},
            "source": f"stdlib:{doc['id']}",
            "split": split_of(doc["id"], heldout_fraction),
        }
        for doc in documents
    ]

"""Built-in prompt source ``builtin:stdlib_tools``: tool-calling requests over standard-library functions.

Curated standard-library functions are offered as tools with hand-written schemas. Requests come
from templates of four kinds, so a policy's errors have somewhere to show:

* values to copy ("the square root of 49" -> ``x=49``),
* values to convert ("pause for half a second" -> ``seconds=0.5``, month names to numbers),
* optional parameters, given or left out (``""`` in the allowed values),
* two-call requests (answered in any order), and requests no tool serves (answer ``[]``).

Most requests also show distractor tools. Each row's ``difficulty`` is ``easy`` (copy values,
one tool shown), ``medium`` (one complication) or ``hard`` (two or more, or two calls); no-call
requests are ``no_call``. Rows are generated from ``seed`` only; the held-out split is chosen by
hashing the request text, so a request keeps its split across ``limit`` and ``seed``. Every
ground truth is checked: its reference answer must pass the checker.

Chat prompts (``prompt_style: chat``) are for an instruction-tuned model: a system turn with the
answer format and the tool documentation, one worked example as a user/assistant exchange (a
request and its call, over a tool that no request uses, so no value can be copied from it), then
the request as the last user turn. ``chat_calls`` writes each tool as the call to make
(``math.sqrt(x=<number>): ...``) and shows no worked example: a 135M-parameter chat model copies
an example's function into most answers (measured in pipelines/smollm2/tool_use.yaml).
Plain-text prompts (the default) are unchanged.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from prefgen.methods.tool_use.task import (
    is_reference_valid,
    render_call_templates,
    render_prompt,
    render_tools,
)
from prefgen.stdlib.units import unit_hash

DEFAULT_HELDOUT_FRACTION = 0.2
DEFAULT_PER_TEMPLATE = 8
DISTRACTORS = 2
PROMPT_STYLES = ("text", "chat", "chat_calls")
CHAT_SYSTEM = (
    "You call Python functions. Answer with the calls only, in Python syntax, as a list with "
    "keyword arguments: [function(name=value)]. Answer [] if no function fits the request. "
    "Write nothing else.\n\nFunctions:\n{tools}"
)
# The worked example's tool is not in TOOLS: the example shows the format, never a value to copy.
EXAMPLE_TOOL = {
    "name": "string.capwords",
    "description": "Capitalise each word of s.",
    "parameters": {"type": "dict", "properties": {"s": {"type": "string", "description": "The text."}},
                   "required": ["s"]},
}
EXAMPLE_REQUEST = "Capitalise each word of 'good morning'."
EXAMPLE_ANSWER = "[string.capwords(s='good morning')]"


def _tool(name: str, description: str, params: dict[str, tuple], required: list[str]) -> dict:
    """A function doc in BFCL's layout; ``params`` maps name -> (type, description[, item type])."""
    properties = {}
    for key, (kind, text, *items) in params.items():
        properties[key] = {
            "type": kind,
            "description": text,
            **({"items": {"type": items[0]}} if items else {}),
        }
    return {
        "name": name,
        "description": description,
        "parameters": {"type": "dict", "properties": properties, "required": required},
    }


TOOLS = {
    t["name"]: t
    for t in [
        _tool("math.sqrt", "Return the square root of x.", {"x": ("float", "A non-negative number.")}, ["x"]),
        _tool("math.factorial", "Return n factorial.", {"n": ("integer", "A non-negative integer.")}, ["n"]),
        _tool(
            "math.log",
            "Return the logarithm of x to the given base (natural logarithm by default).",
            {"x": ("float", "A positive number."), "base": ("float", "The base; e if omitted.")},
            ["x"],
        ),
        _tool(
            "round",
            "Round a number to ndigits decimal places (to an integer by default).",
            {"number": ("float", "The number."), "ndigits": ("integer", "Decimal places.")},
            ["number"],
        ),
        _tool(
            "textwrap.shorten",
            "Collapse and truncate text to fit in width characters.",
            {
                "text": ("string", "The text."),
                "width": ("integer", "Maximum length."),
                "placeholder": ("string", "Appended when text is cut; ' [...]' by default."),
            },
            ["text", "width"],
        ),
        _tool(
            "datetime.date",
            "Make a date from a year, a month (1-12) and a day.",
            {
                "year": ("integer", "The year."),
                "month": ("integer", "1 to 12."),
                "day": ("integer", "Day of month."),
            },
            ["year", "month", "day"],
        ),
        _tool(
            "statistics.mean",
            "Return the arithmetic mean of a list of numbers.",
            {"data": ("array", "The numbers.", "float")},
            ["data"],
        ),
        _tool(
            "random.randint",
            "Return a random integer N with a <= N <= b.",
            {"a": ("integer", "Lowest value."), "b": ("integer", "Highest value.")},
            ["a", "b"],
        ),
        _tool(
            "time.sleep",
            "Pause for the given number of seconds.",
            {"seconds": ("float", "Seconds to wait.")},
            ["seconds"],
        ),
        _tool(
            "shutil.copy",
            "Copy the file src to the file or directory dst.",
            {"src": ("string", "Source path."), "dst": ("string", "Destination path.")},
            ["src", "dst"],
        ),
        _tool(
            "calendar.isleap",
            "Return True if year is a leap year.",
            {"year": ("integer", "The year.")},
            ["year"],
        ),
        _tool(
            "urllib.parse.quote",
            "Percent-encode a string for use in a URL.",
            {
                "string": ("string", "The text to encode."),
                "safe": ("string", "Characters not to encode; '/' by default."),
            },
            ["string"],
        ),
        _tool(
            "os.path.splitext",
            "Split a path into its root and its extension.",
            {"path": ("string", "The path.")},
            ["path"],
        ),
    ]
}

NUMBER_WORDS = {
    "nine": 9,
    "sixteen": 16,
    "twenty-five": 25,
    "thirty-six": 36,
    "forty-nine": 49,
    "sixty-four": 64,
    "eighty-one": 81,
    "a hundred": 100,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
}
DURATIONS = {
    "half a second": 0.5,
    "a quarter of a second": 0.25,
    "two seconds": 2,
    "a minute": 60,
    "ninety seconds": 90,
    "ten seconds": 10,
    "an hour": 3600,
    "a tenth of a second": 0.1,
}
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
WORDS = ["river", "garden", "engine", "window", "silver", "planet", "harbour", "lantern", "meadow", "pencil"]
EXTENSIONS = [".txt", ".csv", ".json", ".py", ".tar.gz", ".md"]
NO_CALL_REQUESTS = [
    "Who wrote the play Hamlet?",
    "What is the capital of France?",
    "Tell me a short joke about cats.",
    "Translate 'good morning' into Spanish.",
    "What does HTTP stand for?",
    "Explain what a square root is.",
    "Which planet is closest to the sun?",
    "Suggest a name for a pet goldfish.",
    "What colour is a ripe banana?",
    "Summarise the rules of chess in one sentence.",
]

# A template draws one request: (request text, ground truth calls, complications).
Template = Callable[[random.Random], tuple[str, list[dict], set[str]]]


def _call(name: str, **params: list) -> dict:
    return {name: params}


def _path(rng: random.Random) -> str:
    return f"{rng.choice(['data', 'docs', 'backup', 'src'])}/{rng.choice(WORDS)}{rng.choice(EXTENSIONS)}"


def _sqrt_copy(rng):
    x = rng.randint(2, 400)
    return f"What is the square root of {x}?", [_call("math.sqrt", x=[x])], set()


def _sqrt_convert(rng):
    word, x = rng.choice(list(NUMBER_WORDS.items()))
    return f"Find the square root of {word}.", [_call("math.sqrt", x=[x])], {"convert"}


def _factorial_copy(rng):
    n = rng.randint(2, 20)
    return f"Compute the factorial of {n}.", [_call("math.factorial", n=[n])], set()


def _factorial_convert(rng):
    word, n = rng.choice([(w, n) for w, n in NUMBER_WORDS.items() if n < 10])
    return (
        f"In how many orders can {word} people stand in a line?",
        [_call("math.factorial", n=[n])],
        {"convert"},
    )


def _log_base(rng):
    x, base = rng.choice([8, 81, 1000, 1024, 625]), rng.choice([2, 3, 5, 10])
    return (
        f"What is the logarithm of {x} in base {base}?",
        [_call("math.log", x=[x], base=[base])],
        {"optional"},
    )


def _log_natural(rng):
    x = rng.randint(2, 500)
    return f"What is the natural logarithm of {x}?", [_call("math.log", x=[x], base=[""])], set()


def _round_digits(rng):
    number, digits = round(rng.uniform(0, 100), 5), rng.randint(1, 3)
    request = f"Round {number} to {digits} decimal places."
    return request, [_call("round", number=[number], ndigits=[digits])], {"optional"}


def _round_whole(rng):
    number = round(rng.uniform(0, 100), 3)
    return (
        f"Round {number} to the nearest whole number.",
        [_call("round", number=[number], ndigits=["", 0])],
        set(),
    )


def _shorten(rng):
    text, width = " ".join(rng.sample(WORDS, 5)), rng.randint(10, 25)
    request = f"Shorten the text '{text}' to at most {width} characters."
    return request, [_call("textwrap.shorten", text=[text], width=[width], placeholder=["", " [...]"])], set()


def _shorten_placeholder(rng):
    text, width, mark = (
        " ".join(rng.sample(WORDS, 4)),
        rng.randint(10, 25),
        rng.choice(["...", " (more)", "~"]),
    )
    request = f"Cut '{text}' down to {width} characters, ending with '{mark}' when it is cut."
    return request, [_call("textwrap.shorten", text=[text], width=[width], placeholder=[mark])], {"optional"}


def _date(rng):
    year, month, day = rng.randint(1990, 2030), rng.randint(1, 12), rng.randint(1, 28)
    request = f"Make a date object for {MONTHS[month - 1]} {day}, {year}."
    return request, [_call("datetime.date", year=[year], month=[month], day=[day])], {"convert"}


def _mean(rng):
    values = [rng.randint(1, 99) for _ in range(rng.randint(3, 5))]
    listed = ", ".join(map(str, values[:-1])) + f" and {values[-1]}"
    return f"What is the average of {listed}?", [_call("statistics.mean", data=[values])], set()


def _randint(rng):
    a = rng.randint(0, 50)
    b = a + rng.randint(1, 100)
    return f"Pick a random integer between {a} and {b}.", [_call("random.randint", a=[a], b=[b])], set()


def _sleep(rng):
    words, seconds = rng.choice(list(DURATIONS.items()))
    return f"Pause the program for {words}.", [_call("time.sleep", seconds=[seconds])], {"convert"}


def _copy(rng):
    src, dst = _path(rng), f"{rng.choice(['archive', 'tmp', 'out'])}/"
    return f"Copy the file {src} into {dst}.", [_call("shutil.copy", src=[src], dst=[dst])], set()


def _isleap(rng):
    year = rng.randint(1600, 2400)
    return f"Is {year} a leap year?", [_call("calendar.isleap", year=[year])], set()


def _quote(rng):
    text = f"{rng.choice(WORDS)} & {rng.choice(WORDS)}/{rng.randint(1, 9)}"
    return (
        f"Percent-encode the string '{text}' for a URL.",
        [_call("urllib.parse.quote", string=[text], safe=["", "/"])],
        set(),
    )


def _quote_safe(rng):
    text = f"{rng.choice(WORDS)}/{rng.choice(WORDS)}?q={rng.randint(1, 99)}"
    request = f"URL-encode '{text}', leaving the characters '/?=' unencoded."
    return request, [_call("urllib.parse.quote", string=[text], safe=["/?="])], {"optional"}


def _splitext(rng):
    path = _path(rng)
    return f"Split the extension off the path {path}.", [_call("os.path.splitext", path=[path])], set()


SINGLE_TEMPLATES: list[Template] = [
    _sqrt_copy,
    _sqrt_convert,
    _factorial_copy,
    _factorial_convert,
    _log_base,
    _log_natural,
    _round_digits,
    _round_whole,
    _shorten,
    _shorten_placeholder,
    _date,
    _mean,
    _randint,
    _sleep,
    _copy,
    _isleap,
    _quote,
    _quote_safe,
    _splitext,
]


def load_rows(
    limit: int | None = None,
    heldout_fraction: float = DEFAULT_HELDOUT_FRACTION,
    seed: int = 0,
    per_template: int = DEFAULT_PER_TEMPLATE,
    prompt_style: str = "text",
    **options: Any,
) -> list[dict[str, Any]]:
    """Rows ``{"prompt", "task": {"tools", "ground_truth", "request", "difficulty"}, "source", "split"}``.

    ``prompt_style``: ``text`` ("Tools: ...\\nRequest: ...\\nCalls:"), ``chat`` or
    ``chat_calls`` (see the module docstring).
    ``per_template`` requests are drawn from each single-call template, as many two-call
    requests as templates, and one no-call request per ten. Duplicates are dropped.
    """
    if options:
        raise TypeError(
            f"builtin:stdlib_tools has no option(s) {sorted(options)}; "
            "known: limit, heldout_fraction, seed, per_template, prompt_style"
        )
    if prompt_style not in PROMPT_STYLES:
        raise ValueError(f"builtin:stdlib_tools: prompt_style must be one of {PROMPT_STYLES}, got {prompt_style!r}")
    if not 0.0 <= heldout_fraction <= 1.0:
        raise ValueError(f"heldout_fraction must be in [0, 1], got {heldout_fraction}")
    rng = random.Random(f"stdlib_tools:{seed}")
    drawn = [_single(rng, template) for template in SINGLE_TEMPLATES for _ in range(per_template)]
    drawn += [_double(rng) for _ in range(len(SINGLE_TEMPLATES))]
    drawn += [_no_call(rng) for _ in range(max(1, len(drawn) // 10))]
    rng.shuffle(drawn)  # so that ``limit`` takes a spread of templates, not the first ones
    rows, seen = [], set()
    for request, truth, tools, complications in drawn:
        if request in seen:
            continue
        seen.add(request)
        rows.append(_row(request, truth, tools, complications, heldout_fraction))
        if prompt_style != "text":
            rows[-1]["prompt"] = chat_prompt(tools, request, worked_example=prompt_style == "chat")
    return rows if limit is None else rows[: max(0, int(limit))]


def chat_prompt(tools: list[dict], request: str, worked_example: bool = True) -> list[dict[str, str]]:
    """The request as chat messages: the format and the tools (system), a worked example as a
    user/assistant exchange (a small model copies a previous answer's form more readily than it
    follows a description), then the request. Without the example, each tool is written as a
    keyword-call template instead, so the form to copy is the tool's own."""
    if not worked_example:
        return [
            {"role": "system", "content": CHAT_SYSTEM.format(tools=render_call_templates(tools))},
            {"role": "user", "content": request.strip()},
        ]
    example = f"(For this example only, the function is:\n{render_tools([EXAMPLE_TOOL])})\n{EXAMPLE_REQUEST}"
    return [
        {"role": "system", "content": CHAT_SYSTEM.format(tools=render_tools(tools))},
        {"role": "user", "content": example},
        {"role": "assistant", "content": EXAMPLE_ANSWER},
        {"role": "user", "content": request.strip()},
    ]


def _single(rng: random.Random, template: Template) -> tuple[str, list[dict], list[dict], set[str]]:
    request, truth, complications = template(rng)
    names = [next(iter(call)) for call in truth]
    shown = _with_distractors(rng, names, rng.random() < 0.7)
    return request, truth, shown, complications | ({"distractors"} if len(shown) > len(names) else set())


def _double(rng: random.Random) -> tuple[str, list[dict], list[dict], set[str]]:
    first, second = rng.sample(SINGLE_TEMPLATES, 2)
    (request_a, truth_a, comp_a), (request_b, truth_b, comp_b) = first(rng), second(rng)
    names = [next(iter(call)) for call in truth_a + truth_b]
    shown = _with_distractors(rng, names, True)
    return f"{request_a} Also: {request_b}", truth_a + truth_b, shown, comp_a | comp_b | {"two_calls"}


def _no_call(rng: random.Random) -> tuple[str, list[dict], list[dict], set[str]]:
    return rng.choice(NO_CALL_REQUESTS), [], _with_distractors(rng, [], True), {"no_call"}


def _with_distractors(rng: random.Random, names: list[str], distract: bool) -> list[dict]:
    others = [name for name in TOOLS if name not in names]
    chosen = list(dict.fromkeys(names)) + (rng.sample(others, DISTRACTORS) if distract else [])
    rng.shuffle(chosen)
    return [TOOLS[name] for name in chosen]


def difficulty(complications: set[str]) -> str:
    """``no_call``, ``easy`` (no complication), ``medium`` (one) or ``hard`` (two calls, or two or more)."""
    if "no_call" in complications:
        return "no_call"
    if "two_calls" in complications or len(complications) >= 2:
        return "hard"
    return "medium" if complications else "easy"


def _row(request: str, truth: list[dict], tools: list[dict], complications: set[str], heldout: float) -> dict:
    task = {
        "tools": tools,
        "ground_truth": truth,
        "request": request,
        "difficulty": difficulty(complications),
    }
    if not is_reference_valid(task):
        raise RuntimeError(f"builtin:stdlib_tools: the ground truth of {request!r} fails its own check")
    split = "heldout" if unit_hash(request, "stdlib_tools:split") < heldout else "train"
    return {
        "prompt": render_prompt(tools, request),
        "task": task,
        "source": f"stdlib_tools:{request}",
        "split": split,
    }

"""``builtin:basic_python``: 60 small Python problems written for prefgen, in HumanEval's layout.

Why it exists: HumanEval is the standard set for execution feedback and stays the default, but it
is out of reach of small models (a 135M-parameter instruction model passes about 1.5% of its
tests), so almost every sample fails and few pairs carry a signal. These problems are easier on
purpose: about half are one-liners (add two numbers, reverse a string, the last element of a
list), the rest need one loop or condition (fizzbuzz for one number, remove duplicates keeping
order, a factorial). A small model solves some of them some of the time, which is what a
preference pair needs.

Each problem is a typed function signature and a docstring (the task in a sentence or two, one
or two ``>>>`` examples); the model continues with the body (``format: "completion"``), or, with
``prompt_style: chat``, is asked in a user turn for the whole function in a code block (``format:
"full"``; an instruction-tuned model answers a bare signature with prose). The tests
are a HumanEval-style ``check(candidate)``: the docstring's examples first, then further asserts
with at least one edge case (empty input, zero, a negative number). The problems were written for
prefgen, not taken from a dataset. Ids ``basic/0`` ... are stable: new problems are appended.

Rows are ``{"prompt": ..., "task": {"tests", "entry_point", "format", "canonical_solution"},
"source": "basic-python:basic/12"}``, the execution reward's task format (see
:mod:`prefgen.methods.execution.reward`).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Any

SOURCE_PREFIX = "basic-python:"


@dataclass(frozen=True)
class Problem:
    """One problem, written compactly; :meth:`prompt`, :meth:`check` and :meth:`body` render it.

    ``examples`` and the pair form of ``tests`` are ``(arguments, expected)`` as Python source:
    ``("2, 3", "5")`` is shown as ``>>> add(2, 3)`` / ``5`` and tested as
    ``assert candidate(2, 3) == 5``. A test given as a plain string is an expression on
    ``candidate`` (for floats: ``abs(candidate(...) - x) < 1e-9``).
    """

    signature: str                        # "add(a: int, b: int) -> int"
    doc: str                              # the task, in one or two plain sentences
    examples: tuple[tuple[str, str], ...]  # shown in the docstring, and tested
    solution: str                         # the canonical body, not yet indented
    tests: tuple[tuple[str, str] | str, ...]  # further asserts, with an edge case

    @property
    def name(self) -> str:
        return self.signature.split("(", 1)[0]

    def prompt(self) -> str:
        """The signature and docstring, ending with a newline so the body comes next."""
        shown = "".join(f"    >>> {self.name}({args})\n    {expected}\n" for args, expected in self.examples)
        doc = textwrap.fill(self.doc, width=92, initial_indent="    ", subsequent_indent="    ").lstrip()
        return f'def {self.signature}:\n    """{doc}\n\n{shown}    """\n'

    def body(self) -> str:
        """The canonical solution in completion format: the indented body."""
        return textwrap.indent(self.solution.strip("\n") + "\n", "    ")

    def check(self) -> str:
        """HumanEval-style test code: ``check(candidate)``, one assert per example and test."""
        lines = [_assertion(test) for test in (*self.examples, *self.tests)]
        return "def check(candidate):\n" + "".join(f"    {line}\n" for line in lines)


def _assertion(test: tuple[str, str] | str) -> str:
    if isinstance(test, str):
        return f"assert {test}"
    args, expected = test
    return f"assert candidate({args}) == {expected}"


P = Problem

# --- one-liners -------------------------------------------------------------------------------
# basic/0 ... basic/29. Append only: an id names the same problem for ever.
ONE_LINERS = (
    P("add(a: int, b: int) -> int", "Return the sum of a and b.",
      (("2, 3", "5"),), "return a + b",
      (("0, 0", "0"), ("-4, 4", "0"), ("120, 35", "155"))),
    P("subtract(a: int, b: int) -> int", "Return a minus b.",
      (("10, 4", "6"),), "return a - b",
      (("0, 0", "0"), ("3, 8", "-5"), ("-2, -2", "0"))),
    P("double(n: int) -> int", "Return twice the number n.",
      (("7", "14"),), "return 2 * n",
      (("0", "0"), ("-3", "-6"), ("50", "100"))),
    P("reverse_string(text: str) -> str", "Return the text written backwards.",
      (("'hello'", "'olleh'"),), "return text[::-1]",
      (("''", "''"), ("'a'", "'a'"), ("'ab cd'", "'dc ba'"))),
    P("last_element(items: list[int]) -> int", "Return the last element of a non-empty list.",
      (("[4, 8, 15]", "15"),), "return items[-1]",
      (("[9]", "9"), ("[1, 2, 3, 2]", "2"), ("[-1, -7]", "-7"))),
    P("first_element(items: list[str]) -> str", "Return the first element of a non-empty list.",
      (("['pear', 'plum']", "'pear'"),), "return items[0]",
      (("['x']", "'x'"), ("['', 'b']", "''"), ("['b', 'a', 'b']", "'b'"))),
    P("is_even(n: int) -> bool", "Return True if n is even, False otherwise.",
      (("4", "True"), ("7", "False")), "return n % 2 == 0",
      (("0", "True"), ("-3", "False"), ("-10", "True"))),
    P("count_vowels(text: str) -> int", "Count the vowels (a, e, i, o, u, in either case) in the text.",
      (("'banana'", "3"),), "return sum(1 for char in text.lower() if char in 'aeiou')",
      (("''", "0"), ("'rhythm'", "0"), ("'AEIOU are vowels'", "9"))),
    P("largest(numbers: list[int]) -> int", "Return the largest number in a non-empty list.",
      (("[3, 9, 2]", "9"),), "return max(numbers)",
      (("[5]", "5"), ("[-8, -2, -5]", "-2"), ("[1, 4, 4, 0]", "4"))),
    P("smallest(numbers: list[int]) -> int", "Return the smallest number in a non-empty list.",
      (("[3, 9, 2]", "2"),), "return min(numbers)",
      (("[5]", "5"), ("[-8, -2, -5]", "-8"), ("[0, 7, 0]", "0"))),
    P("join_words(words: list[str]) -> str",
      "Join the words into one string, with a single space between them.",
      (("['good', 'morning']", "'good morning'"),), "return ' '.join(words)",
      (("[]", "''"), ("['one']", "'one'"), ("['a', 'b', 'c']", "'a b c'"))),
    P("square_all(numbers: list[int]) -> list[int]", "Return a new list with every number squared.",
      (("[1, 2, 3]", "[1, 4, 9]"),), "return [n * n for n in numbers]",
      (("[]", "[]"), ("[-4]", "[16]"), ("[0, 10]", "[0, 100]"))),
    P("text_length(text: str) -> int", "Return the number of characters in the text.",
      (("'cat'", "3"),), "return len(text)",
      (("''", "0"), ("'a b'", "3"), ("'hello world'", "11"))),
    P("shout(text: str) -> str", "Return the text in capital letters.",
      (("'hi there'", "'HI THERE'"),), "return text.upper()",
      (("''", "''"), ("'ABC'", "'ABC'"), ("'mixed Case 42'", "'MIXED CASE 42'"))),
    P("total(numbers: list[int]) -> int", "Return the sum of all the numbers in the list.",
      (("[1, 2, 3]", "6"),), "return sum(numbers)",
      (("[]", "0"), ("[-5, 5]", "0"), ("[100]", "100"))),
    P("is_empty(items: list[int]) -> bool", "Return True if the list has no elements.",
      (("[]", "True"), ("[1, 2]", "False")), "return len(items) == 0",
      (("[0]", "False"), ("[-1, -2, -3]", "False"), ("list()", "True"))),
    P("average(numbers: list[float]) -> float", "Return the mean of a non-empty list of numbers.",
      (("[1.0, 2.0, 3.0]", "2.0"),), "return sum(numbers) / len(numbers)",
      ("abs(candidate([4.0]) - 4.0) < 1e-9", "abs(candidate([1.0, 2.0]) - 1.5) < 1e-9",
       "abs(candidate([-3.0, 3.0, 6.0]) - 2.0) < 1e-9")),
    P("absolute(n: int) -> int", "Return the distance of n from zero.",
      (("-6", "6"),), "return abs(n)",
      (("0", "0"), ("9", "9"), ("-1", "1"))),
    P("is_positive(n: int) -> bool", "Return True if n is greater than zero.",
      (("5", "True"), ("-2", "False")), "return n > 0",
      (("0", "False"), ("1", "True"), ("-100", "False"))),
    P("first_letter(word: str) -> str", "Return the first character of a non-empty word.",
      (("'python'", "'p'"),), "return word[0]",
      (("'a'", "'a'"), ("'Zebra'", "'Z'"), ("' space'", "' '"))),
    P("repeat(text: str, times: int) -> str", "Return the text repeated the given number of times.",
      (("'ab', 3", "'ababab'"),), "return text * times",
      (("'x', 0", "''"), ("'', 5", "''"), ("'hi ', 2", "'hi hi '"))),
    P("remove_spaces(text: str) -> str", "Return the text with every space removed.",
      (("'a b c'", "'abc'"),), "return text.replace(' ', '')",
      (("''", "''"), ("'   '", "''"), ("'no-spaces'", "'no-spaces'"))),
    P("count_of(items: list[int], target: int) -> int", "Count how many times target appears in the list.",
      (("[1, 2, 1, 1], 1", "3"),), "return items.count(target)",
      (("[], 4", "0"), ("[2, 3], 4", "0"), ("[-1, -1], -1", "2"))),
    P("contains(items: list[str], target: str) -> bool", "Return True if target is one of the items.",
      (("['red', 'blue'], 'blue'", "True"),), "return target in items",
      (("[], 'red'", "False"), ("['red'], 'Red'", "False"), ("['a', 'b', 'c'], 'c'", "True"))),
    P("to_fahrenheit(celsius: float) -> float",
      "Convert a temperature from degrees Celsius to degrees Fahrenheit (multiply by 9/5, then add 32).",
      (("100.0", "212.0"),), "return celsius * 9 / 5 + 32",
      ("abs(candidate(0.0) - 32.0) < 1e-9", "abs(candidate(-40.0) - -40.0) < 1e-9",
       "abs(candidate(37.0) - 98.6) < 1e-9")),
    P("sort_numbers(numbers: list[int]) -> list[int]", "Return the numbers sorted from smallest to largest.",
      (("[3, 1, 2]", "[1, 2, 3]"),), "return sorted(numbers)",
      (("[]", "[]"), ("[5, -5, 0]", "[-5, 0, 5]"), ("[2, 2, 1]", "[1, 2, 2]"))),
    P("rectangle_area(width: int, height: int) -> int", "Return the area of a rectangle.",
      (("3, 4", "12"),), "return width * height",
      (("0, 9", "0"), ("1, 1", "1"), ("10, 7", "70"))),
    P("last_char(text: str) -> str", "Return the last character of a non-empty string.",
      (("'hello'", "'o'"),), "return text[-1]",
      (("'x'", "'x'"), ("'end.'", "'.'"), ("'ab '", "' '"))),
    P("split_words(sentence: str) -> list[str]", "Split the sentence into its words, separated by spaces.",
      (("'the quick fox'", "['the', 'quick', 'fox']"),), "return sentence.split()",
      (("''", "[]"), ("'one'", "['one']"), ("'  two  spaces '", "['two', 'spaces']"))),
    P("evens_only(numbers: list[int]) -> list[int]", "Return the even numbers of the list, in their order.",
      (("[1, 2, 3, 4]", "[2, 4]"),), "return [n for n in numbers if n % 2 == 0]",
      (("[]", "[]"), ("[1, 3, 5]", "[]"), ("[0, -2, 7, 8]", "[0, -2, 8]"))),
)

# --- a loop or a condition ----------------------------------------------------------------------
# basic/30 ... basic/59.
LOOPS_AND_CONDITIONS = (
    P("fizzbuzz(n: int) -> str",
      "Return 'Fizz' if n is divisible by 3, 'Buzz' if by 5, 'FizzBuzz' if by both, else n as a string.",
      (("9", "'Fizz'"), ("15", "'FizzBuzz'")),
      "if n % 15 == 0:\n    return 'FizzBuzz'\nif n % 3 == 0:\n    return 'Fizz'\n"
      "if n % 5 == 0:\n    return 'Buzz'\nreturn str(n)",
      (("10", "'Buzz'"), ("7", "'7'"), ("1", "'1'"), ("0", "'FizzBuzz'"))),
    P("count_words(sentence: str) -> int", "Count the words in the sentence; words are separated by spaces.",
      (("'I like tea'", "3"),), "return len(sentence.split())",
      (("''", "0"), ("'word'", "1"), ("'  lots   of   space  '", "3"))),
    P("remove_duplicates(items: list[int]) -> list[int]",
      "Return the items without repeats, keeping the first time each one appears.",
      (("[3, 1, 3, 2, 1]", "[3, 1, 2]"),),
      "seen = []\nfor item in items:\n    if item not in seen:\n        seen.append(item)\nreturn seen",
      (("[]", "[]"), ("[7, 7, 7]", "[7]"), ("[1, 2, 3]", "[1, 2, 3]"))),
    P("factorial(n: int) -> int", "Return n factorial, the product 1 * 2 * ... * n; the factorial of 0 is 1.",
      (("5", "120"),), "result = 1\nfor k in range(2, n + 1):\n    result *= k\nreturn result",
      (("0", "1"), ("1", "1"), ("10", "3628800"))),
    P("is_palindrome(text: str) -> bool",
      "Return True if the text reads the same backwards as forwards, ignoring upper and lower case.",
      (("'Level'", "True"), ("'hello'", "False")), "lowered = text.lower()\nreturn lowered == lowered[::-1]",
      (("''", "True"), ("'a'", "True"), ("'Abba'", "True"), ("'ab'", "False"))),
    P("sign(n: int) -> str", "Return 'positive', 'negative' or 'zero' depending on n.",
      (("8", "'positive'"), ("-3", "'negative'")),
      "if n > 0:\n    return 'positive'\nif n < 0:\n    return 'negative'\nreturn 'zero'",
      (("0", "'zero'"), ("1", "'positive'"), ("-1", "'negative'"))),
    P("largest_of_three(a: int, b: int, c: int) -> int", "Return the largest of the three numbers.",
      (("1, 5, 3", "5"),), "return max(a, b, c)",
      (("9, 2, 2", "9"), ("-5, -1, -9", "-1"), ("4, 4, 4", "4"), ("0, 1, 2", "2"))),
    P("letter_grade(score: int) -> str",
      "Return 'A' for a score of 90 or more, 'B' for 80 or more, 'C' for 70 or more, and 'F' otherwise.",
      (("95", "'A'"), ("72", "'C'")),
      "if score >= 90:\n    return 'A'\nif score >= 80:\n    return 'B'\n"
      "if score >= 70:\n    return 'C'\nreturn 'F'",
      (("90", "'A'"), ("89", "'B'"), ("70", "'C'"), ("0", "'F'"))),
    P("digit_sum(n: int) -> int", "Return the sum of the digits of a non-negative integer.",
      (("123", "6"),), "return sum(int(digit) for digit in str(n))",
      (("0", "0"), ("9", "9"), ("1005", "6"))),
    P("count_positive(numbers: list[int]) -> int",
      "Count the numbers in the list that are greater than zero.",
      (("[1, -2, 3, 0]", "2"),), "return sum(1 for n in numbers if n > 0)",
      (("[]", "0"), ("[0, 0]", "0"), ("[-1, 5, 6, -7, 8]", "3"))),
    P("fibonacci(n: int) -> int",
      "Return the n-th Fibonacci number, where fibonacci(0) is 0, fibonacci(1) is 1 and each next one is "
      "the sum of the two before it.",
      (("6", "8"),), "a, b = 0, 1\nfor _ in range(n):\n    a, b = b, a + b\nreturn a",
      (("0", "0"), ("1", "1"), ("2", "1"), ("10", "55"))),
    P("is_prime(n: int) -> bool",
      "Return True if n is a prime number: greater than 1 and divisible only by 1 and itself.",
      (("7", "True"), ("8", "False")),
      "if n < 2:\n    return False\nfor d in range(2, int(n ** 0.5) + 1):\n    if n % d == 0:\n"
      "        return False\nreturn True",
      (("1", "False"), ("2", "True"), ("0", "False"), ("25", "False"), ("97", "True"))),
    P("capitalize_words(sentence: str) -> str",
      "Return the sentence with the first letter of every word in capitals; "
      "words are separated by single spaces.",
      (("'hello big world'", "'Hello Big World'"),),
      "return ' '.join(word[:1].upper() + word[1:] for word in sentence.split(' '))",
      (("''", "''"), ("'a'", "'A'"), ("'already Done'", "'Already Done'"))),
    P("longest_word(words: list[str]) -> str",
      "Return the longest word in the list, the first one if several are as long; "
      "return '' for an empty list.",
      (("['ant', 'zebra', 'cat']", "'zebra'"),),
      "best = ''\nfor word in words:\n    if len(word) > len(best):\n        best = word\nreturn best",
      (("[]", "''"), ("['hi', 'yo']", "'hi'"), ("['a', 'abc', 'ab']", "'abc'"))),
    P("count_char(text: str, char: str) -> int",
      "Count how many times the single character char occurs in the text.",
      (("'mississippi', 's'", "4"),), "return text.count(char)",
      (("'', 'a'", "0"), ("'abc', 'z'", "0"), ("'Aa', 'a'", "1"))),
    P("is_leap_year(year: int) -> bool",
      "Return True for a leap year: divisible by 4, except years divisible by 100 "
      "that are not divisible by 400.",
      (("2024", "True"), ("1900", "False")), "return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)",
      (("2000", "True"), ("2023", "False"), ("2100", "False"), ("4", "True"))),
    P("running_total(numbers: list[int]) -> list[int]",
      "Return a list whose i-th element is the sum of the first i + 1 numbers.",
      (("[1, 2, 3]", "[1, 3, 6]"),),
      "result = []\ntotal = 0\nfor n in numbers:\n    total += n\n    result.append(total)\nreturn result",
      (("[]", "[]"), ("[5]", "[5]"), ("[2, -2, 4]", "[2, 0, 4]"))),
    P("index_of(items: list[str], target: str) -> int",
      "Return the position of the first target in the list, or -1 if it is not there.",
      (("['a', 'b', 'c'], 'b'", "1"), ("['a'], 'z'", "-1")),
      "for index, item in enumerate(items):\n    if item == target:\n        return index\nreturn -1",
      (("[], 'a'", "-1"), ("['x', 'y', 'x'], 'x'", "0"), ("['p', 'q'], 'q'", "1"))),
    P("letter_counts(text: str) -> dict[str, int]",
      "Return a dictionary mapping each character of the text to how often it occurs.",
      (("'abca'", "{'a': 2, 'b': 1, 'c': 1}"),),
      "counts = {}\nfor char in text:\n    counts[char] = counts.get(char, 0) + 1\nreturn counts",
      (("''", "{}"), ("'zz'", "{'z': 2}"), ("'a b'", "{'a': 1, ' ': 1, 'b': 1}"))),
    P("common_elements(first: list[int], second: list[int]) -> list[int]",
      "Return the numbers of first that also appear in second, in the order of first, each only once.",
      (("[1, 2, 3, 4], [4, 2, 9]", "[2, 4]"),),
      "result = []\nfor n in first:\n    if n in second and n not in result:\n"
      "        result.append(n)\nreturn result",
      (("[], [1]", "[]"), ("[1, 2], []", "[]"), ("[5, 5, 6], [5, 6]", "[5, 6]"))),
    P("reverse_words(sentence: str) -> str",
      "Return the words of the sentence in reverse order, separated by single spaces.",
      (("'one two three'", "'three two one'"),), "return ' '.join(reversed(sentence.split()))",
      (("''", "''"), ("'solo'", "'solo'"), ("'a  b'", "'b a'"))),
    P("clamp(n: int, low: int, high: int) -> int",
      "Return n if it lies between low and high, otherwise the nearest of the two bounds.",
      (("15, 0, 10", "10"), ("5, 0, 10", "5")),
      "if n < low:\n    return low\nif n > high:\n    return high\nreturn n",
      (("-3, 0, 10", "0"), ("0, 0, 10", "0"), ("10, 0, 10", "10"), ("7, 7, 7", "7"))),
    P("gcd(a: int, b: int) -> int",
      "Return the greatest common divisor of two non-negative integers, not both zero.",
      (("12, 18", "6"),), "while b:\n    a, b = b, a % b\nreturn a",
      (("7, 0", "7"), ("0, 5", "5"), ("17, 5", "1"), ("100, 75", "25"))),
    P("is_power_of_two(n: int) -> bool",
      "Return True if n is 1, 2, 4, 8, ... (a power of two), False otherwise.",
      (("8", "True"), ("6", "False")),
      "if n < 1:\n    return False\nwhile n % 2 == 0:\n    n //= 2\nreturn n == 1",
      (("1", "True"), ("0", "False"), ("-4", "False"), ("1024", "True"))),
    P("count_digits(n: int) -> int", "Return how many digits a non-negative integer has.",
      (("4096", "4"),), "return len(str(n))",
      (("0", "1"), ("9", "1"), ("10", "2"), ("1000000", "7"))),
    P("remove_vowels(text: str) -> str",
      "Return the text without its vowels (a, e, i, o, u, in either case).",
      (("'banana'", "'bnn'"),), "return ''.join(char for char in text if char.lower() not in 'aeiou')",
      (("''", "''"), ("'AEIOU'", "''"), ("'Hello World'", "'Hll Wrld'"))),
    P("chunk(items: list[int], size: int) -> list[list[int]]",
      "Split the list into pieces of the given size; the last piece may be shorter.",
      (("[1, 2, 3, 4, 5], 2", "[[1, 2], [3, 4], [5]]"),),
      "return [items[start:start + size] for start in range(0, len(items), size)]",
      (("[], 3", "[]"), ("[1, 2], 5", "[[1, 2]]"), ("[1, 2, 3], 1", "[[1], [2], [3]]"))),
    P("flatten(nested: list[list[int]]) -> list[int]",
      "Return one list holding the elements of all the inner lists, in order.",
      (("[[1, 2], [3], [4, 5]]", "[1, 2, 3, 4, 5]"),),
      "result = []\nfor inner in nested:\n    result.extend(inner)\nreturn result",
      (("[]", "[]"), ("[[], []]", "[]"), ("[[7], [], [8, 9]]", "[7, 8, 9]"))),
    P("min_and_max(numbers: list[int]) -> tuple[int, int]",
      "Return the smallest and the largest number of a non-empty list, as a tuple.",
      (("[4, 1, 9, 3]", "(1, 9)"),), "return (min(numbers), max(numbers))",
      (("[5]", "(5, 5)"), ("[-2, -8]", "(-8, -2)"), ("[0, 0, 1]", "(0, 1)"))),
    P("is_sorted(numbers: list[int]) -> bool",
      "Return True if every number is at least as large as the one before it.",
      (("[1, 2, 2, 5]", "True"), ("[3, 1]", "False")),
      "for i in range(1, len(numbers)):\n    if numbers[i] < numbers[i - 1]:\n"
      "        return False\nreturn True",
      (("[]", "True"), ("[4]", "True"), ("[1, 3, 2]", "False"), ("[-5, 0, 5]", "True"))),
)

PROBLEMS = ONE_LINERS + LOOPS_AND_CONDITIONS
KNOWN_OPTIONS = "limit, with_canonical, task_ids, prompt_style"
PROMPT_STYLES = ("completion", "chat")


def task_id(index: int) -> str:
    """The stable id of problem ``index``: ``basic/0`` ..."""
    return f"basic/{index}"


CHAT_REQUEST = (
    "Complete the following Python function. Reply with the complete function in one ```python "
    "code block and nothing else.\n\n```python\n{code}```"
)


def load_rows(limit: int | None = None, *, with_canonical: bool = True,
              task_ids: list[str] | None = None, prompt_style: str = "completion",
              **options: Any) -> list[dict[str, Any]]:
    """The problems as prompt rows, in id order.

    ``with_canonical``: include the reference solution (for broken-problem detection).
    ``task_ids``: keep only these problems (e.g. ``["basic/0", "basic/12"]``).
    ``prompt_style``: ``completion`` (HumanEval's: the model continues the signature and docstring)
    or ``chat`` (one user turn asking for the whole function in a code block, for an
    instruction-tuned model, which answers a bare signature with prose about it).
    """
    if options:
        raise TypeError(f"builtin:basic_python has no option(s) {sorted(options)}; known: {KNOWN_OPTIONS}")
    if prompt_style not in PROMPT_STYLES:
        raise ValueError(f"prompt_style must be one of {PROMPT_STYLES}, not {prompt_style!r}")
    rows = []
    for index, problem in enumerate(PROBLEMS):
        if limit is not None and len(rows) >= limit:
            break
        if task_ids is not None and task_id(index) not in task_ids:
            continue
        rows.append(problem_to_row(index, problem, with_canonical=with_canonical, prompt_style=prompt_style))
    return rows


def problem_to_row(index: int, problem: Problem, with_canonical: bool = True,
                   prompt_style: str = "completion") -> dict[str, Any]:
    """One prompt row in the execution reward's task format."""
    chat = prompt_style == "chat"
    task = {"tests": problem.check(), "entry_point": problem.name, "format": "full" if chat else "completion"}
    if with_canonical:
        task["canonical_solution"] = problem.prompt() + problem.body() if chat else problem.body()
    prompt: str | list[dict[str, str]] = problem.prompt()
    if chat:
        prompt = [{"role": "user", "content": CHAT_REQUEST.format(code=problem.prompt())}]
    return {"prompt": prompt, "task": task, "source": f"{SOURCE_PREFIX}{task_id(index)}"}

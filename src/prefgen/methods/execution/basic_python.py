"""``builtin:basic_python``: 200 small Python problems written for prefgen, in HumanEval's layout.

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
The first set was ``basic/0`` ... ``basic/59``; ``basic/60`` ... ``basic/199`` were added later under
the same rules (70 one-liners, then 70 with a loop or a condition), so a run made with the first 60
is reproduced with the source option ``limit: 60``.

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

# --- more one-liners ----------------------------------------------------------------------------
# basic/60 ... basic/129, added after the first 60 under the same rules.
MORE_ONE_LINERS = (
    P("abs_difference(a: int, b: int) -> int",
      "Return the absolute difference of a and b: how far apart they are.",
      (("3, 10", "7"),), "return abs(a - b)",
      (("10, 3", "7"), ("0, 0", "0"), ("-4, 5", "9"))),
    P("whisper(text: str) -> str", "Return the text in lower case letters.",
      (("'Hello World'", "'hello world'"),), "return text.lower()",
      (("''", "''"), ("'abc'", "'abc'"), ("'ABC 123'", "'abc 123'"))),
    P("count_negative(numbers: list[int]) -> int", "Count the numbers in the list that are less than zero.",
      (("[-1, 2, -3]", "2"),), "return sum(1 for n in numbers if n < 0)",
      (("[]", "0"), ("[0, 1]", "0"), ("[-5, -5, 0]", "2"))),
    P("dash_join(words: list[str]) -> str", "Join the words into one string, with a dash '-' between them.",
      (("['a', 'b', 'c']", "'a-b-c'"),), "return '-'.join(words)",
      (("[]", "''"), ("['solo']", "'solo'"), ("['up', 'to', 'date']", "'up-to-date'"))),
    P("square(n: int) -> int", "Return n multiplied by itself.",
      (("5", "25"),), "return n * n",
      (("0", "0"), ("-3", "9"), ("1", "1"))),
    P("cube(n: int) -> int", "Return n to the power of three, n * n * n.",
      (("2", "8"),), "return n ** 3",
      (("0", "0"), ("-2", "-8"), ("3", "27"))),
    P("is_odd(n: int) -> bool", "Return True if n is odd, False otherwise.",
      (("3", "True"), ("8", "False")), "return n % 2 != 0",
      (("0", "False"), ("-5", "True"), ("-2", "False"))),
    P("is_negative(n: int) -> bool", "Return True if n is less than zero.",
      (("-3", "True"), ("4", "False")), "return n < 0",
      (("0", "False"), ("-1", "True"), ("100", "False"))),
    P("is_divisible(n: int, d: int) -> bool", "Return True if n is divisible by d (d is never zero).",
      (("12, 4", "True"), ("10, 3", "False")), "return n % d == 0",
      (("0, 5", "True"), ("-9, 3", "True"), ("7, 7", "True"), ("1, 2", "False"))),
    P("remainder(a: int, b: int) -> int",
      "Return the remainder left when the non-negative a is divided by the positive b.",
      (("17, 5", "2"),), "return a % b",
      (("0, 3", "0"), ("9, 3", "0"), ("4, 7", "4"))),
    P("quotient(a: int, b: int) -> int",
      "Return how many whole times the positive b fits into the non-negative a, dropping any remainder.",
      (("17, 5", "3"),), "return a // b",
      (("0, 4", "0"), ("4, 7", "0"), ("20, 5", "4"))),
    P("max_of_two(a: int, b: int) -> int", "Return the larger of a and b.",
      (("3, 8", "8"),), "return max(a, b)",
      (("8, 3", "8"), ("-1, -6", "-1"), ("5, 5", "5"))),
    P("swap_case(text: str) -> str",
      "Return the text with its capital letters made small and its small letters made capital.",
      (("'Hello'", "'hELLO'"),), "return text.swapcase()",
      (("''", "''"), ("'abc DEF'", "'ABC def'"), ("'123!'", "'123!'"))),
    P("starts_with(text: str, prefix: str) -> bool",
      "Return True if the text begins with prefix; case matters, and an empty prefix always matches.",
      (("'python', 'py'", "True"), ("'python', 'on'", "False")), "return text.startswith(prefix)",
      (("'abc', ''", "True"), ("'', 'a'", "False"), ("'Apple', 'a'", "False"))),
    P("ends_with(text: str, suffix: str) -> bool",
      "Return True if the text ends with suffix; case matters, and an empty suffix always matches.",
      (("'report.txt', '.txt'", "True"),), "return text.endswith(suffix)",
      (("'report.txt', '.csv'", "False"), ("'', 'x'", "False"), ("'abc', ''", "True"),
       ("'ABC', 'c'", "False"))),
    P("second_element(items: list[int]) -> int",
      "Return the second element of a list that has at least two elements.",
      (("[4, 8, 15]", "8"),), "return items[1]",
      (("[1, 2]", "2"), ("[-3, -4, -5]", "-4"), ("[0, 0, 9]", "0"))),
    P("without_first(items: list[int]) -> list[int]",
      "Return the list without its first element; an empty list stays empty.",
      (("[1, 2, 3]", "[2, 3]"),), "return items[1:]",
      (("[]", "[]"), ("[5]", "[]"), ("[7, 7]", "[7]"))),
    P("first_n(items: list[int], n: int) -> list[int]",
      "Return the first n elements of the list (n is not negative), or the whole list if it is shorter.",
      (("[1, 2, 3, 4], 2", "[1, 2]"),), "return items[:n]",
      (("[], 3", "[]"), ("[1, 2], 5", "[1, 2]"), ("[9, 8], 0", "[]"))),
    P("reverse_list(items: list[int]) -> list[int]", "Return a new list with the elements in reverse order.",
      (("[1, 2, 3]", "[3, 2, 1]"),), "return items[::-1]",
      (("[]", "[]"), ("[5]", "[5]"), ("[1, 1, 2]", "[2, 1, 1]"))),
    P("sort_descending(numbers: list[int]) -> list[int]",
      "Return the numbers sorted from largest to smallest.",
      (("[3, 1, 2]", "[3, 2, 1]"),), "return sorted(numbers, reverse=True)",
      (("[]", "[]"), ("[-1, 5, 0]", "[5, 0, -1]"), ("[2, 2, 3]", "[3, 2, 2]"))),
    P("sum_of_squares(numbers: list[int]) -> int",
      "Return the sum of the squares of the numbers; 0 for an empty list.",
      (("[1, 2, 3]", "14"),), "return sum(n * n for n in numbers)",
      (("[]", "0"), ("[-2]", "4"), ("[0, 0]", "0"))),
    P("double_all(numbers: list[int]) -> list[int]", "Return a new list with every number doubled.",
      (("[1, 2, 3]", "[2, 4, 6]"),), "return [2 * n for n in numbers]",
      (("[]", "[]"), ("[-5]", "[-10]"), ("[0, 7]", "[0, 14]"))),
    P("odds_only(numbers: list[int]) -> list[int]", "Return the odd numbers of the list, in their order.",
      (("[1, 2, 3, 4]", "[1, 3]"),), "return [n for n in numbers if n % 2 != 0]",
      (("[]", "[]"), ("[2, 4]", "[]"), ("[-3, 0, 5]", "[-3, 5]"))),
    P("positives_only(numbers: list[int]) -> list[int]",
      "Return the numbers of the list that are greater than zero, in their order.",
      (("[3, -1, 0, 2]", "[3, 2]"),), "return [n for n in numbers if n > 0]",
      (("[]", "[]"), ("[-1, 0]", "[]"), ("[5]", "[5]"))),
    P("word_lengths(words: list[str]) -> list[int]", "Return a list with the length of each word, in order.",
      (("['hi', 'there']", "[2, 5]"),), "return [len(word) for word in words]",
      (("[]", "[]"), ("['']", "[0]"), ("['a', 'bb', 'ccc']", "[1, 2, 3]"))),
    P("upper_all(words: list[str]) -> list[str]", "Return a new list with every word in capital letters.",
      (("['a', 'Bc']", "['A', 'BC']"),), "return [word.upper() for word in words]",
      (("[]", "[]"), ("['']", "['']"), ("['ok', 'GO']", "['OK', 'GO']"))),
    P("add_to_all(numbers: list[int], amount: int) -> list[int]",
      "Return a new list with amount added to every number.",
      (("[1, 2, 3], 10", "[11, 12, 13]"),), "return [n + amount for n in numbers]",
      (("[], 5", "[]"), ("[4], 0", "[4]"), ("[1, -1], -1", "[0, -2]"))),
    P("count_spaces(text: str) -> int", "Count the space characters in the text.",
      (("'a b c'", "2"),), "return text.count(' ')",
      (("''", "0"), ("'none'", "0"), ("'   '", "3"))),
    P("middle_char(text: str) -> str",
      "Return the middle character of a string with an odd number of characters.",
      (("'abc'", "'b'"),), "return text[len(text) // 2]",
      (("'x'", "'x'"), ("'hello'", "'l'"), ("'a-b-c'", "'b'"))),
    P("first_and_last(items: list[int]) -> list[int]",
      "Return a list of the first and the last element of a non-empty list; "
      "for a list of one element, that element twice.",
      (("[1, 2, 3]", "[1, 3]"),), "return [items[0], items[-1]]",
      (("[7]", "[7, 7]"), ("[4, 5]", "[4, 5]"), ("[0, 9, 9, 0]", "[0, 0]"))),
    P("swap_pair(pair: tuple[int, int]) -> tuple[int, int]", "Return the pair with its two values swapped.",
      (("(1, 2)", "(2, 1)"),), "return (pair[1], pair[0])",
      (("(0, 0)", "(0, 0)"), ("(-1, 5)", "(5, -1)"), ("(3, 3)", "(3, 3)"))),
    P("manhattan_distance(a: tuple[int, int], b: tuple[int, int]) -> int",
      "Return the distance between the points a and b, each an (x, y) pair: the absolute difference "
      "of their x values plus the absolute difference of their y values.",
      (("(0, 0), (3, 4)", "7"),), "return abs(a[0] - b[0]) + abs(a[1] - b[1])",
      (("(1, 1), (1, 1)", "0"), ("(-2, 3), (2, -3)", "10"), ("(5, 0), (0, 0)", "5"))),
    P("get_value(data: dict[str, int], key: str) -> int",
      "Return the value stored under key in the dictionary, or 0 if the key is missing.",
      (("{'a': 1, 'b': 2}, 'b'", "2"),), "return data.get(key, 0)",
      (("{}, 'a'", "0"), ("{'a': 5}, 'A'", "0"), ("{'x': -3}, 'x'", "-3"))),
    P("has_key(data: dict[str, int], key: str) -> bool",
      "Return True if key is one of the dictionary's keys.",
      (("{'apple': 3}, 'apple'", "True"),), "return key in data",
      (("{}, 'a'", "False"), ("{'a': 1}, 'b'", "False"), ("{'x': 0, 'y': 0}, 'y'", "True"))),
    P("sorted_keys(data: dict[str, int]) -> list[str]",
      "Return the keys of the dictionary as a list sorted in alphabetical order.",
      (("{'b': 1, 'a': 2}", "['a', 'b']"),), "return sorted(data)",
      (("{}", "[]"), ("{'z': 0}", "['z']"),
       ("{'pear': 1, 'apple': 1, 'fig': 1}", "['apple', 'fig', 'pear']"))),
    P("sum_values(data: dict[str, int]) -> int",
      "Return the sum of all the values in the dictionary; 0 if it is empty.",
      (("{'a': 2, 'b': 3}", "5"),), "return sum(data.values())",
      (("{}", "0"), ("{'x': -4, 'y': 4}", "0"), ("{'k': 10}", "10"))),
    P("make_dict(keys: list[str], values: list[int]) -> dict[str, int]",
      "Return a dictionary mapping each key to the value at the same position; "
      "the lists have the same length and the keys are all different.",
      (("['a', 'b'], [1, 2]", "{'a': 1, 'b': 2}"),), "return dict(zip(keys, values))",
      (("[], []", "{}"), ("['x'], [0]", "{'x': 0}"),
       ("['p', 'q', 'r'], [3, 2, 1]", "{'p': 3, 'q': 2, 'r': 1}"))),
    P("is_digits(text: str) -> bool",
      "Return True if the text is not empty and every character in it is one of the digits 0 to 9.",
      (("'123'", "True"), ("'12a'", "False")),
      "return text != '' and all(char in '0123456789' for char in text)",
      (("''", "False"), ("'0'", "True"), ("' 1'", "False"), ("'-5'", "False"))),
    P("concat(first: str, second: str) -> str",
      "Return first followed by second, joined with nothing in between.",
      (("'foot', 'ball'", "'football'"),), "return first + second",
      (("'', ''", "''"), ("'a', ''", "'a'"), ("'', 'b'", "'b'"))),
    P("greet(name: str) -> str",
      "Return the greeting 'Hello, ' followed by the name and an exclamation mark.",
      (("'Ann'", "'Hello, Ann!'"),), "return 'Hello, ' + name + '!'",
      (("''", "'Hello, !'"), ("'Bob'", "'Hello, Bob!'"), ("'x y'", "'Hello, x y!'"))),
    P("surround(text: str, mark: str) -> str", "Return the text with mark added at its start and at its end.",
      (("'hi', '*'", "'*hi*'"),), "return mark + text + mark",
      (("'', '#'", "'##'"), ("'a', ''", "'a'"), ("'mid', '--'", "'--mid--'"))),
    P("minutes_to_seconds(minutes: int) -> int",
      "Return how many seconds there are in the given number of minutes.",
      (("3", "180"),), "return minutes * 60",
      (("0", "0"), ("1", "60"), ("10", "600"))),
    P("seconds_to_minutes(seconds: int) -> int",
      "Return how many whole minutes fit in a non-negative number of seconds, "
      "dropping the seconds left over.",
      (("130", "2"),), "return seconds // 60",
      (("0", "0"), ("59", "0"), ("60", "1"), ("3600", "60"))),
    P("is_between(n: int, low: int, high: int) -> bool", "Return True if n is at least low and at most high.",
      (("5, 1, 10", "True"), ("11, 1, 10", "False")), "return low <= n <= high",
      (("1, 1, 10", "True"), ("10, 1, 10", "True"), ("0, 1, 10", "False"), ("-3, -5, -1", "True"))),
    P("both_true(a: bool, b: bool) -> bool", "Return True only if a and b are both True.",
      (("True, True", "True"),), "return a and b",
      (("True, False", "False"), ("False, True", "False"), ("False, False", "False"))),
    P("either_true(a: bool, b: bool) -> bool", "Return True if at least one of a and b is True.",
      (("False, True", "True"),), "return a or b",
      (("True, False", "True"), ("True, True", "True"), ("False, False", "False"))),
    P("exactly_one_true(a: bool, b: bool) -> bool", "Return True if exactly one of a and b is True.",
      (("True, False", "True"),), "return a != b",
      (("False, True", "True"), ("True, True", "False"), ("False, False", "False"))),
    P("count_true(flags: list[bool]) -> int", "Count how many values in the list are True.",
      (("[True, False, True]", "2"),), "return flags.count(True)",
      (("[]", "0"), ("[False, False]", "0"), ("[True, True]", "2"))),
    P("all_positive(numbers: list[int]) -> bool",
      "Return True if every number in the list is greater than zero; True for an empty list.",
      (("[1, 2, 3]", "True"), ("[1, -2]", "False")), "return all(n > 0 for n in numbers)",
      (("[]", "True"), ("[0]", "False"), ("[5]", "True"))),
    P("any_negative(numbers: list[int]) -> bool",
      "Return True if at least one number in the list is less than zero; False for an empty list.",
      (("[3, -1]", "True"), ("[1, 2]", "False")), "return any(n < 0 for n in numbers)",
      (("[]", "False"), ("[0]", "False"), ("[-7]", "True"))),
    P("same_length(first: str, second: str) -> bool",
      "Return True if the two strings have the same number of characters.",
      (("'cat', 'dog'", "True"), ("'hi', 'hey'", "False")), "return len(first) == len(second)",
      (("'', ''", "True"), ("'a', ''", "False"), ("'ab ', 'abc'", "True"))),
    P("char_at(text: str, index: int) -> str",
      "Return the character at position index of the text, counting from 0 (index is not negative); "
      "return '' if the text is too short to have that position.",
      (("'hello', 1", "'e'"),), "return text[index:index + 1]",
      (("'hello', 0", "'h'"), ("'abc', 3", "''"), ("'', 0", "''"))),
    P("times_table(n: int) -> list[int]", "Return the first ten multiples of n: n * 1, n * 2, ..., n * 10.",
      (("3", "[3, 6, 9, 12, 15, 18, 21, 24, 27, 30]"),), "return [n * k for k in range(1, 11)]",
      (("0", "[0, 0, 0, 0, 0, 0, 0, 0, 0, 0]"), ("1", "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]"),
       ("-2", "[-2, -4, -6, -8, -10, -12, -14, -16, -18, -20]"))),
    P("countdown(n: int) -> list[int]",
      "Return the numbers from n down to 1; an empty list if n is less than 1.",
      (("3", "[3, 2, 1]"),), "return list(range(n, 0, -1))",
      (("0", "[]"), ("1", "[1]"), ("-2", "[]"), ("5", "[5, 4, 3, 2, 1]"))),
    P("sum_to_n(n: int) -> int",
      "Return 1 + 2 + ... + n, the sum of the numbers from 1 to n; 0 if n is less than 1.",
      (("4", "10"),), "return sum(range(1, n + 1))",
      (("0", "0"), ("1", "1"), ("100", "5050"), ("-5", "0"))),
    P("distinct_count(items: list[int]) -> int", "Return how many different values the list holds.",
      (("[1, 2, 2, 3]", "3"),), "return len(set(items))",
      (("[]", "0"), ("[5, 5, 5]", "1"), ("[-1, 1]", "2"))),
    P("has_duplicates(items: list[str]) -> bool",
      "Return True if some value appears more than once in the list.",
      (("['a', 'b', 'a']", "True"), ("['a', 'b']", "False")), "return len(set(items)) < len(items)",
      (("[]", "False"), ("['x']", "False"), ("['A', 'a']", "False"), ("['z', 'z']", "True"))),
    P("last_digit(n: int) -> int", "Return the last digit of a non-negative integer.",
      (("1234", "4"),), "return n % 10",
      (("0", "0"), ("7", "7"), ("90", "0"))),
    P("parse_int(text: str) -> int",
      "Return the integer written in the text: digits, possibly after a leading '-'.",
      (("'123'", "123"),), "return int(text)",
      (("'0'", "0"), ("'-45'", "-45"), ("'007'", "7"))),
    P("is_vowel(char: str) -> bool",
      "Return True if the single character is a vowel: a, e, i, o or u, in either case.",
      (("'a'", "True"), ("'b'", "False")), "return char.lower() in 'aeiou'",
      (("'E'", "True"), ("'y'", "False"), ("' '", "False"), ("'U'", "True"))),
    P("initials(first: str, last: str) -> str",
      "Return the first letters of the two non-empty names as capitals, each followed by a dot.",
      (("'ada', 'lovelace'", "'A.L.'"),), "return first[0].upper() + '.' + last[0].upper() + '.'",
      (("'Bob', 'Smith'", "'B.S.'"), ("'x', 'y'", "'X.Y.'"), ("'Mary', 'ann'", "'M.A.'"))),
    P("pad_number(n: int, width: int) -> str",
      "Return the non-negative n as a string, with zeros added in front until it is at least width "
      "characters long.",
      (("7, 3", "'007'"),), "return str(n).zfill(width)",
      (("123, 2", "'123'"), ("0, 1", "'0'"), ("45, 4", "'0045'"))),
    P("mirror(text: str) -> str", "Return the text followed by the same text written backwards.",
      (("'ab'", "'abba'"),), "return text + text[::-1]",
      (("''", "''"), ("'x'", "'xx'"), ("'abc'", "'abccba'"))),
    P("replace_all(text: str, old: str, new: str) -> str",
      "Return the text with every occurrence of the non-empty string old replaced by new.",
      (("'I like cats', 'cats', 'dogs'", "'I like dogs'"),), "return text.replace(old, new)",
      (("'', 'a', 'b'", "''"), ("'aaa', 'a', 'b'", "'bbb'"), ("'no match', 'x', 'y'", "'no match'"),
       ("'a-b-c', '-', ''", "'abc'"))),
    P("strip_spaces(text: str) -> str",
      "Return the text without the spaces at its start and at its end; spaces between other characters stay.",
      (("'  hi there  '", "'hi there'"),), "return text.strip(' ')",
      (("''", "''"), ("'   '", "''"), ("'a b'", "'a b'"))),
    P("rectangle_perimeter(width: int, height: int) -> int",
      "Return the perimeter of a rectangle: the total length of its four sides.",
      (("3, 4", "14"),), "return 2 * (width + height)",
      (("0, 0", "0"), ("1, 1", "4"), ("10, 2", "24"))),
    P("value_range(numbers: list[int]) -> int",
      "Return the largest number minus the smallest number of a non-empty list.",
      (("[3, 9, 1]", "8"),), "return max(numbers) - min(numbers)",
      (("[5]", "0"), ("[-2, -8]", "6"), ("[4, 4]", "0"))),
    P("occurs_in(part: str, text: str) -> bool",
      "Return True if part occurs somewhere in the text; case matters, and an empty part always occurs.",
      (("'cat', 'concatenate'", "True"), ("'dog', 'concatenate'", "False")), "return part in text",
      (("'', 'abc'", "True"), ("'a', ''", "False"), ("'Cat', 'cat'", "False"))),
    P("last_word(sentence: str) -> str",
      "Return the last word of a sentence that has at least one word; words are separated by spaces.",
      (("'the quick fox'", "'fox'"),), "return sentence.split()[-1]",
      (("'one'", "'one'"), ("'a b  '", "'b'"), ("'  lead'", "'lead'"))),
    P("char_code(char: str) -> int",
      "Return the character code of the single character, the number ord() gives for it (65 for 'A').",
      (("'a'", "97"),), "return ord(char)",
      (("'A'", "65"), ("'0'", "48"), ("' '", "32"))),
)

# --- more with a loop or a condition ------------------------------------------------------------
# basic/130 ... basic/199, added with basic/60 ... basic/129.
MORE_LOOPS_AND_CONDITIONS = (
    P("running_max(numbers: list[int]) -> list[int]",
      "Return a list whose i-th element is the largest of the first i + 1 numbers.",
      (("[1, 3, 2, 5]", "[1, 3, 3, 5]"),),
      "result = []\nfor n in numbers:\n    result.append(n if not result else max(n, result[-1]))\n"
      "return result",
      (("[]", "[]"), ("[4]", "[4]"), ("[-1, -5, 0]", "[-1, -1, 0]"))),
    P("count_long_words(sentence: str, n: int) -> int",
      "Count the words of the sentence that have more than n characters; words are separated by spaces.",
      (("'the big elephant', 3", "1"),),
      "count = 0\nfor word in sentence.split():\n    if len(word) > n:\n        count += 1\nreturn count",
      (("'', 2", "0"), ("'aa bbb', 2", "1"), ("'one two', 0", "2"), ("'hi', 2", "0"))),
    P("second_largest(numbers: list[int]) -> int",
      "Return the second largest distinct number of a list that holds at least two different numbers.",
      (("[3, 5, 1]", "3"),), "distinct = sorted(set(numbers))\nreturn distinct[-2]",
      (("[5, 5, 4]", "4"), ("[1, 2]", "1"), ("[-1, -3, -2, -1]", "-2"))),
    P("collatz_steps(n: int) -> int",
      "Start from a positive n; while it is not 1, halve it if it is even, or else replace it by "
      "3 * n + 1. Return how many steps it takes to reach 1.",
      (("6", "8"),),
      "steps = 0\nwhile n != 1:\n    n = n // 2 if n % 2 == 0 else 3 * n + 1\n    steps += 1\nreturn steps",
      (("1", "0"), ("2", "1"), ("7", "16"))),
    P("caesar_shift(text: str, shift: int) -> str",
      "Move every lowercase letter a to z forward in the alphabet by shift places (0 to 25), wrapping "
      "round from z to a; all other characters stay as they are.",
      (("'abc', 1", "'bcd'"), ("'xyz', 3", "'abc'")),
      "result = ''\nfor char in text:\n    if 'a' <= char <= 'z':\n"
      "        char = chr((ord(char) - ord('a') + shift) % 26 + ord('a'))\n    result += char\nreturn result",
      (("'', 5", "''"), ("'hello world!', 0", "'hello world!'"), ("'Hi z', 1", "'Hj a'"))),
    P("ticket_price(age: int) -> int",
      "Return the ticket price for an age: 0 under 3, 5 from 3 to 12, 12 from 13 to 64, "
      "and 8 for 65 or older.",
      (("2", "0"), ("30", "12")),
      "if age < 3:\n    return 0\nif age <= 12:\n    return 5\nif age <= 64:\n    return 12\nreturn 8",
      (("0", "0"), ("3", "5"), ("12", "5"), ("13", "12"), ("64", "12"), ("65", "8"))),
    P("product(numbers: list[int]) -> int",
      "Return the product of all the numbers in the list; the product of an empty list is 1.",
      (("[2, 3, 4]", "24"),), "result = 1\nfor n in numbers:\n    result *= n\nreturn result",
      (("[]", "1"), ("[0, 5]", "0"), ("[-2, 3]", "-6"))),
    P("count_evens(numbers: list[int]) -> int", "Count the even numbers in the list.",
      (("[1, 2, 3, 4]", "2"),),
      "count = 0\nfor n in numbers:\n    if n % 2 == 0:\n        count += 1\nreturn count",
      (("[]", "0"), ("[1, 3]", "0"), ("[0, -2, 7]", "2"))),
    P("sum_of_evens(numbers: list[int]) -> int",
      "Return the sum of the even numbers in the list; 0 if there are none.",
      (("[1, 2, 3, 4]", "6"),), "return sum(n for n in numbers if n % 2 == 0)",
      (("[]", "0"), ("[1, 3]", "0"), ("[-2, 2, 5]", "0"), ("[10]", "10"))),
    P("max_index(numbers: list[int]) -> int",
      "Return the position of the largest number in a non-empty list, counting from 0; "
      "if it appears more than once, its first position.",
      (("[3, 9, 2]", "1"),),
      "best = 0\nfor i in range(1, len(numbers)):\n    if numbers[i] > numbers[best]:\n"
      "        best = i\nreturn best",
      (("[5]", "0"), ("[4, 4]", "0"), ("[-3, -1, -1]", "1"))),
    P("count_uppercase(text: str) -> int", "Count the capital letters A to Z in the text.",
      (("'Hello World'", "2"),),
      "count = 0\nfor char in text:\n    if 'A' <= char <= 'Z':\n        count += 1\nreturn count",
      (("''", "0"), ("'abc'", "0"), ("'ABC def G'", "4"))),
    P("is_anagram(first: str, second: str) -> bool",
      "Return True if the two words are made of exactly the same characters, each used the same number "
      "of times; case matters.",
      (("'listen', 'silent'", "True"), ("'abc', 'abd'", "False")), "return sorted(first) == sorted(second)",
      (("'', ''", "True"), ("'aab', 'abb'", "False"), ("'a', 'A'", "False"), ("'ab', 'ab'", "True"))),
    P("digits_of(n: int) -> list[int]",
      "Return the digits of a non-negative integer as a list of numbers, from the first digit to the last.",
      (("123", "[1, 2, 3]"),), "return [int(digit) for digit in str(n)]",
      (("0", "[0]"), ("7", "[7]"), ("1005", "[1, 0, 0, 5]"))),
    P("reverse_number(n: int) -> int",
      "Return the non-negative integer n with its digits in reverse order; "
      "zeros that end up in front are dropped.",
      (("123", "321"),),
      "result = 0\nwhile n > 0:\n    result = result * 10 + n % 10\n    n //= 10\nreturn result",
      (("0", "0"), ("120", "21"), ("5", "5"))),
    P("is_number_palindrome(n: int) -> bool",
      "Return True if the digits of n read the same backwards as forwards; a negative number never does.",
      (("121", "True"), ("123", "False")),
      "if n < 0:\n    return False\ntext = str(n)\nreturn text == text[::-1]",
      (("0", "True"), ("-121", "False"), ("10", "False"), ("4554", "True"))),
    P("count_in_range(numbers: list[int], low: int, high: int) -> int",
      "Count the numbers in the list that are at least low and at most high.",
      (("[1, 5, 10, 15], 5, 10", "2"),), "return sum(1 for n in numbers if low <= n <= high)",
      (("[], 0, 9", "0"), ("[3], 3, 3", "1"), ("[-5, 0, 5], -1, 1", "1"))),
    P("triangle_type(a: int, b: int, c: int) -> str",
      "Given the three side lengths of a triangle, return 'equilateral' if all three are equal, "
      "'isosceles' if exactly two are equal, and 'scalene' if no two are equal.",
      (("3, 3, 3", "'equilateral'"), ("3, 4, 5", "'scalene'")),
      "if a == b == c:\n    return 'equilateral'\nif a == b or b == c or a == c:\n    return 'isosceles'\n"
      "return 'scalene'",
      (("2, 2, 3", "'isosceles'"), ("4, 2, 4", "'isosceles'"), ("1, 5, 5", "'isosceles'"),
       ("7, 8, 9", "'scalene'"))),
    P("season(month: int) -> str",
      "Return the season of a month numbered 1 to 12: 'winter' for 12, 1 and 2, 'spring' for 3 to 5, "
      "'summer' for 6 to 8, and 'autumn' for 9 to 11.",
      (("1", "'winter'"), ("7", "'summer'")),
      "if month in (12, 1, 2):\n    return 'winter'\nif month <= 5:\n    return 'spring'\n"
      "if month <= 8:\n    return 'summer'\nreturn 'autumn'",
      (("12", "'winter'"), ("2", "'winter'"), ("3", "'spring'"), ("5", "'spring'"), ("6", "'summer'"),
       ("9", "'autumn'"), ("11", "'autumn'"))),
    P("days_in_month(month: int) -> int",
      "Return the number of days in a month numbered 1 to 12, in a year that is not a leap year.",
      (("2", "28"), ("4", "30")),
      "if month == 2:\n    return 28\nif month in (4, 6, 9, 11):\n    return 30\nreturn 31",
      (("1", "31"), ("12", "31"), ("9", "30"), ("7", "31"), ("8", "31"), ("11", "30"))),
    P("word_frequencies(sentence: str) -> dict[str, int]",
      "Return a dictionary mapping each word of the sentence to how many times it occurs; "
      "words are separated by spaces.",
      (("'a b a'", "{'a': 2, 'b': 1}"),),
      "counts = {}\nfor word in sentence.split():\n    counts[word] = counts.get(word, 0) + 1\nreturn counts",
      (("''", "{}"), ("'hi'", "{'hi': 1}"), ("'x  x x'", "{'x': 3}"))),
    P("invert_dict(data: dict[str, int]) -> dict[int, str]",
      "Return a new dictionary with the keys and values swapped; the values are all different.",
      (("{'a': 1, 'b': 2}", "{1: 'a', 2: 'b'}"),), "return {value: key for key, value in data.items()}",
      (("{}", "{}"), ("{'x': 0}", "{0: 'x'}"), ("{'p': -1, 'q': 5}", "{-1: 'p', 5: 'q'}"))),
    P("key_of_max(data: dict[str, int]) -> str",
      "Return the key with the largest value in a non-empty dictionary whose values are all different.",
      (("{'a': 3, 'b': 7, 'c': 5}", "'b'"),),
      "best = None\nfor key, value in data.items():\n    if best is None or value > data[best]:\n"
      "        best = key\nreturn best",
      (("{'z': 0}", "'z'"), ("{'x': -1, 'y': -5}", "'x'"), ("{'p': 2, 'q': 10}", "'q'"))),
    P("filter_by_min(data: dict[str, int], minimum: int) -> dict[str, int]",
      "Return a new dictionary with only the entries whose value is at least minimum.",
      (("{'a': 1, 'b': 5}, 3", "{'b': 5}"),),
      "return {key: value for key, value in data.items() if value >= minimum}",
      (("{}, 0", "{}"), ("{'x': 2}, 2", "{'x': 2}"), ("{'x': 1, 'y': 0}, 5", "{}"))),
    P("group_by_length(words: list[str]) -> dict[int, list[str]]",
      "Return a dictionary mapping each word length to the list of words of that length, "
      "in the order they appear.",
      (("['a', 'bb', 'c']", "{1: ['a', 'c'], 2: ['bb']}"),),
      "groups = {}\nfor word in words:\n    groups.setdefault(len(word), []).append(word)\nreturn groups",
      (("[]", "{}"), ("['hey']", "{3: ['hey']}"), ("['ab', 'cd', 'ab']", "{2: ['ab', 'cd', 'ab']}"))),
    P("compress(text: str) -> str",
      "Return the text with each run of the same character written as that character followed by "
      "the length of the run.",
      (("'aaabcc'", "'a3b1c2'"),),
      "result = ''\ni = 0\nwhile i < len(text):\n    j = i\n    while j < len(text) and text[j] == text[i]:\n"
      "        j += 1\n    result += text[i] + str(j - i)\n    i = j\nreturn result",
      (("''", "''"), ("'a'", "'a1'"), ("'abab'", "'a1b1a1b1'"), ("'zzzz'", "'z4'"))),
    P("alternating_sum(numbers: list[int]) -> int",
      "Return the first number minus the second, plus the third, minus the fourth, and so on; "
      "0 for an empty list.",
      (("[1, 2, 3, 4]", "-2"),),
      "total = 0\nfor i, n in enumerate(numbers):\n    total += n if i % 2 == 0 else -n\nreturn total",
      (("[]", "0"), ("[5]", "5"), ("[10, 3, 1]", "8"))),
    P("every_other(items: list[int]) -> list[int]",
      "Return the elements at positions 0, 2, 4 and so on: every other element, starting with the first.",
      (("[1, 2, 3, 4, 5]", "[1, 3, 5]"),), "return items[::2]",
      (("[]", "[]"), ("[7]", "[7]"), ("[1, 2]", "[1]"), ("[5, 6, 7, 8]", "[5, 7]"))),
    P("sum_pairs(first: list[int], second: list[int]) -> list[int]",
      "Return a list whose i-th element is first[i] + second[i]; the two lists have the same length.",
      (("[1, 2], [10, 20]", "[11, 22]"),), "return [a + b for a, b in zip(first, second)]",
      (("[], []", "[]"), ("[0], [0]", "[0]"), ("[-1, 5, 2], [1, -5, 3]", "[0, 0, 5]"))),
    P("first_negative(numbers: list[int]) -> int",
      "Return the first number in the list that is less than zero, or 0 if there is none.",
      (("[3, -1, -5]", "-1"),), "for n in numbers:\n    if n < 0:\n        return n\nreturn 0",
      (("[]", "0"), ("[1, 2]", "0"), ("[-7]", "-7"), ("[0, -2]", "-2"))),
    P("min_positive(numbers: list[int]) -> int",
      "Return the smallest number in the list that is greater than zero, or -1 if there is none.",
      (("[3, -2, 1, 5]", "1"),),
      "positives = [n for n in numbers if n > 0]\nreturn min(positives) if positives else -1",
      (("[]", "-1"), ("[0, -1]", "-1"), ("[9]", "9"), ("[4, 4, 2]", "2"))),
    P("digital_root(n: int) -> int",
      "Add up the digits of the non-negative n, then the digits of that sum, and so on until a single "
      "digit is left; return that digit.",
      (("38", "2"),), "while n >= 10:\n    n = sum(int(digit) for digit in str(n))\nreturn n",
      (("0", "0"), ("9", "9"), ("999", "9"), ("12345", "6"))),
    P("is_square(n: int) -> bool",
      "Return True if n is the square of a whole number (0, 1, 4, 9, 16, ...); negative numbers are not.",
      (("16", "True"), ("15", "False")), "k = 0\nwhile k * k < n:\n    k += 1\nreturn k * k == n",
      (("0", "True"), ("1", "True"), ("-4", "False"), ("26", "False"), ("100", "True"))),
    P("divisors(n: int) -> list[int]",
      "Return the positive numbers that divide the positive integer n exactly, from smallest to largest.",
      (("12", "[1, 2, 3, 4, 6, 12]"),), "return [d for d in range(1, n + 1) if n % d == 0]",
      (("1", "[1]"), ("13", "[1, 13]"), ("9", "[1, 3, 9]"))),
    P("is_perfect(n: int) -> bool",
      "Return True if the positive integer n equals the sum of its positive divisors smaller than "
      "itself, as 6 = 1 + 2 + 3 does.",
      (("6", "True"), ("8", "False")), "return n == sum(d for d in range(1, n) if n % d == 0)",
      (("1", "False"), ("28", "True"), ("12", "False"), ("496", "True"))),
    P("power(base: int, exponent: int) -> int",
      "Return base raised to the power exponent, which is not negative; any base to the power 0 is 1.",
      (("2, 10", "1024"),), "result = 1\nfor _ in range(exponent):\n    result *= base\nreturn result",
      (("5, 0", "1"), ("0, 3", "0"), ("-2, 3", "-8"), ("0, 0", "1"))),
    P("lcm(a: int, b: int) -> int",
      "Return the least common multiple of two positive integers: the smallest positive number "
      "that both of them divide.",
      (("4, 6", "12"),), "multiple = a\nwhile multiple % b != 0:\n    multiple += a\nreturn multiple",
      (("1, 1", "1"), ("5, 7", "35"), ("6, 3", "6"), ("8, 12", "24"))),
    P("count_primes(n: int) -> int",
      "Count the prime numbers (2, 3, 5, 7, 11, ...) that are less than or equal to n.",
      (("10", "4"),),
      "count = 0\nfor k in range(2, n + 1):\n    if all(k % d != 0 for d in range(2, k)):\n"
      "        count += 1\nreturn count",
      (("1", "0"), ("2", "1"), ("0", "0"), ("30", "10"))),
    P("sum_of_multiples(limit: int) -> int",
      "Return the sum of the positive numbers below limit that are divisible by 3 or by 5.",
      (("10", "23"),), "return sum(k for k in range(1, limit) if k % 3 == 0 or k % 5 == 0)",
      (("0", "0"), ("1", "0"), ("4", "3"), ("16", "60"))),
    P("binary_string(n: int) -> str",
      "Return the non-negative integer n written in binary, as a string of 0s and 1s without any prefix.",
      (("5", "'101'"),),
      "if n == 0:\n    return '0'\nbits = ''\nwhile n > 0:\n    bits = str(n % 2) + bits\n"
      "    n //= 2\nreturn bits",
      (("0", "'0'"), ("1", "'1'"), ("8", "'1000'"), ("255", "'11111111'"))),
    P("from_binary(bits: str) -> int",
      "Return the value of a non-empty string of 0s and 1s read as a binary number.",
      (("'101'", "5"),), "value = 0\nfor bit in bits:\n    value = value * 2 + int(bit)\nreturn value",
      (("'0'", "0"), ("'1'", "1"), ("'1111'", "15"), ("'0010'", "2"))),
    P("count_starting_with(sentence: str, letter: str) -> int",
      "Count the words of the sentence that begin with the given letter; case matters, "
      "and words are separated by spaces.",
      (("'big bad wolf', 'b'", "2"),),
      "return sum(1 for word in sentence.split() if word.startswith(letter))",
      (("'', 'a'", "0"), ("'Apple apple', 'a'", "1"), ("'x y z', 'q'", "0"))),
    P("acronym(phrase: str) -> str",
      "Return the first letters of the words of the phrase, as capitals; words are separated by spaces.",
      (("'portable network graphics'", "'PNG'"),),
      "return ''.join(word[0].upper() for word in phrase.split())",
      (("''", "''"), ("'hello'", "'H'"), ("'As soon as possible'", "'ASAP'"))),
    P("longest_run(numbers: list[int]) -> int",
      "Return the length of the longest stretch of equal numbers next to each other; 0 for an empty list.",
      (("[1, 1, 2, 2, 2, 3]", "3"),),
      "best = 0\ncurrent = 0\nfor i, n in enumerate(numbers):\n"
      "    current = current + 1 if i > 0 and n == numbers[i - 1] else 1\n    best = max(best, current)\n"
      "return best",
      (("[]", "0"), ("[5]", "1"), ("[1, 2, 3]", "1"), ("[4, 4, 1, 4, 4]", "2"))),
    P("count_peaks(numbers: list[int]) -> int",
      "Count the numbers that are larger than both their neighbours; the first and the last number "
      "are never counted.",
      (("[1, 3, 2, 5, 4]", "2"),),
      "count = 0\nfor i in range(1, len(numbers) - 1):\n"
      "    if numbers[i - 1] < numbers[i] > numbers[i + 1]:\n"
      "        count += 1\nreturn count",
      (("[]", "0"), ("[5]", "0"), ("[1, 2, 3]", "0"), ("[2, 9, 2, 2, 9, 2]", "2"), ("[3, 1]", "0"))),
    P("remove_all(items: list[int], target: int) -> list[int]",
      "Return the list without any element equal to target, keeping the other elements in order.",
      (("[1, 2, 1, 3], 1", "[2, 3]"),), "return [item for item in items if item != target]",
      (("[], 5", "[]"), ("[4, 4], 4", "[]"), ("[1, 2], 3", "[1, 2]"))),
    P("replace_negatives(numbers: list[int]) -> list[int]",
      "Return a new list in which every number less than zero is replaced by 0.",
      (("[3, -1, 2, -5]", "[3, 0, 2, 0]"),), "return [0 if n < 0 else n for n in numbers]",
      (("[]", "[]"), ("[0]", "[0]"), ("[-9]", "[0]"))),
    P("merge_sorted(first: list[int], second: list[int]) -> list[int]",
      "Merge two lists that are each sorted from smallest to largest into one sorted list.",
      (("[1, 4, 6], [2, 3, 7]", "[1, 2, 3, 4, 6, 7]"),), "return sorted(first + second)",
      (("[], []", "[]"), ("[1], []", "[1]"), ("[2, 2], [1, 2]", "[1, 2, 2, 2]"))),
    P("interleave(first: list[str], second: list[str]) -> list[str]",
      "Return a list taking one element of first, then one of second, and so on; "
      "the two lists have the same length.",
      (("['a', 'b'], ['1', '2']", "['a', '1', 'b', '2']"),),
      "result = []\nfor a, b in zip(first, second):\n    result += [a, b]\nreturn result",
      (("[], []", "[]"), ("['x'], ['y']", "['x', 'y']"), ("['a', 'a'], ['b', 'b']", "['a', 'b', 'a', 'b']"))),
    P("rotate_left(items: list[int], k: int) -> list[int]",
      "Move the first k elements of the list to its end, keeping their order; k is between 0 and the "
      "length of the list.",
      (("[1, 2, 3, 4, 5], 2", "[3, 4, 5, 1, 2]"),), "return items[k:] + items[:k]",
      (("[], 0", "[]"), ("[1, 2], 0", "[1, 2]"), ("[1, 2, 3], 3", "[1, 2, 3]"),
       ("[7, 8, 9], 1", "[8, 9, 7]"))),
    P("time_format(minutes: int) -> str",
      "Write a non-negative number of minutes as 'H:MM': the whole hours, a colon, then the minutes "
      "left over as two digits.",
      (("75", "'1:15'"),), "return str(minutes // 60) + ':' + str(minutes % 60).zfill(2)",
      (("0", "'0:00'"), ("5", "'0:05'"), ("600", "'10:00'"), ("59", "'0:59'"))),
    P("ordinal(n: int) -> str",
      "Return the positive n as a string followed by 'st', 'nd' or 'rd' if it ends in 1, 2 or 3 "
      "but not in 11, 12 or 13, and by 'th' otherwise.",
      (("1", "'1st'"), ("12", "'12th'")),
      "if n % 100 in (11, 12, 13):\n    return str(n) + 'th'\n"
      "return str(n) + {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')",
      (("2", "'2nd'"), ("3", "'3rd'"), ("4", "'4th'"), ("11", "'11th'"), ("13", "'13th'"), ("21", "'21st'"),
       ("102", "'102nd'"), ("111", "'111th'"))),
    P("is_strong_password(password: str) -> bool",
      "Return True if the password has at least 8 characters and at least one of them is a digit 0 to 9.",
      (("'secret123'", "True"), ("'short1'", "False")),
      "if len(password) < 8:\n    return False\nreturn any(char in '0123456789' for char in password)",
      (("'longpassword'", "False"), ("'12345678'", "True"), ("''", "False"), ("'abcdefg1'", "True"))),
    P("classify_char(char: str) -> str",
      "For a single character, return 'digit' for 0 to 9, 'vowel' for a, e, i, o, u in either case, "
      "'letter' for any other letter a to z or A to Z, and 'other' for anything else.",
      (("'a'", "'vowel'"), ("'7'", "'digit'")),
      "if char in '0123456789':\n    return 'digit'\nif char.lower() in 'aeiou':\n    return 'vowel'\n"
      "if 'a' <= char.lower() <= 'z':\n    return 'letter'\nreturn 'other'",
      (("'B'", "'letter'"), ("'E'", "'vowel'"), ("' '", "'other'"), ("'?'", "'other'"), ("'z'", "'letter'"))),
    P("water_state(celsius: int) -> str",
      "Return 'solid' for a water temperature of 0 degrees or less, 'gas' for 100 or more, and 'liquid' "
      "in between.",
      (("-5", "'solid'"), ("20", "'liquid'")),
      "if celsius <= 0:\n    return 'solid'\nif celsius >= 100:\n    return 'gas'\nreturn 'liquid'",
      (("0", "'solid'"), ("100", "'gas'"), ("1", "'liquid'"), ("99", "'liquid'"), ("150", "'gas'"))),
    P("hamming_distance(first: str, second: str) -> int",
      "Count the positions at which two strings of the same length have different characters.",
      (("'karolin', 'kathrin'", "3"),), "return sum(1 for a, b in zip(first, second) if a != b)",
      (("'', ''", "0"), ("'a', 'a'", "0"), ("'abc', 'xyz'", "3"), ("'10101', '10011'", "2"))),
    P("is_pangram(text: str) -> bool",
      "Return True if every letter of the alphabet, a to z, appears in the text, ignoring case.",
      (("'The quick brown fox jumps over the lazy dog'", "True"), ("'hello'", "False")),
      "lowered = text.lower()\nreturn all(letter in lowered for letter in 'abcdefghijklmnopqrstuvwxyz')",
      (("''", "False"), ("'abcdefghijklmnopqrstuvwxyz'", "True"), ("'ABCDEFGHIJKLMNOPQRSTUVWXY'", "False"))),
    P("balanced_parentheses(text: str) -> bool",
      "Return True if every ')' in the text closes an earlier '(' and no '(' is left open; "
      "other characters are ignored.",
      (("'(a(b)c)'", "True"), ("'())('", "False")),
      "depth = 0\nfor char in text:\n    if char == '(':\n        depth += 1\n    elif char == ')':\n"
      "        depth -= 1\n        if depth < 0:\n            return False\nreturn depth == 0",
      (("''", "True"), ("'('", "False"), ("')('", "False"), ("'()()'", "True"))),
    P("positions_of(items: list[int], target: int) -> list[int]",
      "Return the positions, counting from 0, of every element equal to target, in increasing order.",
      (("[1, 2, 1, 3, 1], 1", "[0, 2, 4]"),), "return [i for i, item in enumerate(items) if item == target]",
      (("[], 1", "[]"), ("[5], 6", "[]"), ("[7, 7], 7", "[0, 1]"))),
    P("split_even_odd(numbers: list[int]) -> tuple[list[int], list[int]]",
      "Return a tuple of two lists: the even numbers and then the odd numbers, each in their original order.",
      (("[1, 2, 3, 4]", "([2, 4], [1, 3])"),),
      "evens = []\nodds = []\nfor n in numbers:\n    if n % 2 == 0:\n        evens.append(n)\n    else:\n"
      "        odds.append(n)\nreturn (evens, odds)",
      (("[]", "([], [])"), ("[0]", "([0], [])"), ("[-1, -2, 5]", "([-2], [-1, 5])"))),
    P("above_average(numbers: list[int]) -> list[int]",
      "Return the numbers that are greater than the average (the mean) of the list, in their order; "
      "an empty list gives an empty list.",
      (("[1, 2, 3, 4]", "[3, 4]"),),
      "total = sum(numbers)\nreturn [n for n in numbers if n * len(numbers) > total]",
      (("[]", "[]"), ("[5, 5]", "[]"), ("[0, 10, 2]", "[10]"), ("[-3, -1]", "[-1]"))),
    P("closest_to_zero(numbers: list[int]) -> int",
      "Return the number of a non-empty list that is closest to zero; if a positive and a negative "
      "number are equally close, return the positive one.",
      (("[5, -2, 3]", "-2"),),
      "best = numbers[0]\nfor n in numbers:\n"
      "    if abs(n) < abs(best) or (abs(n) == abs(best) and n > best):\n"
      "        best = n\nreturn best",
      (("[7]", "7"), ("[-4, 4]", "4"), ("[4, -4]", "4"), ("[-9, -3, 10]", "-3"), ("[0, 1]", "0"))),
    P("fewest_coins(amount: int) -> int",
      "Return the smallest number of coins worth 25, 10, 5 and 1 that add up to amount, "
      "which is not negative.",
      (("30", "2"),),
      "count = 0\nfor coin in (25, 10, 5, 1):\n    count += amount // coin\n    amount %= coin\nreturn count",
      (("0", "0"), ("4", "4"), ("41", "4"), ("99", "9"))),
    P("count_consonants(text: str) -> int",
      "Count the letters a to z and A to Z in the text that are not vowels (a, e, i, o, u).",
      (("'hello'", "3"),),
      "count = 0\nfor char in text.lower():\n    if 'a' <= char <= 'z' and char not in 'aeiou':\n"
      "        count += 1\nreturn count",
      (("''", "0"), ("'aeiou'", "0"), ("'Rhythm 42!'", "6"))),
    P("sum_between(a: int, b: int) -> int",
      "Return the sum of all the whole numbers from a to b, both included; 0 if a is greater than b.",
      (("1, 4", "10"),), "return sum(range(a, b + 1))",
      (("3, 3", "3"), ("5, 1", "0"), ("-2, 2", "0"), ("-3, -1", "-6"))),
    P("safe_divide(a: int, b: int) -> int",
      "Return a divided by b with Python's integer division, a // b, or 0 when b is 0.",
      (("7, 2", "3"),), "if b == 0:\n    return 0\nreturn a // b",
      (("5, 0", "0"), ("0, 5", "0"), ("9, 3", "3"), ("-7, 2", "-4"))),
    P("most_frequent(items: list[int]) -> int",
      "Return the value that appears most often in a non-empty list; if several appear equally often, "
      "the one that appears first in the list.",
      (("[1, 3, 3, 2]", "3"),),
      "best = items[0]\nfor item in items:\n    if items.count(item) > items.count(best):\n"
      "        best = item\nreturn best",
      (("[5]", "5"), ("[1, 2]", "1"), ("[2, 1, 1, 2]", "2"), ("[4, -1, -1]", "-1"))),
    P("last_index_of(items: list[str], target: str) -> int",
      "Return the position of the last target in the list, counting from 0, or -1 if it is not there.",
      (("['a', 'b', 'a'], 'a'", "2"),),
      "for i in range(len(items) - 1, -1, -1):\n    if items[i] == target:\n        return i\nreturn -1",
      (("[], 'a'", "-1"), ("['x'], 'y'", "-1"), ("['q'], 'q'", "0"))),
    P("truncate(text: str, n: int) -> str",
      "If the text is longer than n characters, return its first n characters followed by '...'; "
      "otherwise return the text unchanged.",
      (("'hello world', 5", "'hello...'"),), "if len(text) > n:\n    return text[:n] + '...'\nreturn text",
      (("'hi', 5", "'hi'"), ("'', 0", "''"), ("'abc', 3", "'abc'"), ("'abcd', 0", "'...'"))),
    P("is_weekend(day: str) -> bool",
      "Return True if the day is 'Saturday' or 'Sunday', and False for any other day name such as 'Monday'.",
      (("'Saturday'", "True"), ("'Monday'", "False")), "return day in ('Saturday', 'Sunday')",
      (("'Sunday'", "True"), ("'Friday'", "False"), ("'Wednesday'", "False"))),
    P("total_points(results: list[str]) -> int",
      "Return the league points for a list of match results: 3 for each 'win', 1 for each 'draw' "
      "and 0 for each 'loss'.",
      (("['win', 'loss', 'draw']", "4"),),
      "points = {'win': 3, 'draw': 1, 'loss': 0}\nreturn sum(points[result] for result in results)",
      (("[]", "0"), ("['loss']", "0"), ("['win', 'win']", "6"), ("['draw', 'draw', 'draw']", "3"))),
)

PROBLEMS = ONE_LINERS + LOOPS_AND_CONDITIONS + MORE_ONE_LINERS + MORE_LOOPS_AND_CONDITIONS
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

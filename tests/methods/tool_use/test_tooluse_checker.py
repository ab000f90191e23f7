"""BFCL's AST rules, each accepting and rejecting, plus partial credit and the reward."""

import pytest

from prefgen.methods.tool_use.calls import ToolCall, parse_calls
from prefgen.methods.tool_use.checker import check_calls, normalise_string
from prefgen.records import Candidate, Prompt
from prefgen.registry import rewards

WEATHER = {
    "name": "get_weather",
    "description": "Weather for a city.",
    "parameters": {
        "type": "dict",
        "properties": {
            "city": {"type": "string"},
            "days": {"type": "integer"},
            "scale": {"type": "float"},
            "units": {"type": "string", "enum": ["metric", "imperial"]},
            "hours": {"type": "array", "items": {"type": "integer"}},
            "point": {"type": "tuple"},
            "options": {"type": "dict"},
            "verbose": {"type": "boolean"},
        },
        "required": ["city"],
    },
}
TIME = {
    "name": "get_time",
    "parameters": {"type": "dict", "properties": {"zone": {"type": "string"}}, "required": ["zone"]},
}
TOOLS = [WEATHER, TIME]


def truth(**params):
    return [{"get_weather": {"city": ["San Francisco", "SF"], **params}}]


def check(text, ground_truth, tools=TOOLS):
    parsed = parse_calls(text, "python")
    assert parsed.ok, parsed.error
    return check_calls(parsed.calls, ground_truth, tools)


def test_function_name():
    assert check("[get_weather(city='SF')]", truth()).valid
    result = check("[get_time(zone='SF')]", truth())
    assert not result.valid and result.error == "wrong_func_name" and result.name == 0


def test_required_parameter_present():
    result = check("[get_weather(days=1)]", truth(days=[1]))
    assert result.error == "missing_required"


def test_unexpected_parameter():
    assert check("[get_weather(city='SF', colour='red')]", truth()).error == "unexpected_param"
    # In the schema but not in the answer: also unexpected.
    assert check("[get_weather(city='SF', days=3)]", truth()).error == "unexpected_param"


def test_int_accepted_for_float_but_not_the_reverse_and_bool_is_not_int():
    assert check("[get_weather(city='SF', scale=2)]", truth(scale=[2.0])).valid
    assert check("[get_weather(city='SF', days=2.0)]", truth(days=[2])).error == "type_error:simple"
    assert check("[get_weather(city='SF', days=True)]", truth(days=[1])).error == "type_error:simple"
    assert check("[get_weather(city='SF', verbose=1)]", truth(verbose=[True])).error == "type_error:simple"
    assert check("[get_weather(city='SF', verbose=True)]", truth(verbose=[True])).valid


def test_tuple_as_list_and_array_items_one_level():
    assert check("[get_weather(city='SF', point=(1, 2))]", truth(point=[[1, 2]])).valid
    assert check("[get_weather(city='SF', hours=[1, 2])]", truth(hours=[[1, 2]])).valid
    assert (
        check("[get_weather(city='SF', hours=[1, 'x'])]", truth(hours=[[1, "x"]])).error
        == "type_error:nested"
    )


def test_string_normalisation():
    assert normalise_string("San Francisco, CA.") == "sanfranciscoca"
    assert check("[get_weather(city='san-francisco')]", truth()).valid
    assert check("[get_weather(city='S_F')]", truth()).valid
    assert check("[get_weather(city='Oakland')]", truth()).error == "value_error:string"


def test_lists_element_wise():
    assert check("[get_weather(city='SF', hours=[1, 2])]", truth(hours=[[1, 2], [3]])).valid
    assert check("[get_weather(city='SF', hours=[2, 1])]", truth(hours=[[1, 2]])).error == "value_error:list"
    assert check("[get_weather(city='SF', hours=[1])]", truth(hours=[[1, 2]])).error == "value_error:list"


def test_dicts_key_by_key():
    allowed = [{"lang": ["en", "EN"], "detail": ["", "high"]}]
    assert check("[get_weather(city='SF', options={'lang': 'en'})]", truth(options=allowed)).valid
    assert check(
        "[get_weather(city='SF', options={'lang': 'EN', 'detail': 'high'})]", truth(options=allowed)
    ).valid
    assert (
        check("[get_weather(city='SF', options={'lang': 'fr'})]", truth(options=allowed)).error
        == "value_error:dict"
    )
    assert (
        check("[get_weather(city='SF', options={'detail': 'high'})]", truth(options=allowed)).error
        == "value_error:dict"
    )
    assert (
        check("[get_weather(city='SF', options={'lang': 'en', 'x': 1})]", truth(options=allowed)).error
        == "value_error:dict"
    )


def test_other_values_by_membership():
    assert check("[get_weather(city='SF', days=3)]", truth(days=[3, 4])).valid
    assert check("[get_weather(city='SF', days=5)]", truth(days=[3, 4])).error == "value_error:others"


def test_optional_parameters_and_missing_answer_parameters():
    assert check("[get_weather(city='SF')]", truth(units=["", "metric"])).valid
    assert check("[get_weather(city='SF', units='metric')]", truth(units=["", "metric"])).valid
    assert check("[get_weather(city='SF')]", truth(units=["metric"])).error == "missing_optional"


def test_parallel_calls_any_order_and_wrong_count():
    gt = [{"get_time": {"zone": ["UTC"]}}, {"get_weather": {"city": ["SF"]}}]
    assert check("[get_weather(city='SF'), get_time(zone='UTC')]", gt).valid
    assert check("[get_time(zone='UTC'), get_weather(city='SF')]", gt).valid
    assert check("[get_time(zone='UTC'), get_weather(city='LA')]", gt).error == "parallel:cannot_find_match"
    result = check("[get_time(zone='UTC')]", gt)
    assert result.error == "wrong_count" and 0 < result.name < 1
    assert check("[get_weather(city='SF'), get_weather(city='SF')]", truth()).error == "wrong_count"


def test_no_call_examples():
    assert check_calls([], [], TOOLS).valid
    assert check("[get_time(zone='UTC')]", []).error == "irrelevance:made_a_call"
    assert check_calls([], truth(), TOOLS).error == "no_call"


def test_partial_credit_orders_answers_by_closeness():
    gt = truth(days=[3])
    wrong_value = check("[get_weather(city='SF', days=4)]", gt)
    wrong_key = check("[get_weather(city='SF', weeks=3)]", gt)
    wrong_name = check("[get_time(zone='SF')]", gt)
    assert (wrong_value.name, wrong_value.keys, wrong_value.values) == (1.0, 1.0, 0.5)
    assert wrong_key.keys < 1 and wrong_key.values < 1
    assert wrong_name.name == wrong_name.keys == wrong_name.values == 0


def test_bad_ground_truth_is_a_clear_error():
    with pytest.raises(ValueError, match="ground truth"):
        check_calls([ToolCall("f", {})], [{"f": {"a": 1}}], [])


def item(text, task):
    prompt = Prompt(id="p", prompt="q", task=task)
    return prompt, Candidate(id=text, prompt_id="p", sample_index=0, text=text)


def test_tool_call_reward_scores_and_explains():
    reward = rewards.build("tool_call", {"format": "auto"})
    task = {"tools": TOOLS, "ground_truth": truth(days=[3])}
    texts = [
        "[get_weather(city='SF', days=3)]",
        '{"name": "get_weather", "arguments": {"city": "SF", "days": 3}}',
        "[get_weather(city='SF', days=4)]",
        "I think it is sunny",
        "[get_weather(city='SF', days=3**99)]",
    ]
    results = reward.score_safely([item(t, task) for t in texts])
    assert [r.score for r in results[:2]] == [1.0, 1.0]
    assert (
        results[2].score == pytest.approx(0.2 + 0.3 + 0.3 * 0.5)
        and results[2].details["error"] == "value_error:others"
    )
    assert results[3].score == 0 and results[3].details["error"] == "parse_error"
    assert results[4].score == 0 and "not a literal" in results[4].details["parse_error"]
    no_call = {"tools": TOOLS, "ground_truth": []}
    scores = [
        r.score
        for r in reward.score_safely(
            [item("The answer needs no tool.", no_call), item("[get_time(zone='x')]", no_call)]
        )
    ]
    assert scores == [1.0, 0.0]


def test_broken_call_text_is_not_a_right_answer_to_a_request_that_needs_no_call():
    no_call = {"tools": TOOLS, "ground_truth": []}
    answers = ["I cannot do that with these tools.", "[]", " [round(number==.[round )]", "{'name': ", "x = f(1"]
    strict = rewards.build("tool_call", {})
    results = [strict.score_text(text, no_call) for text in answers]
    assert [r.score for r in results] == [1.0, 1.0, 0.0, 0.0, 0.0]
    assert {r.details["error"] for r in results[2:]} == {"irrelevance:broken_call"}
    bfcl = rewards.build("tool_call", {"prose_only_no_call": False})  # BFCL: undecodable = no call
    assert [bfcl.score_text(text, no_call).score for text in answers] == [1.0] * 5


DATE = {"name": "make_date", "parameters": {"type": "dict", "required": ["year", "month", "day"], "properties": {
    "year": {"type": "integer"}, "month": {"type": "integer"}, "day": {"type": "integer"},
    "tz": {"type": "string"}}}}


def test_positional_arguments_are_refused_unless_bound_in_bind():
    truth_date = [{"make_date": {"year": [2002], "month": [1], "day": [19], "tz": ["", "UTC"]}}]
    task = {"tools": [DATE, TIME], "ground_truth": truth_date}
    strict = rewards.build("tool_call", {})
    assert strict.score_text("[make_date(2002, 1, 19)]", task).details["error"] == "parse_error"
    bound = rewards.build("tool_call", {"positional_arguments": "bind"})
    # the properties' order may not survive storage (JSON keys can come back sorted): it must not matter
    sorted_keys = {**DATE, "parameters": {**DATE["parameters"], "properties": dict(sorted(DATE["parameters"]["properties"].items()))}}
    for tools in ([DATE, TIME], [sorted_keys, TIME]):
        task = {"tools": tools, "ground_truth": truth_date}
        verdicts = {
            "[make_date(2002, 1, 19)]": True,  # year, month, day: the order `required` lists them
            "[make_date(2002, 1, 19, 'UTC')]": True,  # then the one optional parameter
            "[make_date(2002, 1, day=19)]": True,
            "[make_date(year=2002, month=1, day=19)]": True,  # keyword calls score as before
            "[make_date(19, 1, 2002)]": False,  # parsed: year=19, day=2002 are wrong values
            "[get_time('UTC')]": False,  # the wrong function, bound to its own parameters
        }
        for text, valid in verdicts.items():
            result = bound.score_text(text, task)
            assert (result.score == 1.0) is valid and result.details["error"] != "parse_error", (text, result)
    too_many = bound.score_text("[make_date(2002, 1, 19, 'UTC', 5)]", task)
    assert too_many.score == 0 and "at most 4" in too_many.details["parse_error"]
    twice = bound.score_text("[make_date(2002, 1, 19, year=2002)]", task)
    assert twice.score == 0 and "both by position and by name" in twice.details["parse_error"]
    weather = {"tools": TOOLS, "ground_truth": truth(days=[3])}  # city required, seven optional parameters
    assert bound.score_text("[get_weather('SF', days=3)]", weather).score == 1.0
    ambiguous = bound.score_text("[get_weather('SF', 3)]", weather)
    assert ambiguous.score == 0 and "give them by name" in ambiguous.details["parse_error"]
    starred = bound.score_text("[get_weather(*['SF'])]", weather)
    assert starred.score == 0 and "unpacking" in starred.details["parse_error"]
    unknown = bound.score_text("[float('nan')]", weather)  # not a tool: its arguments are dropped, name wrong
    assert unknown.score < 1 and unknown.details["error"] == "wrong_func_name"


def test_tool_call_reward_params_and_task_checks():
    with pytest.raises(ValueError, match="below 1"):
        rewards.build("tool_call", {"name_weight": 0.5, "keys_weight": 0.5})
    with pytest.raises(ValueError):
        rewards.build("tool_call", {"format": "xml"})
    reward = rewards.build("tool_call", {})
    assert reward.task_problem({"tools": [], "ground_truth": []}) is None
    assert "task.tools" in reward.task_problem({"ground_truth": []})
    assert "task.ground_truth" in reward.task_problem({"tools": [], "ground_truth": {"f": {}}})
    assert "do not pass" in reward.task_problem(
        {"tools": [WEATHER], "ground_truth": [{"get_weather": {"days": [1]}}]}
    )
    assert reward.task_problem({"tools": [], "ground_truth": [], "problem": "multi-turn"}) == "multi-turn"

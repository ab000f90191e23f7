"""Chat prompts from the built-in sources, for an instruction-tuned model (``prompt_style: chat``).

The plain-text defaults must stay exactly as they were (published datasets are fingerprinted by
their rows); the chat forms must carry what each method's model needs: the documentation to quote,
permission to say "I don't know", the tools and an example call.
"""

import pytest

from prefgen.config import PromptsConfig
from prefgen.methods.quote import stdlib_docs
from prefgen.methods.refusal import stdlib_facts
from prefgen.methods.tool_use import stdlib_tools
from prefgen.methods.tool_use.calls import parse_calls
from prefgen.methods.tool_use.task import render_prompt
from prefgen.sources.reader import read_prompts


def test_stdlib_docs_defaults_are_unchanged_and_chat_keeps_task_and_split():
    text = stdlib_docs.load_rows(limit=20)
    assert all(row["prompt"] == stdlib_docs.question_prompt(row["task"]["object"]) for row in text)
    chat = stdlib_docs.load_rows(limit=20, prompt_style="chat")
    assert [(r["task"], r["split"], r["source"]) for r in chat] == [(r["task"], r["split"], r["source"]) for r in text]
    for row in chat:
        (turn,) = row["prompt"]
        name = stdlib_docs.display_name(row["task"]["object"])
        assert turn["role"] == "user" and f"`{name}`" in turn["content"]
        assert row["task"]["reference"] not in turn["content"]  # no documentation unless asked


def test_stdlib_docs_documentation_puts_the_asked_objects_docstring_in_the_turn():
    rows = stdlib_docs.load_rows(limit=20, prompt_style="chat", documentation=True)
    for row in rows:
        content = row["prompt"][0]["content"]
        assert row["task"]["reference"] in content
        assert content.startswith(f"Here is the documentation of `{stdlib_docs.display_name(row['task']['object'])}`")
        assert "copying the documentation's own words" in content
    assert row["task"]["object"] in row["task"]["relevant_docs"]  # grounding still names the asked object


def test_stdlib_docs_rejects_documentation_without_chat_and_unknown_styles():
    with pytest.raises(ValueError, match="needs prompt_style: chat"):
        stdlib_docs.load_rows(limit=2, documentation=True)
    with pytest.raises(ValueError, match="prompt_style"):
        stdlib_docs.load_rows(limit=2, prompt_style="markdown")


def test_stdlib_facts_chat_has_the_permission_to_abstain_and_the_same_tasks():
    text = stdlib_facts.load_rows(limit=30)
    chat = stdlib_facts.load_rows(limit=30, prompt_style="chat")
    assert all(row["prompt"].startswith("Question: ") for row in text)
    assert [r["task"] for r in chat] == [r["task"] for r in text]
    assert [r["split"] for r in chat] == [r["split"] for r in text]
    system, user = chat[0]["prompt"]
    assert system == {"role": "system", "content": stdlib_facts.CHAT_INSTRUCTION}
    assert "I don't know." in system["content"]
    assert user == {"role": "user", "content": chat[0]["task"]["question"]}
    own = stdlib_facts.load_rows(limit=1, prompt_style="chat", instruction="Be brief.")
    assert own[0]["prompt"][0]["content"] == "Be brief."
    with pytest.raises(ValueError, match="instruction needs prompt_style: chat"):
        stdlib_facts.load_rows(limit=1, instruction="Be brief.")


def test_stdlib_tools_chat_shows_the_tools_and_an_example_call_that_parses():
    text = stdlib_tools.load_rows(per_template=2)
    chat = stdlib_tools.load_rows(per_template=2, prompt_style="chat")
    assert all(r["prompt"] == render_prompt(r["task"]["tools"], r["task"]["request"]) for r in text)
    assert [r["task"] for r in chat] == [r["task"] for r in text]
    for row in chat:
        system, example, answer, user = row["prompt"]
        assert system["role"] == "system" and user == {"role": "user", "content": row["task"]["request"]}
        assert example["role"] == "user" and stdlib_tools.EXAMPLE_REQUEST in example["content"]
        assert answer == {"role": "assistant", "content": stdlib_tools.EXAMPLE_ANSWER}
        for tool in row["task"]["tools"]:
            assert f"- {tool['name']}(" in system["content"]
    assert stdlib_tools.EXAMPLE_TOOL["name"] not in stdlib_tools.TOOLS  # nothing to copy from the example
    parsed = parse_calls(stdlib_tools.EXAMPLE_ANSWER, "python")
    assert parsed.ok and parsed.calls[0].name == "string.capwords"
    with pytest.raises(ValueError, match="prompt_style"):
        stdlib_tools.load_rows(limit=1, prompt_style="json")


def test_the_reader_passes_the_options_and_marks_the_prompts_as_chat():
    config = PromptsConfig(source="builtin:stdlib_docs", limit=5,
                           options={"prompt_style": "chat", "documentation": True})
    prompts = read_prompts(config).prompts
    assert len(prompts) == 5 and all(p.is_chat for p in prompts)
    assert prompts[0].task["reference"] in prompts[0].prompt[0].content
    bad = PromptsConfig(source="builtin:stdlib_facts", options={"prompt_style": "xml"})
    with pytest.raises(Exception, match="prompt_style"):
        read_prompts(bad)

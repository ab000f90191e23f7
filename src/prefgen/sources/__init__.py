"""Where prompts come from: files, saved datasets, hub datasets, and built-in sets.

Built-in sets are named ``builtin:NAME`` in a pipeline's ``prompts.source``. Each is a function
returning rows ``{"prompt": str | list[message], "task": dict, "source": str}`` and may take
keyword options from ``prompts.options``.
"""

from __future__ import annotations

# name -> "module:function"; imported only when used.
BUILTIN_SOURCES: dict[str, str] = {
    "humaneval": "prefgen.sources.humaneval:load_rows",
    "stdlib_docs": "prefgen.sources.stdlib_docs:load_rows",
    "mbpp": "prefgen.sources.mbpp_format:load_rows",
    "qa": "prefgen.sources.qa_format:load_rows",
    "stdlib_facts": "prefgen.sources.stdlib_facts:load_rows",
}

"""Tool use (iTool): tree search over the steps of tool calls, checked by BFCL's AST rules.

Parsing and checking calls (:mod:`calls`, :mod:`checker`), steps and trees (:mod:`steps`,
:mod:`tree`), the search as a generation strategy (:mod:`tree_search`, expanding nodes through
:mod:`prefgen.generation.engine_jobs`), pairs
from the trees (:mod:`pairs`, :mod:`tree_pairing`), the requests (:mod:`stdlib_tools`,
:mod:`bfcl`) and the demo policy. The search parts import no engine: they run against injected
callables, so they are tested without vLLM. See README.md beside this file.
"""

PLUGINS = {
    "reward": {"tool_call": "prefgen.methods.tool_use.reward:ToolCallReward"},
    "pairing strategy": {"tree": "prefgen.methods.tool_use.tree_pairing:TreePairing"},
    "prompt source": {
        "bfcl": "prefgen.methods.tool_use.sources:BfclSource",
        "stdlib_tools": "prefgen.methods.tool_use.sources:StdlibToolsSource",
    },
    "generation strategy": {"tree_search": "prefgen.methods.tool_use.tree_search:TreeSearchStrategy"},
    "model": {"demo:tools": "prefgen.methods.tool_use.demo_policy:tools_policy_dir"},
}

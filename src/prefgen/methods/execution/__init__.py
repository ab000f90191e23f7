"""Execution feedback (LeTI): programs run against their tests in the sandbox.

See README.md beside this file. Plug-ins, imported only when used:
"""

PLUGINS = {
    "reward": {"execution": "prefgen.methods.execution.reward:ExecutionReward"},
    "prompt source": {
        "humaneval": "prefgen.methods.execution.sources:HumanEvalSource",
        "basic_python": "prefgen.methods.execution.sources:BasicPythonSource",
        "mbpp": "prefgen.methods.execution.sources:MbppSource",
    },
}

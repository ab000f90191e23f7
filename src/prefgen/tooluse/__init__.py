"""Tool-use parts of the iTool method: parsing and checking calls, steps, tree search, selection.

Each module is self-contained and imports no engine: the search runs against injected callables,
so it can be tested without vLLM and wired into any generation strategy.
"""

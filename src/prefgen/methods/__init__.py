"""prefgen's own methods, one package each, over the core.

Each method package holds its rewards, pairing, prompt sources, generation strategy, loop metrics
and demo policy or data, and a README.md (the paper, the definition the code computes, its knobs,
the figures measured on its demo). Its ``__init__`` is light: a ``PLUGINS`` table naming its
plug-ins by ``"module:Object"``, announced in the ``prefgen.methods`` entry-point group
(``pyproject.toml``), so the core finds them without importing any method by name.
"""

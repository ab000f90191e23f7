"""Where prompts come from: files, saved datasets, hub datasets, and source plug-ins.

Plug-ins are named ``builtin:NAME`` (registered in :data:`prefgen.registry.prompt_sources`) or by
import path ``package.module:Class`` in a pipeline's ``prompts.source``; their keyword options,
``prompts.options``, are validated by the class's ``Params`` (see :mod:`prefgen.sources.base`).
"""

"""The stages of a run, each a module with typed inputs and outputs: read, generate (with
scoring as shards are written), pair, publish. :mod:`prefgen.pipeline` runs them in order."""


class RunFailed(Exception):
    """The run could not finish; the message says why. Published versions are untouched."""

"""Trusted corpora for the ``quote`` reward: normalisation, infini-gram indexes, exact QUIP.

- :mod:`prefgen.corpus.normalise`: the whitespace normalisation shared by corpus and responses.
- :mod:`prefgen.corpus.reader`: reading jsonl / parquet / ``save_to_disk`` corpora.
- :mod:`prefgen.corpus.build`: ``build_index`` and ``index_info``.
- :mod:`prefgen.corpus.index`: the on-disk layout and the validating loader ``CorpusIndex``.
- :mod:`prefgen.corpus.suffix_search` and :mod:`prefgen.corpus.quip`: the exact, batched scorer.
- :mod:`prefgen.methods.quote.demo_index`: the standard-library docstring index used by the demo.
- :mod:`prefgen.corpus.cli`: the ``prefgen index`` commands.
"""

"""Quote-Tuning: answers that quote a trusted corpus verbatim, scored by QUIP over suffix arrays.

See README.md beside this file. Plug-ins, imported only when used:
"""

PLUGINS = {
    "reward": {"quote": "prefgen.methods.quote.reward:QuoteReward"},
    "pairing strategy": {"quote_tuning": "prefgen.methods.quote.pairing:QuoteTuning"},
    "prompt source": {"stdlib_docs": "prefgen.methods.quote.sources:StdlibDocsSource"},
    "model": {"demo": "prefgen.methods.quote.demo_policy:demo_policy_dir"},
}

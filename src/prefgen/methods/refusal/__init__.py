"""Refusal awareness (R-Tuning and its preference-data follow-ups).

The parts, each a module: :mod:`answers` (is a short answer correct?), :mod:`detector` (is it a
refusal?), :mod:`classify` (correct / wrong / refusal / hedged / unscorable), :mod:`knowledge`
(does the policy know a question's answer?), :mod:`pairing` (which pairs teach it to answer what
it knows and refuse the rest), :mod:`records` (R-Tuning's own SFT records) and :mod:`metrics`
(answer rate, refusal and hallucination rates, AP). See README.md beside this file.
"""

PLUGINS = {
    "reward": {"refusal": "prefgen.methods.refusal.reward:RefusalReward"},
    "pairing strategy": {"refusal": "prefgen.methods.refusal.pairing:RefusalPairing"},
    "prompt source": {
        "qa": "prefgen.methods.refusal.sources:QaSource",
        "stdlib_facts": "prefgen.methods.refusal.sources:StdlibFactsSource",
        "arithmetic": "prefgen.methods.refusal.sources:ArithmeticSource",
    },
    "model": {"demo:facts": "prefgen.methods.refusal.demo_policy:facts_policy_dir"},
}

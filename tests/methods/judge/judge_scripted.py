"""A scripted stand-in for a judge engine: it answers like ``VLLMGenerator.generate`` (runs a
job's ``run_on_engine`` with itself; otherwise one reply dict per request), and its replies come
from a script keyed by the two answers' words, so tests know what the judge "thinks".

Used by the fast tests only; the slow tests run the same jobs on real vLLM engines.
"""

from __future__ import annotations

import re
from typing import Any

from prefgen.executors.local_runtime import LocalEngines
from prefgen.executors.runtime import Runtime

# (answer shown as A, answer shown as B) -> reply. Anything unscripted gets "[[abstain]]".
PAIRWISE = {
    ("red", "blue"): "Answer A is better. [[A]]",
    ("blue", "red"): "[[B]]",  # red wins in both orders
    ("green", "gray"): "[[A]]",
    ("gray", "green"): "[[A]]",  # the judge prefers position A: a flip
    ("pink", "teal"): "They are equal [[tie]]",
    ("teal", "pink"): "[[C]]",  # MT-bench's tie letter
    ("gold", "jade"): "I cannot decide {answer}",  # garbage every time
    ("jade", "gold"): "zzz",
}
POINTWISE = {"red": "[[9]]", "blue": "[[3]]", "green": "[[3]]", "gray": "[[abstain]]", "gold": "no idea", "pink": "[[11]]"}


def reply_for(messages: list[dict[str, str]], attempt_seed: int) -> str:
    text = messages[-1]["content"]
    pair = re.search(r"\[Answer A\]\n(\w+)\n\n\[Answer B\]\n(\w+)", text)
    if pair:
        return PAIRWISE.get((pair.group(1), pair.group(2)), "[[abstain]]")
    answer = re.search(r"\[Answer\]\n(\w+)", text)
    return POINTWISE.get(answer.group(1), "[[abstain]]") if answer else "?"


class ScriptedEngine:
    """Replies from the script; counts batched calls and the requests in them."""

    def __init__(self, script=reply_for):
        self.script = script
        self.calls: list[int] = []  # requests per generate call
        self.tokenizer = None

    def generate(self, requests: Any) -> Any:
        run_on_engine = getattr(requests, "run_on_engine", None)
        if run_on_engine is not None:
            return run_on_engine(self)
        self.calls.append(len(requests))
        out = []
        for request in requests:
            text = self.script(request.prompt, request.sampling["seed"])
            completion = {"text": text, "num_tokens": len(text.split()), "finish_reason": "stop"}
            out.append({"completions": [completion] * request.sampling["n"]})
        return out


class ScriptedRuntime(Runtime):
    """A runtime whose engines are one scripted engine (what ``runtime: local`` does, minus vLLM)."""

    name = "scripted"

    def __init__(self, engine: ScriptedEngine | None = None):
        self.engine = engine or ScriptedEngine()
        self.started: list[str] = []  # model paths engines were started for
        self.released = 0
        self._live: dict[str, LocalEngines] = {}

    def scoring_jobs(self, reward_name, reward_params):
        from prefgen.executors.local_runtime import LocalRuntime

        return LocalRuntime.scoring_jobs(self, reward_name, reward_params)

    def engines(self, model_path, fingerprint, model):
        self.started.append(model_path)
        self._live = {fingerprint: LocalEngines(self.engine)}
        return self._live[fingerprint]

    def live_engines(self, fingerprint):
        return self._live.get(fingerprint)

    def release_engines(self):
        self.released += 1
        self._live = {}

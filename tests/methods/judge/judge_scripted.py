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


# --- a real model with scripted replies, for the slow tests on vLLM -------------------------
# A short rubric keeps the sequences short: the tiny model learns each (A, B) -> reply by heart.
RUBRIC = {"system": None, "pairwise": "[Answer A]\n{answer_a}\n\n[Answer B]\n{answer_b}\n\nVerdict:"}


def scripted_texts(tokenizer) -> list[tuple[str, str]]:
    """(prompt as the engine renders it, reply) for every scripted pairwise judgement."""
    from prefgen.methods.judge.rubric import Rubric, messages

    rubric = Rubric(**RUBRIC)
    out = []
    for (a, b), reply in PAIRWISE.items():
        chat = messages(rubric, rubric.pairwise, {"answer_a": a, "answer_b": b})
        out.append((tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True), reply))
    return out


def build_scripted_judge(out_dir, steps: int = 200) -> str:
    """A tiny Llama (head_dim 64) trained until its greedy reply to each scripted judgement is the
    script's: the loss is on the reply tokens only. Returns the model directory."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from prefgen.demo.tiny_model import CHAT_TEMPLATE, train_tokenizer

    words = " ".join(w for pair in PAIRWISE for w in pair)
    tokenizer = train_tokenizer([f"{words} {reply} {RUBRIC['pairwise']} {CHAT_TEMPLATE}" for reply in PAIRWISE.values()] * 4,
                                vocab_size=400)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=128, intermediate_size=256, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=256,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id, tie_word_embeddings=False)
    torch.manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny model: one thread is far faster than several fighting for shared cores
    model = LlamaForCausalLM(config)
    rows = []
    for prompt, reply in scripted_texts(tokenizer):
        prompt_ids = tokenizer.encode(prompt, add_special_tokens=False)
        reply_ids = tokenizer.encode(reply, add_special_tokens=False) + [tokenizer.eos_token_id]
        rows.append((prompt_ids + reply_ids, [-100] * len(prompt_ids) + reply_ids))
    width = max(len(ids) for ids, _ in rows)
    ids = torch.tensor([i + [tokenizer.pad_token_id] * (width - len(i)) for i, _ in rows])
    labels = torch.tensor([lab + [-100] * (width - len(lab)) for _, lab in rows])
    mask = torch.tensor([[1] * len(i) + [0] * (width - len(i)) for i, _ in rows])
    optimiser = torch.optim.AdamW(model.parameters(), lr=3e-3)
    for _ in range(steps):
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    torch.set_num_threads(threads)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return str(out_dir)

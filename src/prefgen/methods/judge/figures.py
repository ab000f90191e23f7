"""The judge's figures, for the card's judge section and ``version.json``: how often the judge
flipped with the answers' positions, tied, abstained and failed, how many retries it needed, and
what it cost (reply tokens, engine seconds)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

from prefgen.card import key_value_table
from prefgen.records import Scored


def judge_details(row: Scored) -> Iterator[dict[str, Any]]:
    """The judge's details of a scored row: its own, or those of a ``combined`` component."""
    if "judge" in row.details:
        yield row.details["judge"]
    for component in row.details.get("components", {}).values():
        inner = (component or {}).get("details") or {}
        if "judge" in inner:
            yield inner["judge"]


def judge_figures(scored: Sequence[Scored]) -> dict[str, Any]:
    """Counts and rates over every judgement in ``scored`` (a pairwise comparison counted once)."""
    verdicts: Counter = Counter()
    attempts = requests = tokens = vetoed = 0
    seconds = 0.0
    mode = None
    for row in scored:
        for judge in judge_details(row):
            mode = judge["mode"]
            if mode == "pointwise":
                verdicts[judge["verdict"]] += 1
                attempts, requests = attempts + judge["attempts"], requests + 1
                tokens, seconds = tokens + judge["tokens"], seconds + judge["seconds"]
                continue
            for comp in judge["comparisons"]:
                if comp["primary"]:
                    verdicts[comp["verdict"]] += 1
                    vetoed += bool(comp.get("vetoed"))
                    attempts, requests = attempts + comp["attempts"], requests + 2
                    tokens, seconds = tokens + comp["tokens"], seconds + comp["seconds"]
    judgements = sum(verdicts.values())
    figures: dict[str, Any] = {"mode": mode, "judgements": judgements, "verdicts": dict(sorted(verdicts.items()))}
    figures["abstain_rate"] = _rate(verdicts["abstain"], judgements)
    figures["failed"] = verdicts["failed"]
    figures["failure_rate"] = _rate(verdicts["failed"], judgements)
    if mode == "pairwise":
        answered = verdicts["win"] + verdicts["loss"] + verdicts["tie"] + verdicts["flip"]
        figures["position_flip_rate"] = _rate(verdicts["flip"], answered)  # of comparisons both orders answered
        figures["tie_rate"] = _rate(verdicts["tie"], judgements)
        figures["agreed"] = verdicts["win"] + verdicts["loss"] + verdicts["tie"]
        figures["vetoed"] = vetoed
    figures["retries"] = attempts - requests  # engine requests beyond the first per judgement
    figures["reply_tokens"] = tokens
    figures["engine_seconds"] = round(seconds, 3)
    return figures


def render_judge_section(figures: dict[str, Any], model: str, mode: str) -> str:
    """The card's judge section."""
    if not figures["judgements"]:
        return ""
    rows = [("judge model", model), ("mode", mode), ("judgements", figures["judgements"])]
    if mode == "pairwise":
        rows += [("agreed in both orders", figures["agreed"]),
                 ("position-flip rate (orders disagree)", _percent(figures["position_flip_rate"])),
                 ("tie rate", _percent(figures["tie_rate"])),
                 ("vetoed by a verifiable reward", figures["vetoed"])]
    rows += [("abstain rate", _percent(figures["abstain_rate"])),
             ("failed (no readable verdict after retries: null, not 0)", figures["failed"]),
             ("retries", figures["retries"]),
             ("judge reply tokens", figures["reply_tokens"]),
             ("judge engine seconds", figures["engine_seconds"])]
    verdicts = ", ".join(f"{k} {v}" for k, v in figures["verdicts"].items())
    note = ("Pairwise comparisons are judged in both orders and count once; a pair is made only "
            "from a verdict both orders agree on." if mode == "pairwise" else
            "Each answer is judged alone on the rubric's scale.")
    return "\n\n".join(["## Judge", note, key_value_table(rows), f"Verdicts: {verdicts}."])


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.1%}"

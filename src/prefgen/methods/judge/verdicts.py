"""From the judge's votes to verdicts: a candidate's score (pointwise), and a comparison of two
candidates judged in both orders (pairwise).

A comparison of candidates x and y asks the judge twice: x shown as A, then y shown as A. Each
order's votes are turned into "x", "y", "tie" or "abstain" (their majority; an even split is a
tie). The comparison's verdict, seen from x:

- ``win`` / ``loss`` / ``tie``: both orders said the same; ``confidence`` is the share of all
  valid votes (both orders) that said it;
- ``flip``: the orders disagree (the judge's preference followed the position, not the answer);
- ``abstain``: either order abstained;
- ``failed``: either order has no valid vote after its retries (``reason`` says why).
"""

from __future__ import annotations

from collections import Counter
from statistics import fmean
from typing import Any

from prefgen.methods.judge.job import Judgement

DECIDED = ("win", "loss", "tie")


def pointwise_outcome(judgement: Judgement) -> dict[str, Any]:
    """The candidate's judge details: its verdict, score (None unless scored) and costs."""
    scores = [v.value for v in judgement.votes if v.kind == "score"]
    abstained = any(v.kind == "abstain" for v in judgement.votes)
    if scores and not abstained:
        verdict, score = "score", fmean(scores)
    else:
        verdict, score = ("abstain" if abstained else "failed"), None
    return {**_costs(judgement), "verdict": verdict, "score": score, "reply": _last_reply(judgement),
            "votes": [v.value if v.kind == "score" else v.kind for v in judgement.votes],
            "reason": judgement.problem if verdict == "failed" else ""}


def compare(first: Judgement, second: Judgement) -> dict[str, Any]:
    """The comparison of x and y from ``first`` (x shown as A) and ``second`` (y shown as A)."""
    orders = [_order_side(first, {"A": "x", "B": "y"}), _order_side(second, {"A": "y", "B": "x"})]
    costs = [_costs(first), _costs(second)]
    base = {"orders": orders, "replies": [_last_reply(first), _last_reply(second)],
            "attempts": sum(c["attempts"] for c in costs),
            "tokens": sum(c["tokens"] for c in costs), "seconds": sum(c["seconds"] for c in costs)}
    if None in orders:
        problem = next(j.problem for j, side in zip((first, second), orders) if side is None)
        return {**base, "verdict": "failed", "confidence": None, "reason": problem or "no verdict"}
    if "abstain" in orders:
        return {**base, "verdict": "abstain", "confidence": None, "reason": ""}
    if orders[0] != orders[1]:
        return {**base, "verdict": "flip", "confidence": None, "reason": f"orders disagree: {orders[0]} / {orders[1]}"}
    said = orders[0]
    votes = _mapped(first, {"A": "x", "B": "y"}) + _mapped(second, {"A": "y", "B": "x"})
    confidence = sum(v == said for v in votes) / len(votes)
    verdict = {"x": "win", "y": "loss", "tie": "tie"}[said]
    return {**base, "verdict": verdict, "confidence": round(confidence, 4), "reason": ""}


def mirrored(comparison: dict[str, Any]) -> dict[str, Any]:
    """The same comparison seen from the other candidate."""
    flipped = {"win": "loss", "loss": "win"}.get(comparison["verdict"], comparison["verdict"])
    return {**comparison, "verdict": flipped}


def copeland(comparisons: list[dict[str, Any]]) -> float | None:
    """Share of a candidate's decided comparisons it won (a tie counts half); None if none decided."""
    decided = [c["verdict"] for c in comparisons if c["verdict"] in DECIDED]
    if not decided:
        return None
    return sum(1.0 if v == "win" else 0.5 if v == "tie" else 0.0 for v in decided) / len(decided)


def _mapped(judgement: Judgement, sides: dict[str, str]) -> list[str]:
    return [sides.get(v.kind, v.kind) for v in judgement.votes]


def _order_side(judgement: Judgement, sides: dict[str, str]) -> str | None:
    """One order's verdict: the majority of its votes (an even split between x and y is a tie)."""
    votes = _mapped(judgement, sides)
    if not votes:
        return None
    counts = Counter(votes)
    if counts["abstain"] * 2 > len(votes):
        return "abstain"
    if counts["x"] == counts["y"]:
        return "tie"
    return "x" if counts["x"] > counts["y"] and counts["x"] >= counts["tie"] else (
        "y" if counts["y"] > counts["x"] and counts["y"] >= counts["tie"] else "tie")


def _last_reply(judgement: Judgement) -> str:
    """The judge's last reply, cut short: enough to read why a verdict was (not) given."""
    return judgement.replies[-1][:300] if judgement.replies else ""


def _costs(judgement: Judgement) -> dict[str, Any]:
    return {"attempts": judgement.attempts, "tokens": judgement.tokens, "seconds": round(judgement.seconds, 6)}

"""Rewards that score on many threads, in a fresh process: no lazily built cache may be seen half built.

The execution reward runs its candidates on a thread pool; the first runs of a process build the
sandbox's shared code (harness, codec, candidate server) on first use. Only a fresh process shows
a race there, so the batch is scored in a new interpreter each time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from prefgen.methods.execution.humaneval import load_rows

PROBLEMS = 16

# Sixteen distinct HumanEval problems: each has a canonical solution, so the reward checks the
# sixteen canonical solutions at once, on sixteen threads, before anything else has run.
SCRIPT = textwrap.dedent("""
    import json, sys
    from prefgen.records import Candidate, Prompt
    from prefgen.methods.execution.reward import ExecutionReward
    from prefgen.methods.execution.humaneval import load_rows

    items = []
    for i, row in enumerate(load_rows(limit=int(sys.argv[1]))):
        prompt = Prompt(id=Prompt.make_id(row["prompt"], row["task"]), prompt=row["prompt"], task=row["task"])
        # Even problems get their reference solution, odd ones a program that raises.
        text = row["task"]["canonical_solution"] if i % 2 == 0 else "    raise RuntimeError('no')\\n"
        items.append((prompt, Candidate(id=f"c{i}", prompt_id=prompt.id, sample_index=0, text=text)))
    reward = ExecutionReward(timeout_s=10.0, workers=len(items))
    results = reward.score_batch(items)   # not score_safely: an exception must surface here
    print(json.dumps([[r.score, r.reason] for r in results]))
""")


def score_in_fresh_process(problems: int) -> list[list]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(problems)], capture_output=True, text=True, check=False,
                          timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_many_item_batch_in_a_fresh_process_scores_every_item():
    assert len(load_rows(limit=PROBLEMS)) == PROBLEMS
    # Two fresh processes: the race this guards against hit most first batches, not all.
    for _ in range(2):
        results = score_in_fresh_process(PROBLEMS)
        assert len(results) == PROBLEMS
        for i, (score, reason) in enumerate(results):
            if i % 2 == 0:
                assert (score, reason) == (1.0, "passed"), (i, score, reason)
            else:
                assert score == 0.0 and reason == "error", (i, score, reason)

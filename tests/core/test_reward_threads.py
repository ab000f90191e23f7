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


HOLDER = """
import socket, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind("\\0prefgen-shared-probe")
s.listen()
print("bound", flush=True)
time.sleep(4)
"""

PROBER = """
import socket, time
for _ in range(5):
    try:
        socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).connect("\\0prefgen-shared-probe")
    except OSError:
        time.sleep(0.05)
    else:
        print("connected")
        break
else:
    print("refused")
"""


def test_sandboxes_running_at_once_never_share_a_network_namespace():
    # Abstract Unix sockets belong to a network namespace: a program in another sandbox that
    # could reach one would share it. The fork server makes namespaces in advance; each must go
    # to one sandbox only, however many start while another runs.
    import threading
    import time

    from prefgen.sandbox import isolation, run_python

    if isolation()["network"] != "isolated":
        import pytest

        pytest.skip("no network namespaces here")
    held = {}
    holder = threading.Thread(target=lambda: held.update(result=run_python(HOLDER, timeout_s=8)))
    holder.start()
    time.sleep(1.0)  # the holder has bound its socket by now (it is reported at its end)
    probes = [run_python(PROBER, timeout_s=5) for _ in range(8)]  # more than the server keeps ready
    holder.join()
    assert held["result"].stdout.strip() == "bound", held["result"]
    assert [p.stdout.strip() for p in probes] == ["refused"] * 8, [p.stdout + p.stderr for p in probes]

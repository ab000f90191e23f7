"""Hostile programs in the sandbox: each leaves the host, the run and other samples unharmed.

Every attack is scored by the ``execution`` reward in one batch with well-behaved neighbours,
which must still pass; the attack must get the right reason; and the host is checked directly
(files, processes, a listening socket, a victim process). Network attempts go to loopback only.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

from prefgen.methods.execution.reward import ExecutionReward
from prefgen.records import Candidate, Prompt
from prefgen.sandbox import SandboxLimits, isolation, run_python

GOOD = "def add(a, b):\n    return a + b\n"
TASK = {"tests": ["assert add(1, 2) == 3", "assert add(-1, 1) == 0"], "format": "full"}
PROMPT = Prompt(id=Prompt.make_id("add", TASK), prompt="Write add(a, b).", task=TASK)


# These tests look for stray processes in the whole machine's process table (any process running as
# a sandbox uid): they run in the serial part of `make test`, where no other test's sandbox runs.
pytestmark = pytest.mark.serial


def score_among_neighbours(attack: str, timeout_s: float = 2.0, **params):
    """Score ``attack`` in one batch between good samples; assert the neighbours all pass.

    The attack is sent as a fenced block, so that LeTI's stop strings (``\\nprint``, ``\\nif``...)
    do not cut it short.
    """
    texts = [GOOD, f"```python\n{attack}```\n", GOOD, GOOD]
    items = [(PROMPT, Candidate(id=f"c{i}", prompt_id=PROMPT.id, sample_index=i, text=t)) for i, t in enumerate(texts)]
    reward = ExecutionReward(timeout_s=timeout_s, workers=4, **params)
    results = reward.score_safely(items)
    for i in (0, 2, 3):
        assert results[i].reason == "passed" and results[i].score == 1.0, results[i]
    assert sandbox_uid_processes() == []
    return results[1]


def sandbox_uid_processes() -> list[int]:
    """Processes still running as a sandbox uid (root mode gives each sandbox one >= 1e9)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid >= 1_000_000_000:
                    found.append(int(entry))
            except FileNotFoundError:
                continue
    return found


def processes_with(marker: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if marker in Path(f"/proc/{entry}/cmdline").read_bytes().decode(errors="replace"):
                    found.append(int(entry))
            except (FileNotFoundError, ProcessLookupError, PermissionError):
                continue
    return found


def isolated() -> bool:
    return isolation().get("network") == "isolated"


def test_infinite_loop_times_out():
    result = score_among_neighbours(GOOD + "while True:\n    pass\n", timeout_s=1.0)
    assert result.reason == "timeout"
    assert result.score == 0.0 and result.details["passed"] is False
    assert "Timeout" in result.details["feedback"]


def test_fork_bomb_is_capped_by_the_process_limit():
    result = score_among_neighbours(GOOD + "import os\nwhile True:\n    os.fork()\n")
    assert result.reason == "error"
    assert result.details["exception"]["type"] == "BlockingIOError"


def test_fork_bomb_cap_holds_even_when_started_as_root():
    # Count how many children the program manages to start before fork fails.
    code = ("import os, time\nkids = 0\ntry:\n    while kids < 200:\n        if os.fork() == 0:\n"
            "            time.sleep(3)\n            os._exit(0)\n        kids += 1\nexcept OSError:\n    pass\n"
            "print(kids, flush=True)\nos._exit(0)\n")
    limits = SandboxLimits(timeout_s=5, processes=8)
    result = run_python(code, limits=limits)
    assert result.ok, result
    assert int(result.stdout) < limits.processes
    assert sandbox_uid_processes() == []


def test_fork_bomb_that_ignores_errors_ends_at_the_timeout():
    attack = GOOD + "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    result = score_among_neighbours(attack, timeout_s=1.5)
    assert result.reason == "timeout"


def test_memory_bomb():
    result = score_among_neighbours(GOOD + "blocks = []\nwhile True:\n    blocks.append(bytearray(50 << 20))\n",
                                    memory_mb=256)
    assert result.reason == "memory"
    assert result.details["exception"]["type"] == "MemoryError"


def test_gigabytes_of_output_are_cut_off():
    attack = GOOD + "import sys\nchunk = 'x' * (1 << 20)\nfor _ in range(4096):\n    sys.stdout.write(chunk)\n"
    result = score_among_neighbours(attack, output_chars=1000)
    assert result.reason == "killed"
    assert result.details["killed"] == "output_limit"
    assert len(result.details["stdout"]) <= 1000
    assert result.details["output_bytes"] < 64 << 20  # stopped long before 4 GiB


def test_output_on_stderr_is_capped_too():
    result = run_python("import sys\nwhile True:\n    sys.stderr.write('e' * 65536)\n",
                        limits=SandboxLimits(timeout_s=5, output_bytes=4096))
    assert result.killed == "output_limit"
    assert len(result.stderr) <= 4096


def test_writing_outside_its_directory(tmp_path):
    target_dir = tmp_path / "open"
    target_dir.mkdir()
    target_dir.chmod(0o777)  # even a world-writable host directory is out of reach
    target = target_dir / "pwned"
    host_tmp = Path(tempfile.gettempdir()) / f"prefgen-pwned-{uuid.uuid4().hex}"
    attack = GOOD + (f"try:\n    open({str(host_tmp)!r}, 'w').write('x')\nexcept OSError:\n    pass\n"
                     f"open({str(target)!r}, 'w').write('pwned')\n")
    result = score_among_neighbours(attack)
    assert result.reason == "error"
    assert result.details["exception"]["type"] in ("FileNotFoundError", "PermissionError", "OSError")
    assert not target.exists()
    assert not host_tmp.exists()


def test_sandbox_directory_is_removed(tmp_path, monkeypatch):
    assert run_python("pass").ok  # the fork server (and its one mount point) exist before
    base = tmp_path / "tmp"
    base.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(base))
    result = run_python("open('left-behind', 'w').write('x' * 1000)\n")
    assert result.ok, result
    assert list(base.iterdir()) == []


def test_the_fork_servers_mount_point_goes_with_it(monkeypatch):
    from prefgen.sandbox import runner

    server = runner._Forkserver(runner.default_python())
    monkeypatch.setitem(runner._servers, runner.default_python(), server)
    assert run_python("pass").ok  # in root mode, the server's root template is now mounted there
    assert os.path.isdir(server.mount_point) and os.listdir(server.mount_point) == []
    server.sock.shutdown(socket.SHUT_RDWR)  # as at prefgen's exit: the server kills its sandboxes, leaves
    assert server.process.wait(10) == 0
    assert not os.path.exists(server.mount_point)


def test_reading_project_files_and_parent_secrets(monkeypatch):
    secret = f"s3cret-{uuid.uuid4().hex}"
    monkeypatch.setenv("PREFGEN_TEST_SECRET", secret)
    project_file = Path(__file__).resolve()
    leak = GOOD + "import os\nprint(dict(os.environ))\n"
    result = score_among_neighbours(leak)
    assert result.reason == "passed"
    assert "PATH" in result.details["stdout"]  # the environment was printed: a scrubbed one
    assert secret not in result.details["stdout"] and "PREFGEN_TEST_SECRET" not in result.details["stdout"]
    steal = GOOD + f"print(open({str(project_file)!r}).read())\n"
    result = score_among_neighbours(steal)
    assert result.reason == "error"
    assert result.details["exception"]["type"] in ("FileNotFoundError", "PermissionError")
    assert "score_among_neighbours" not in result.details["stdout"]


def test_network_connection_is_refused():
    if not isolated():
        pytest.skip(f"no network namespace here: {isolation().get('network')}")
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.setblocking(False)
    port = server.getsockname()[1]
    try:
        attack = GOOD + f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=1).sendall(b'hi')\n"
        result = score_among_neighbours(attack)
        assert result.reason == "error"
        assert result.details["exception"]["type"] in ("OSError", "ConnectionRefusedError", "TimeoutError")
        with pytest.raises(BlockingIOError):
            server.accept()  # nobody connected
    finally:
        server.close()


def test_killing_its_parent_or_another_process():
    victim = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        quiet = GOOD + (f"import os, signal\nfor pid in ({victim.pid}, {os.getpid()}, os.getppid(), -1):\n"
                        "    try:\n        os.kill(pid, signal.SIGKILL)\n    except OSError:\n        pass\n")
        result = score_among_neighbours(quiet)
        assert result.reason == "passed"  # the attack reached nothing, the program itself is fine
        loud = GOOD + f"import os\nos.kill({victim.pid}, 9)\n"
        result = score_among_neighbours(loud)
        assert result.reason == "error"
        assert result.details["exception"]["type"] in ("ProcessLookupError", "PermissionError")
        assert victim.poll() is None  # still alive
    finally:
        victim.kill()
        victim.wait()


def test_raising_its_own_limits():
    for limit in ("RLIMIT_AS", "RLIMIT_NPROC", "RLIMIT_CPU"):
        attack = GOOD + f"import resource\nresource.setrlimit(resource.{limit}, (resource.RLIM_INFINITY,) * 2)\n"
        result = score_among_neighbours(attack)
        assert result.reason == "error", limit
        assert result.details["exception"]["type"] == "ValueError"
    result = score_among_neighbours(GOOD + "import os\nos.setuid(0)\n")
    assert result.reason == "error"
    assert result.details["exception"]["type"] == "PermissionError"


def test_sleeping_past_the_timeout_with_threads():
    joined = GOOD + ("import threading, time\nthreads = [threading.Thread(target=time.sleep, args=(60,)) for _ in range(3)]\n"
                     "for t in threads:\n    t.start()\nfor t in threads:\n    t.join()\n")
    result = score_among_neighbours(joined, timeout_s=1.0)
    assert result.reason == "timeout"
    left_running = GOOD + ("import threading, time\nfor _ in range(3):\n"
                           "    threading.Thread(target=time.sleep, args=(60,)).start()\n")
    result = score_among_neighbours(left_running, timeout_s=5.0)
    assert result.reason == "passed"
    assert result.details["duration_s"] < 30  # ended with its tests, not with its threads


def test_daemon_does_not_outlive_the_test():
    marker = f"{uuid.uuid4().int % 10**6}.{uuid.uuid4().int % 10**6}"
    attack = GOOD + ("import os, subprocess\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
                     f"        subprocess.Popen(['sleep', '{marker}'], start_new_session=True)\n"
                     f"        os.execvp('sleep', ['sleep', '{marker}'])\n    os._exit(0)\n"
                     "import time\ntime.sleep(0.3)\n")
    result = score_among_neighbours(attack)
    assert result.reason == "passed"
    assert "execvp" in result.details["code"]
    assert processes_with(marker) == []


def test_a_killed_sandbox_takes_its_children_along():
    marker = f"{uuid.uuid4().int % 10**6}.{uuid.uuid4().int % 10**5}"
    code = (f"import os, subprocess, time\nsubprocess.Popen(['sleep', '{marker}'], start_new_session=True)\n"
            "os.setsid() if os.getpid() != 1 else None\ntime.sleep(60)\n")
    result = run_python(code, limits=SandboxLimits(timeout_s=1))
    assert result.killed == "timeout"
    assert result.signal == signal.SIGKILL
    assert processes_with(marker) == []


def test_missing_isolation_warns_once_per_process(monkeypatch):
    from prefgen.sandbox import runner

    monkeypatch.setattr(runner, "_warned", False)
    plain = {"mode": "plain", "network": "not isolated: namespaces: unshare: Operation not permitted"}
    with pytest.warns(RuntimeWarning, match="WITHOUT network") as caught:
        runner._warn_once(plain)
        runner._warn_once(plain)
    assert len(caught) == 1
    assert "Operation not permitted" in str(caught[0].message)


def test_a_dead_fork_server_is_replaced():
    from prefgen.sandbox import runner

    assert run_python("pass").ok
    server = runner._forkserver(runner.default_python())
    server.process.kill()
    server.process.wait()
    result = run_python("print('again')")  # whether or not its end was noticed yet
    assert result.ok and result.stdout == "again\n"


def test_private_input_is_on_fd_4_and_not_in_the_file_system():
    secret = uuid.uuid4().hex
    code = ("import os\nprint(os.read(4, 100).decode())\ntry:\n    open(os.readlink('/proc/self/fd/4'))\n"
            "except OSError as exc:\n    print(type(exc).__name__)\n")
    result = run_python(code, private_input=secret.encode())
    assert result.ok, result
    assert result.stdout.split() == [secret, "FileNotFoundError"]


def test_the_candidate_cannot_reach_the_testers_memory_or_channel():
    if not isolated():
        pytest.skip(f"no namespaces here: {isolation().get('network')}")
    probe = ("import os\nERRORS = []\nfor path in ('/proc/1/mem', '/proc/1/fd/3', '/proc/1/fd/4', '/proc/1/environ'):\n"
             "    try:\n        open(path, 'rb').close()\n        ERRORS.append('opened')\n"
             "    except OSError as exc:\n        ERRORS.append(type(exc).__name__)\n"
             "try:\n    os.write(3, b'x')\n    ERRORS.append('wrote')\nexcept OSError as exc:\n"
             "    ERRORS.append(type(exc).__name__)\n")
    task = {"tests": ["assert ERRORS == ['PermissionError'] * 4 + ['OSError']"], "format": "full"}
    prompt = Prompt(id=Prompt.make_id("probe", task), prompt="probe", task=task)
    [result] = ExecutionReward(timeout_s=5.0).score_safely(
        [(prompt, Candidate(id="c", prompt_id=prompt.id, sample_index=0, text=f"```python\n{probe}```\n"))])
    assert result.reason == "passed", result.details["feedback"]


@pytest.mark.parametrize("mode", ["namespaces", "user-namespaces", "plain"])
def test_each_isolation_mode_runs_programs_and_the_harness(mode, monkeypatch):
    """Root mode (template root, no relay), user-namespace mode (relay) and plain mode all run a
    program with its files and private input, time it out, and run the harness."""
    from prefgen.sandbox import runner

    if mode == "namespaces" and os.geteuid() != 0:
        pytest.skip("root mode needs root")
    probe = runner._execute("import os\nprint(open('f.txt').read(), os.read(4, 9).decode())",
                            SandboxLimits(timeout_s=5), runner.default_python(), {"mode": mode}, False,
                            {"f.txt": "file"}, {}, b"secret")
    if mode != "plain" and probe.setup_error and "unshare" in probe.setup_error:
        pytest.skip(f"{mode} not available here: {probe.setup_error}")
    assert probe.ok and probe.stdout == "file secret\n", probe
    slow = runner._execute("import time\ntime.sleep(30)", SandboxLimits(timeout_s=0.5), runner.default_python(),
                           {"mode": mode}, False, {}, {})
    assert slow.killed == "timeout" and slow.signal == signal.SIGKILL
    monkeypatch.setattr(runner, "_mode", {"mode": mode, "network": "isolated" if mode != "plain" else "no"})
    good, bad = score_in_mode(["def add(a, b):\n    return a + b\n", "def add(a, b):\n    return 3\n"])
    assert good.reason == "passed" and bad.reason == "failed"
    assert good.details["sandbox"]["mode"] == mode


def score_in_mode(texts: list[str]):
    items = [(PROMPT, Candidate(id=f"c{i}", prompt_id=PROMPT.id, sample_index=i, text=t)) for i, t in enumerate(texts)]
    return ExecutionReward(timeout_s=5.0, workers=2).score_safely(items)


def test_nothing_written_in_one_sandbox_is_seen_by_the_next():
    """/sandbox, /tmp and /dev/shm are new in every execution; the rest of the root is read-only
    (in root mode a template every sandbox shares, so it must not be writable at all)."""
    if not isolated():
        pytest.skip(f"no namespaces here: {isolation().get('network')}")
    marker = uuid.uuid4().hex
    write = ("import os\nfor path in ('/sandbox/m', '/tmp/m', '/dev/shm/m'):\n    open(path, 'w').write(MARK)\n"
             "for path in ('/m', '/etc/m', '/dev/m', '/usr/m', '/proc/m'):\n    try:\n        open(path, 'w')\n"
             "    except OSError:\n        pass\n    else:\n        print('wrote', path)\n")
    first = run_python(write, program_globals={"MARK": marker})
    assert first.ok and first.stdout == "", first
    look = ("import os\nfor path in ('/sandbox/m', '/tmp/m', '/dev/shm/m', '/m', '/etc/m', '/dev/m'):\n"
            "    print(path, os.path.exists(path))\n")
    second = run_python(look)
    assert second.ok and "True" not in second.stdout, second.stdout
    if isolation()["mode"] == "namespaces":
        root = run_python("print([line.split()[5] for line in open('/proc/self/mountinfo') if line.split()[4] == '/'])")
        assert root.stdout.startswith("['ro,"), root.stdout  # the shared template, read-only at its mount


def test_a_forked_child_of_prefgen_leaves_its_parents_fork_server_alone():
    from prefgen.sandbox import runner

    assert run_python("pass").ok
    server = runner._servers[runner.default_python()]
    pid = os.fork()
    if pid == 0:  # what the child's exit would run: the server's clean-up, inherited
        try:
            server.cleanup()
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    assert os.path.isdir(server.mount_point)
    result = run_python("print('still here')")
    assert result.ok and result.stdout == "still here\n", result

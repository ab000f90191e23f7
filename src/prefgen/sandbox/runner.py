"""Run one Python program in a disposable, confined process: :func:`run_python`.

Each call gets its own session and process group, a scrubbed environment, stdin closed, an
isolated interpreter (``python -I -S``), resource limits and, where the kernel allows, new
mount, PID, network, IPC and UTS namespaces (the ``unshare(2)`` system call). The program sees a private root file system (system and
interpreter directories read-only, a size-capped tmpfs for ``/sandbox`` and ``/tmp``), no
network, no other process, and runs as an unprivileged identity. When it ends -- or at the
wall-clock timeout, or when its output passes the output limit -- its whole group is killed, and
the end of its PID namespace's init takes everything it spawned along, daemons included.

Processes come from a fork server (:mod:`prefgen.sandbox.child`) started once per prefgen
process: forking a warm interpreter costs a few milliseconds where a new interpreter per
execution costs tens.

Isolation modes, chosen once per process by a probe (:func:`isolation`):

- ``namespaces``: prefgen runs as root; the program runs as a random unprivileged uid/gid, so that
  RLIMIT_NPROC (which the kernel ignores for root) holds, and counts this sandbox's processes only.
  The fork server makes each sandbox's PID namespace and keeps the read-only part of the root
  file system as a template (see :mod:`prefgen.sandbox.child`).
- ``user-namespaces``: prefgen runs as another user; a user namespace maps it to root inside, and
  the program keeps no capability.
- ``plain``: neither works (e.g. a container without the rights). Limits, process group, scrubbed
  environment and a temporary working directory (removed afterwards; the only mode with one on
  the host) still apply, but there is no network or file system isolation: a warning is logged once per process and the reason is in every result's
  ``isolation``.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import logging
import marshal
import os
import random
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import types
import warnings
import weakref
from ast import literal_eval
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

log = logging.getLogger("prefgen.sandbox")

SYSTEM_BINDS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
                "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/localtime", "/etc/passwd",
                "/etc/group", "/etc/nsswitch.conf", "/etc/hosts")
SETUP_FAILED_EXIT = 125
SCRUBBED_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
                "HOME": "/sandbox", "TMPDIR": "/tmp"}
_READ_CHUNK = 65536


@dataclass(frozen=True)
class SandboxLimits:
    """What one execution may use. Memory, CPU and processes are per process / per sandbox."""

    timeout_s: float = 5.0          # wall clock, from the moment the program starts
    cpu_s: int | None = None        # RLIMIT_CPU per process; default: timeout rounded up, plus 1
    memory_mb: int = 1024           # RLIMIT_AS (address space) per process
    file_size_mb: int = 16          # RLIMIT_FSIZE
    disk_mb: int = 64               # size of the private tmpfs holding /sandbox and /tmp
    open_files: int = 64            # RLIMIT_NOFILE
    processes: int = 8              # RLIMIT_NPROC: processes and threads of the sandbox's uid
    output_bytes: int = 65536       # stdout / stderr kept, each
    output_limit_bytes: int = 8 << 20  # more than this in total (stdout+stderr+channel): killed
    setup_timeout_s: float = 20.0   # for the sandbox to start, before the program runs

    def cpu_limit(self) -> int:
        return self.cpu_s if self.cpu_s is not None else int(self.timeout_s) + 2


@dataclass
class ExecutionResult:
    """What happened to one execution."""

    exit_code: int | None = None    # exit status, if the program exited
    signal: int | None = None       # the signal that ended it, if one did
    killed: str | None = None       # why the sandbox ended it: timeout, cpu_time, output_limit
    stdout: str = ""
    stderr: str = ""
    stdout_bytes: int = 0           # totals written, including what was not kept
    stderr_bytes: int = 0
    channel: list[str] = field(default_factory=list)  # lines the program wrote on fd 3
    duration_s: float = 0.0         # wall clock of the program (after set-up)
    cpu_s: float = 0.0              # user + system CPU of the whole sandbox
    isolation: dict[str, Any] = field(default_factory=dict)
    setup_error: str | None = None  # the sandbox could not start the program

    @property
    def timed_out(self) -> bool:
        return self.killed in ("timeout", "cpu_time")

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and self.killed is None and self.setup_error is None


# --- isolation probe -------------------------------------------------------------------------

_probe_lock = threading.Lock()
_mode: dict[str, Any] | None = None
_warned = False
_BOOTSTRAP = Path(__file__).with_name("child.py").read_text()


def isolation(python: str | None = None) -> dict[str, Any]:
    """The isolation this process can give (probed once): mode, network, and why not if not."""
    global _mode
    with _probe_lock:
        if _mode is None:
            _mode = _probe(python or default_python())
            _warn_once(_mode)
        return dict(_mode)


def _candidate_modes() -> list[str]:
    return (["namespaces"] if os.geteuid() == 0 else []) + ["user-namespaces", "plain"]


def _probe(python: str) -> dict[str, Any]:
    reasons = []
    probe = ("import errno, socket\ntry:\n    socket.create_connection(('127.0.0.1', 9), 0.5)\n"
             "except OSError as e:\n    print('refused' if e.errno == errno.ECONNREFUSED else 'unreachable')\n"
             "else:\n    print('connected')\n")
    for mode in _candidate_modes():
        info = {"mode": mode}
        result = _execute(probe, SandboxLimits(timeout_s=10), python, info, channel=False, files={},
                          program_globals={})
        if result.setup_error or result.exit_code != 0:
            reasons.append(f"{mode}: {result.setup_error or result.stderr.strip()[-300:]}")
            continue
        if mode == "plain":
            info["network"] = "not isolated: " + ("; ".join(reasons) or "no namespace support")
        elif result.stdout.strip() != "unreachable":
            reasons.append(f"{mode}: loopback still reachable inside the network namespace")
            continue
        else:
            info["network"] = "isolated"
        return info
    return {"mode": "unavailable", "network": "not isolated", "error": "; ".join(reasons)}


def _warn_once(mode: dict[str, Any]) -> None:
    global _warned
    if _warned or mode.get("network") == "isolated":
        return
    _warned = True
    message = (f"prefgen sandbox: generated code runs WITHOUT network and file-system isolation "
               f"({mode.get('network')}). Limits and process-group kill still apply.")
    log.warning(message)
    warnings.warn(message, RuntimeWarning, stacklevel=3)


def default_python() -> str:
    """The interpreter for sandboxed programs: the base interpreter of the running one."""
    return _real_path(getattr(sys, "_base_executable", None) or sys.executable)


@functools.lru_cache(maxsize=8)
def _real_path(path: str) -> str:
    # Resolved once: realpath costs a system call per path component, on every execution.
    return os.path.realpath(path)


# --- running ---------------------------------------------------------------------------------

def run_python(
    code: str | types.CodeType,
    *,
    timeout_s: float | None = None,
    limits: SandboxLimits | None = None,
    files: dict[str, bytes | str] | None = None,
    program_globals: dict[str, Any] | None = None,
    channel: bool = False,
    private_input: bytes | None = None,
    shared_code: dict[str, types.CodeType] | None = None,
    python: str | None = None,
) -> ExecutionResult:
    """Run ``code`` as ``__main__`` in a fresh sandbox and return what happened.

    ``code`` is source, or a code object compiled by this interpreter (shipped with ``marshal``,
    so the sandbox's interpreter must be the same version). ``files`` are written into the
    working directory; ``program_globals`` (marshal-able values) are set in the program's
    namespace before it runs. With ``channel=True`` the program may write lines on file
    descriptor 3; they come back in ``ExecutionResult.channel`` (the program can write anything
    there: a caller that trusts records must authenticate them, e.g. with a nonce).
    ``private_input`` is readable on file descriptor 4: a file opened before the program was
    confined, which its file system does not show (the program must read it before it runs
    code it does not trust, and close it).

    ``shared_code`` are code objects that are the same in many runs (a test harness): the fork
    server loads them once and keeps them, and each program finds them among its globals under
    their names; ``code`` may be one of them. Every later sandbox is a fork of the server and
    inherits them: never pass anything of one program's own here.
    """
    limits = limits or SandboxLimits()
    if timeout_s is not None:
        limits = replace(limits, timeout_s=timeout_s)
    python = python or default_python()
    mode = isolation(python)
    if mode["mode"] == "unavailable":
        return ExecutionResult(setup_error=f"no way to run a sandbox here: {mode['error']}", isolation=mode)
    return _execute(code, limits, python, mode, channel, files or {}, program_globals or {}, private_input,
                    shared_code or {})


def _execute(code, limits: SandboxLimits, python: str, mode: dict[str, Any], channel: bool,
             files: dict[str, bytes | str], program_globals: dict[str, Any],
             private_input: bytes | None = None, shared_code: dict[str, types.CodeType] | None = None,
             ) -> ExecutionResult:
    # Only plain mode needs a directory on the host: the others build their file system in a
    # mount namespace of their own, and get their spec and private input as memfds.
    workdir = tempfile.mkdtemp(prefix="prefgen-sandbox-") if mode["mode"] == "plain" else None
    inputs = []
    try:
        uid = gid = None
        if os.geteuid() == 0 and mode["mode"] in ("namespaces", "plain"):
            rng = random.SystemRandom()
            uid, gid = rng.randrange(1_000_000_000, 2_000_000_000), rng.randrange(1_000_000_000, 2_000_000_000)
        shared = {name: _shared_key(value) for name, value in (shared_code or {}).items()}
        main = next((name for name, value in (shared_code or {}).items() if value is code), None)
        spec = _spec(None if main else code, limits, python, mode["mode"], workdir, uid, gid, files, channel,
                     program_globals)
        spec.update(shared=shared, main_shared=main)
        inputs.append(_read_only_memfd("prefgen-spec", marshal.dumps(spec)))
        if private_input is not None:
            inputs.append(_read_only_memfd("prefgen-private", private_input))
        if workdir is not None:
            _prepare_plain_workdir(workdir, files, uid, gid)
        result = _spawn_and_supervise(python, mode, limits, inputs, shared)
        if uid is not None:
            result.isolation["uid"] = uid
            if mode["mode"] == "plain":
                _kill_uid(uid)  # no PID namespace to take its daemons down with it
        return result
    finally:
        for fd in inputs:
            os.close(fd)
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)


def _spawn_and_supervise(python: str, mode: dict[str, Any], limits: SandboxLimits,
                         inputs: list[int], shared: dict[str, str]) -> ExecutionResult:
    pipes = [os.pipe() for _ in range(3)]  # stdout, stderr, control
    # Root mode: the server makes the PID namespace, and the template of the root file system
    # (from the system binds) once (see child.py).
    new_pid_namespace = mode["mode"] == "namespaces"
    binds = _system_binds(python)
    try:
        fds = [w for _, w in pipes] + inputs
        try:
            child = _forkserver(python).spawn(fds, new_pid_namespace, binds, shared.values())
        except ConnectionError:
            child = _forkserver(python).spawn(fds, new_pid_namespace, binds, shared.values())  # a fresh server
    finally:
        for _, w in pipes:
            os.close(w)
    try:
        # Only user-namespace mode has a relay between the server and the PID namespace's init.
        result = _supervise(child, [r for r, _ in pipes], limits, relay=mode["mode"] == "user-namespaces")
    finally:
        for r, _ in pipes:
            os.close(r)
    result.isolation = {**mode, **result.isolation}
    return result


def _read_only_memfd(name: str, data: bytes) -> int:
    """A read-only descriptor of an anonymous file holding ``data`` (in no file system)."""
    fd = os.memfd_create(name, os.MFD_CLOEXEC)
    try:
        with os.fdopen(os.dup(fd), "wb") as f:
            f.write(data)
        return os.open(f"/proc/self/fd/{fd}", os.O_RDONLY | os.O_CLOEXEC)
    finally:
        os.close(fd)


def _spec(code, limits, python, mode, workdir, uid, gid, files, channel, program_globals):
    main = marshal.dumps(code) if isinstance(code, types.CodeType) else code
    return {
        "mode": "userns" if mode == "user-namespaces" else ("plain" if mode == "plain" else "root"),
        "workdir": os.path.join(workdir, "work") if workdir else None,
        "binds": _system_binds(python),
        "files": {name: data.encode() if isinstance(data, str) else data for name, data in files.items()},
        "disk_mb": limits.disk_mb,
        "inodes": 4096,
        "limits": {
            "cpu": limits.cpu_limit(),
            "as": limits.memory_mb << 20,
            "fsize": limits.file_size_mb << 20,
            "nofile": limits.open_files,
            # A non-root user's process count includes all its other processes: only enforce
            # it where the sandbox has a uid or user namespace of its own.
            "nproc": None if (mode == "plain" and uid is None) else limits.processes,
        },
        "uid": uid,
        "gid": gid,
        "channel": channel,
        "cache_tag": sys.implementation.cache_tag,
        "main": main,
        "globals": program_globals,
    }


@functools.lru_cache(maxsize=8)
def _system_binds(python: str) -> list[str]:
    """What a sandbox's root shows of the host, read-only: system and interpreter directories."""
    binds = list(SYSTEM_BINDS)
    prefix = os.path.dirname(os.path.dirname(python))
    for path in sorted({os.path.realpath(p) for p in (sys.base_prefix, sys.base_exec_prefix, prefix)}):
        if not any(path == b or path.startswith(b + "/") for b in ("/usr", "/bin", "/lib", "/lib64")):
            binds.append(path)
    return binds


def _prepare_plain_workdir(workdir: str, files: dict, uid: int | None, gid: int | None) -> None:
    os.chmod(workdir, 0o711)
    work = os.path.join(workdir, "work")
    os.mkdir(work, 0o700)
    for name, data in files.items():
        with open(os.path.join(work, name), "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
    if uid is not None:
        for path in [work] + [os.path.join(work, n) for n in files]:
            os.chown(path, uid, gid)


def _supervise(child: _Child, fds: list[int], limits: SandboxLimits, relay: bool) -> ExecutionResult:
    """Collect output until the program ends or must be killed; kill its group; wait for its end."""
    result = ExecutionResult()
    out_fd, err_fd, control_fd = fds
    buffers = {fd: bytearray() for fd in fds}
    totals = dict.fromkeys(fds, 0)
    sel = selectors.DefaultSelector()
    for fd in fds:
        sel.register(fd, selectors.EVENT_READ)
    started = time.monotonic()
    ready_at = exited_at = None
    try:
        while sel.get_map():
            now = time.monotonic()
            if ready_at is None and b"\n" in buffers[control_fd]:
                ready_at = now
            deadline = (ready_at + limits.timeout_s) if ready_at else (started + limits.setup_timeout_s)
            if now >= deadline:
                result.killed = "timeout" if ready_at else "setup_timeout"
                break
            if exited_at is None and child.exited.is_set():
                exited_at = now
            if exited_at is not None and now - exited_at > 0.2:
                break  # something outside a PID namespace still holds the pipes
            wait = min(deadline - now, 0.05 if exited_at is not None else 0.5)
            for key, _ in sel.select(timeout=max(wait, 0)):
                data = os.read(key.fd, _READ_CHUNK)
                if not data:
                    sel.unregister(key.fd)
                    continue
                totals[key.fd] += len(data)
                keep = limits.output_bytes if key.fd != control_fd else limits.output_limit_bytes
                room = keep - len(buffers[key.fd])
                if room > 0:
                    buffers[key.fd] += data[:room]
            if sum(totals.values()) > limits.output_limit_bytes:
                result.killed = "output_limit"
                break
    finally:
        sel.close()
        child.kill(relay)
        child.exited.wait(30)
    ended = time.monotonic()
    result.duration_s = round(ended - (ready_at or ended), 4)
    result.cpu_s = round(child.cpu_s, 4)
    status = child.status
    if status is None:
        result.setup_error = "the sandbox fork server stopped"
    elif os.WIFEXITED(status):
        result.exit_code = os.WEXITSTATUS(status)
    elif os.WIFSIGNALED(status):
        result.signal = os.WTERMSIG(status)
        if result.killed is None and result.signal == signal.SIGKILL and result.cpu_s >= limits.cpu_limit() - 0.5:
            result.killed = "cpu_time"
    result.stdout = bytes(buffers[out_fd]).decode("utf-8", "replace")
    result.stderr = bytes(buffers[err_fd]).decode("utf-8", "replace")
    result.stdout_bytes, result.stderr_bytes = totals[out_fd], totals[err_fd]
    if result.setup_error is None:
        _parse_control(buffers[control_fd], result)
    return result


# --- the fork server -------------------------------------------------------------------------

class _Child:
    """One sandboxed process as the fork server reports it."""

    def __init__(self) -> None:
        self.pid: int | None = None
        self.started = threading.Event()
        self.exited = threading.Event()
        self.status: int | None = None
        self.cpu_s = 0.0

    def kill(self, relay: bool) -> None:
        """End the sandbox: through its relay process if it has one, else by killing its group.

        In root mode the server's child is the PID namespace's init: killing it (its group)
        makes the kernel kill everything else in the namespace before it can be reaped. In
        user-namespace mode the relay kills the init and reaps it, so that nothing of the sandbox
        is left when it exits; the group kill is the fallback.
        """
        if self.exited.is_set():
            return
        self.started.wait(30)
        if self.pid is None:
            return
        # Not reaped before the server says so: the pid and group id are still this child's.
        if relay and not self.exited.is_set():
            try:
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                return
            if self.exited.wait(2):
                return
        if not self.exited.is_set():
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


class _Forkserver:
    """Client of one fork server process (see :mod:`prefgen.sandbox.child`)."""

    def __init__(self, python: str):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        # One empty directory per server: each sandbox mounts its private root on it, inside its
        # own mount namespace (so they never see one another's), and no sandbox needs one of its own.
        self.mount_point = tempfile.mkdtemp(prefix="prefgen-sandbox-root-")
        self.cleanup = weakref.finalize(self, _remove_directory, self.mount_point, os.getpid())
        try:
            self.process = subprocess.Popen([python, "-I", "-S", "-c", _BOOTSTRAP, self.mount_point], stdin=theirs,
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                            cwd="/", env=SCRUBBED_ENV, start_new_session=True)
        finally:
            theirs.close()
        self.sock = ours
        self.pid = os.getpid()
        self.alive = True
        self._send_lock = threading.Lock()
        self._children: dict[int, _Child] = {}
        self._loaded: set[str] = set()  # shared code the server holds
        self._ids = itertools.count()
        threading.Thread(target=self._read, name="prefgen-sandbox-forkserver", daemon=True).start()

    def spawn(self, fds: list[int], new_pid_namespace: bool, binds: list[str],
              shared: Iterable[str] = ()) -> _Child:
        """Ask for a sandboxed process; ConnectionError if the server is gone (it is then replaced).

        ``fds``: the ends of its stdout, stderr and control pipes, its spec, its private input.
        ``shared``: keys of shared code (:func:`_shared_key`) it needs, loaded first if new here.
        """
        child = _Child()
        request = next(self._ids)
        with self._send_lock:
            self._children[request] = child
            try:
                for key in shared:
                    if key not in self._loaded:
                        self.sock.send(marshal.dumps(("load", key, _SHARED[key][1])))
                        self._loaded.add(key)
                socket.send_fds(self.sock, [marshal.dumps(("spawn", request, new_pid_namespace, binds))], fds)
            except OSError as exc:
                self._children.pop(request, None)
                self.alive = False
                raise ConnectionError(f"sandbox fork server gone: {exc}") from exc
        return child

    def _read(self) -> None:
        while True:
            try:
                message = self.sock.recv(4096)
            except OSError:
                message = b""
            if not message:
                break
            kind, request, *rest = marshal.loads(message)
            child = self._children.get(request)
            if child is None:
                continue
            if kind == "started":
                child.pid = rest[0]
                child.started.set()
            elif kind == "exited":
                child.status, child.cpu_s = rest
                self._children.pop(request, None)
                child.started.set()
                child.exited.set()
        self.alive = False
        for child in list(self._children.values()):
            child.started.set()
            child.exited.set()


_servers: dict[str, _Forkserver] = {}
_servers_lock = threading.Lock()


def _forkserver(python: str) -> _Forkserver:
    """The fork server for ``python``, (re)started when missing, dead, or inherited by a fork."""
    with _servers_lock:
        server = _servers.get(python)
        if server is None or not server.alive or server.pid != os.getpid():
            server = _servers[python] = _Forkserver(python)
        return server


_SHARED: dict[str, tuple[types.CodeType, bytes]] = {}  # key -> (code, marshal bytes)
_SHARED_KEYS: dict[int, str] = {}  # id(code) -> key; _SHARED keeps the code (and its id) alive
_shared_lock = threading.Lock()


def _shared_key(code: types.CodeType) -> str:
    """The key of a shared code object (the digest of its marshal bytes), registered once."""
    with _shared_lock:
        key = _SHARED_KEYS.get(id(code))
        if key is None:
            data = marshal.dumps(code)
            key = hashlib.sha256(data).hexdigest()[:32]
            _SHARED.setdefault(key, (code, data))
            _SHARED_KEYS[id(code)] = key
        return key


def _remove_directory(path: str, owner_pid: int) -> None:
    """Remove a server's mount point, in the process that made it only: removing it detaches the
    template the server has mounted there (in its own namespace), and a forked child of prefgen
    that exits must not do that to its parent's server."""
    if os.getpid() != owner_pid:
        return
    try:
        os.rmdir(path)
    except OSError:
        pass


def _kill_uid(uid: int) -> None:
    """Kill every process running as ``uid`` (plain mode, root only: the uid is ours alone)."""
    for _ in range(5):
        found = False
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    found = True
                    os.kill(int(entry), signal.SIGKILL)
            except (FileNotFoundError, ProcessLookupError, PermissionError):
                continue
        if not found:
            return
        time.sleep(0.01)


def _parse_control(data: bytearray, result: ExecutionResult) -> None:
    lines = bytes(data).decode("utf-8", "replace").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:
        if result.killed is None:
            result.setup_error = "the sandbox exited before starting the program"
        return
    first = _literal(lines[0])
    if isinstance(first, tuple) and first[:1] == ("setup_error",):
        result.setup_error = str(first[1])
        return
    if isinstance(first, tuple) and first[:1] == ("ready",) and isinstance(first[1], dict):
        result.isolation = dict(first[1])
    result.channel = lines[1:]


def _literal(line: str) -> Any:
    """Parse one control record; malformed text stays a string."""
    if len(line) > 200_000:
        return line[:200]
    try:
        return literal_eval(line)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return line

"""The sandbox's fork server: the only code that runs in a sandboxed process before its program.

Not imported by prefgen: :mod:`prefgen.sandbox.runner` starts ``python -I -S -c <this file>
<base directory>`` once per process, with one end of a Unix socket pair as its stdin. The server
is single-threaded. A ``load`` request gives it shared code (prefgen's own test harness, the same
in every run) to keep: it is unmarshalled once and every later sandbox inherits it. For each
``spawn`` request (with five descriptors: stdout, stderr and control pipe ends, the spec -- the
program and its limits, a read-only memfd -- and the private input, if any) it forks a child that:

1. starts its own session, dies with the server (``PR_SET_PDEATHSIG``), reads the spec;
2. gets new mount, PID, network, IPC and UTS namespaces. In root mode the server makes the child
   the init of a new PID namespace itself (``unshare(CLONE_NEWPID)``, fork, ``setns`` back),
   forks it inside a network namespace made in advance for it alone (see below), and the child
   unshares the rest; in user-namespace mode the child unshares a user namespace with the others
   and forks the PID namespace's init, staying behind as its relay;
3. gets a private root and moves into it with ``pivot_root``, so that nothing else of the host
   is reachable: read-only binds of the system and interpreter directories, a few device nodes,
   a fresh ``/proc``, and a size-capped tmpfs of its own for ``/tmp``, ``/dev/shm`` and the
   working directory ``/sandbox``. In root mode the read-only part is a template the server
   built once in a mount namespace of its own (a tmpfs made read-only for good, which every
   sandbox's mount namespace copies); the writable tmpfs is new in every sandbox. In
   user-namespace mode each sandbox builds the whole root;
4. sets resource limits (CPU time, address space, file size, open files, processes, core 0);
5. drops every privilege: capability bounding set emptied, groups cleared, a random unprivileged
   uid/gid (when started as root) or an empty capability set (user-namespace mode), and
   ``no_new_privs`` so that no setuid binary gives any of it back;
6. reports ``ready`` on the control pipe and runs the program as ``__main__``.

Forking a warm interpreter costs a few milliseconds where ``unshare`` + a new interpreter per
execution cost tens. Making a network namespace is the slowest step of a sandbox's set-up (a
loopback device, sysctl tables): in root mode the server makes a few while it waits for requests
(``NET_STOCK``) and hands each to exactly one sandbox -- a namespace is never used twice, so
nothing of one program can be found by another there. The server reports ``("started", id, pid)`` and ``("exited", id, status,
cpu_seconds)`` for each request and, when the socket closes (prefgen exited), kills every
sandbox it started and exits. Only built-in modules and ``ctypes`` are used, and a few standard
modules are imported once, before any fork (``WARM_MODULES``).
"""

import fcntl
import marshal
import os
import signal
import sys

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC = 32, 4096, 16384
MS_NOATIME, MS_NODIRATIME, MS_RELATIME = 1024, 2048, 1 << 21
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 24, 38
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
PR_SET_CHILD_SUBREAPER = 36
# statvfs flag -> mount flag; a remount inside a user namespace must keep the locked ones.
STATVFS_TO_MS = ((1, MS_RDONLY), (2, MS_NOSUID), (4, MS_NODEV), (8, MS_NOEXEC),
                 (1024, MS_NOATIME), (2048, MS_NODIRATIME), (4096, MS_RELATIME))
PIVOT_ROOT_SYSCALL = {"x86_64": 155, "aarch64": 41, "riscv64": 41, "ppc64le": 203, "ppc64": 203,
                      "s390x": 217}
DEVICES = ("null", "zero", "random", "urandom")
CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_PRIVATE = 1 << 18
# Imported once by the server rather than in every sandbox: the test harness's codec (json) and
# what problems and their tests import most (HumanEval prompts import typing in both processes).
WARM_MODULES = ("json", "typing", "math", "copy")
# Fresh network namespaces kept ready (root mode): one per sandbox that may start at once.
NET_STOCK = 4


class SetupError(Exception):
    pass


class _Relay(BaseException):
    """Raised in the forking parent: leave the set-up block to become the relay."""


def _libc():
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
    libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    libc.syscall.restype = ctypes.c_long
    return libc, ctypes


def _check(ctypes, result, what):
    if result != 0:
        err = ctypes.get_errno()
        raise SetupError(f"{what}: {os.strerror(err)}")


def _mount(libc, ctypes, source, target, fstype, flags, data=None):
    enc = (lambda s: s.encode() if isinstance(s, str) else s)
    _check(ctypes, libc.mount(enc(source), enc(target), enc(fstype), flags, enc(data)),
           f"mount {fstype or 'bind'} {source} on {target}")


def _bind(libc, ctypes, source, target, writable_device=False):
    """Bind ``source`` at ``target`` (created), read-only and nosuid unless it is a device."""
    if os.path.isdir(source):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        open(target, "a").close()
    _mount(libc, ctypes, source, target, None, MS_BIND | MS_REC)
    if writable_device:
        return
    locked = 0
    vfs_flags = os.statvfs(target).f_flag
    for st_flag, ms_flag in STATVFS_TO_MS:
        if vfs_flags & st_flag:
            locked |= ms_flag
    _mount(libc, ctypes, None, target, None,
           MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | locked)


def _build_root(spec, root, libc, ctypes):
    """Make a private root, mounted on ``root``, and pivot into it. Returns what was set up."""
    _mount(libc, ctypes, "tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV,
           f"size={spec['disk_mb']}m,nr_inodes={spec['inodes']},mode=755")
    _add_system(spec["binds"], root, libc, ctypes)
    for path in ("/tmp", "/dev/shm"):
        os.makedirs(root + path, exist_ok=True)
        os.chmod(root + path, 0o1777)
    os.makedirs(root + "/sandbox")
    _add_files(spec, root + "/sandbox")
    return _pivot(root, libc, ctypes)


def _add_system(binds, root, libc, ctypes):
    """The system directories (read-only binds), device nodes and ``/proc``'s mount point."""
    for path in binds:
        if not os.path.lexists(path):
            continue
        target = root + path
        if os.path.islink(path):
            os.makedirs(os.path.dirname(target), exist_ok=True)
            os.symlink(os.readlink(path), target)
        else:
            _bind(libc, ctypes, path, target)
    os.makedirs(root + "/dev", exist_ok=True)
    for name in DEVICES:
        _bind(libc, ctypes, "/dev/" + name, root + "/dev/" + name, writable_device=True)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
        os.symlink(target, root + "/dev/" + name)
    os.makedirs(root + "/proc")


def _add_files(spec, sandbox):
    """The program's files in its working directory, which only its uid may enter."""
    for name, data in spec["files"].items():
        with open(sandbox + "/" + name, "wb") as f:
            f.write(data)
    if spec["uid"] is not None:
        for dirpath, dirnames, filenames in os.walk(sandbox):
            for name in [dirpath] + [os.path.join(dirpath, n) for n in filenames]:
                os.chown(name, spec["uid"], spec["gid"])
    os.chmod(sandbox, 0o700)


def _pivot(root, libc, ctypes):
    """Mount a fresh /proc and make ``root`` the root: nothing else of the host stays reachable."""
    try:
        _mount(libc, ctypes, "proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        proc = True
    except SetupError:
        proc = False  # some container runtimes forbid a new procfs; nothing needs it
    os.chdir(root)
    nr = PIVOT_ROOT_SYSCALL.get(os.uname().machine)
    pivoted = nr is not None and libc.syscall(nr, b".", b".") == 0
    if pivoted:
        # The old root is now stacked on top of the new one: detach it.
        _check(ctypes, libc.umount2(b".", MNT_DETACH), "umount old root")
    else:
        os.chroot(".")
    os.chdir("/sandbox")
    return {"filesystem": "private root" if pivoted else "chroot", "proc": proc}


def _build_template(binds, base, libc, ctypes):
    """Root mode, once per fork server: the read-only part of every sandbox's root file system.

    In a mount namespace of the server's own (every sandbox's starts as a copy of it), ``base``
    gets a small tmpfs holding ``root`` -- a tmpfs with the system binds, device nodes and empty
    mount points, then made read-only for good (its superblock: no mount of it can write) --
    and ``stage``, where each sandbox mounts its own writable tmpfs before binding it in.
    Returns ``root``.
    """
    _check(ctypes, libc.unshare(CLONE_NEWNS), "unshare")
    _mount(libc, ctypes, None, "/", None, MS_REC | MS_PRIVATE)
    _mount(libc, ctypes, "tmpfs", base, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=700")
    root, stage = base + "/root", base + "/stage"
    os.mkdir(stage)
    os.mkdir(root)
    _mount(libc, ctypes, "tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,nr_inodes=1024,mode=755")
    _add_system(binds, root, libc, ctypes)
    for path in ("/tmp", "/dev/shm", "/sandbox"):
        os.makedirs(root + path, exist_ok=True)
    _mount(libc, ctypes, None, root, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    return root


def _enter_template(spec, root, libc, ctypes):
    """Root mode: this sandbox's root is its copy of the template, with a fresh, size-capped
    tmpfs of its own for ``/sandbox``, ``/tmp`` and ``/dev/shm``; then pivot into it."""
    stage = os.path.dirname(root) + "/stage"
    _mount(libc, ctypes, "tmpfs", stage, "tmpfs", MS_NOSUID | MS_NODEV,
           f"size={spec['disk_mb']}m,nr_inodes={spec['inodes']},mode=755")
    for name, target, mode in (("tmp", "/tmp", 0o1777), ("shm", "/dev/shm", 0o1777), ("sandbox", "/sandbox", 0o700)):
        os.mkdir(stage + "/" + name)
        os.chmod(stage + "/" + name, mode)
        _mount(libc, ctypes, stage + "/" + name, root + target, None, MS_BIND)
    _add_files(spec, stage + "/sandbox")
    # The stage goes with the old root, which _pivot detaches whole: one unmount, not two (each
    # waits for an RCU grace period, milliseconds on every sandbox's start).
    return _pivot(root, libc, ctypes)


def _set_limits(limits):
    import resource
    import signal

    # A write past RLIMIT_FSIZE should fail with EFBIG, not kill the process.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    pairs = [("RLIMIT_CORE", 0), ("RLIMIT_CPU", limits["cpu"]), ("RLIMIT_AS", limits["as"]),
             ("RLIMIT_FSIZE", limits["fsize"]), ("RLIMIT_NOFILE", limits["nofile"]),
             ("RLIMIT_MEMLOCK", 0), ("RLIMIT_MSGQUEUE", 0)]
    if limits.get("nproc") is not None:
        pairs.append(("RLIMIT_NPROC", limits["nproc"]))
    for name, value in pairs:
        if hasattr(resource, name):
            resource.setrlimit(getattr(resource, name), (value, value))


def _drop_privileges(spec, libc, ctypes):
    """Leave no capability, no root identity and no way to regain either."""
    uid, gid = spec["uid"], spec["gid"]
    if spec["mode"] != "plain" or os.geteuid() == 0:
        for cap in range(64):
            if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
                break  # EINVAL past the last capability the kernel knows
        libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    if uid is not None:
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
    elif spec["mode"] == "userns":
        # Root inside our own user namespace: clear effective, permitted and inheritable sets.
        header = (ctypes.c_uint32 * 2)(0x20080522, 0)
        data = (ctypes.c_uint32 * 6)()
        _check(ctypes, libc.capset(header, data), "capset")
    _check(ctypes, libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    # A change of uid clears the parent-death signal that unshare --kill-child set: re-arm it.
    libc.prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0)
    if uid is not None:
        try:
            os.setuid(0)
        except PermissionError:
            pass
        else:
            raise SetupError("privileges were not dropped")


def _confine(spec, root, libc, ctypes):
    """Root (a template's or an empty mount point), limits, privileges; what was set up."""
    info = {}
    if spec["mode"] == "plain":
        os.chdir(spec["workdir"])
    elif root[0] == "template":
        info.update(_enter_template(spec, root[1], libc, ctypes))
    else:
        info.update(_build_root(spec, root[1], libc, ctypes))
    _set_limits(spec["limits"])
    _drop_privileges(spec, libc, ctypes)
    os.environ["HOME"] = os.getcwd()
    return info


def _run(main, program_globals):
    """Run the program as __main__ and end the process as the interpreter would."""
    import builtins

    namespace = {"__name__": "__main__", "__builtins__": builtins}
    namespace.update(program_globals)
    sys.argv = ["main.py"]
    status = 0
    try:
        if isinstance(main, str):
            main = compile(main, "main.py", "exec", dont_inherit=True, optimize=0)
        exec(main, namespace)
    except SystemExit as exc:
        status = _exit_status(exc.code)
    except BaseException as exc:
        import traceback

        traceback.print_exception(type(exc), exc, exc.__traceback__.tb_next)  # not our frame
        status = 1
    _exit(status)


def _exit_status(code):
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    try:
        sys.stderr.write(f"{code}\n")
    except BaseException:
        pass
    return 1


def _exit(status):
    """What interpreter shutdown does that matters here: threads, atexit, flush; then leave."""
    try:
        if "threading" in sys.modules:
            sys.modules["threading"]._shutdown()
        import atexit

        atexit._run_exitfuncs()
    except BaseException:
        pass
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass
    os._exit(status)


def _remove(directory):
    try:
        os.rmdir(directory)
    except OSError:
        pass


def _report_setup_error(exc):
    try:
        os.write(3, (repr(("setup_error", f"{type(exc).__name__}: {exc}")) + "\n").encode())
    finally:
        os._exit(125)


def _relay(pid):
    """Wait for the PID namespace's init and leave with its status (signal included).

    SIGTERM (from prefgen, at a timeout) kills the init; the kernel then kills and reaps
    everything else in its namespace before the init can be reaped here, so that when this
    process is gone, the whole sandbox is.
    """
    signal.signal(signal.SIGTERM, lambda *_: os.kill(pid, signal.SIGKILL))
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig not in (signal.SIGKILL, signal.SIGSTOP):
            signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128)


def _spawned(fds, root, pid_namespace_error, shared, libc, ctypes, has_network_namespace=False):
    """The forked child of the server: confine, then run the program. Never returns.

    ``fds``: stdout, stderr and control pipe ends, the spec (a read-only memfd) and, if the
    program has one, its private input. In root mode this process is already the init of a new
    PID namespace (the server made it so), unless ``pid_namespace_error`` says why not.
    ``root``: ("template", the template's root) or ("empty", a directory to build a root on).
    ``shared``: the code objects the server holds, by key. ``has_network_namespace``: the server
    forked this process inside a new network namespace of its own (else it unshares one).
    """
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setsid()
        libc.prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0)
        spec = _take_descriptors(fds)
    except BaseException:
        os._exit(125)
    try:
        if spec["cache_tag"] != sys.implementation.cache_tag:
            raise SetupError(f"sandbox python is {sys.implementation.cache_tag}, "
                             f"prefgen runs {spec['cache_tag']}")
        if pid_namespace_error:
            raise SetupError(pid_namespace_error)
        program_globals = dict(spec["globals"])
        for name, key in spec["shared"].items():
            if key not in shared:
                raise SetupError(f"shared code {name} was not loaded in the fork server")
            program_globals[name] = shared[key]
        if spec["main_shared"]:
            main_code = program_globals[spec["main_shared"]]
        else:
            main_code = marshal.loads(spec["main"]) if isinstance(spec["main"], bytes) else spec["main"]
        if spec["mode"] == "userns":
            relay = _enter_user_namespaces(libc, ctypes)
            if relay:
                raise _Relay()
        elif spec["mode"] == "root":
            network = 0 if has_network_namespace else CLONE_NEWNET
            _check(ctypes, libc.unshare(CLONE_NEWNS | network | CLONE_NEWIPC | CLONE_NEWUTS), "unshare")
            _mount(libc, ctypes, None, "/", None, MS_REC | MS_PRIVATE)
        info = _confine(spec, root, libc, ctypes)
    except _Relay:
        _relay(relay)
    except BaseException as exc:
        _report_setup_error(exc)
    os.write(3, (repr(("ready", info)) + "\n").encode())
    if not spec["channel"]:
        os.close(3)
    _run(main_code, program_globals)


def _take_descriptors(fds):
    """stdin from /dev/null, stdout, stderr, the control pipe on 3, the private input on 4,
    nothing else open; returns the spec."""
    # Above 4 first, so that placing them on 1-4 cannot overwrite one another.
    out, err, control, spec_fd, *private = [fcntl.fcntl(fd, fcntl.F_DUPFD, 5) for fd in fds]
    spec = marshal.loads(_read_spec(spec_fd))
    os.dup2(out, 1)
    os.dup2(err, 2)
    os.dup2(control, 3)
    null = os.open("/dev/null", os.O_RDONLY)
    os.dup2(null, 0)
    if private:
        # The program reads it on fd 4; nothing in its file system leads to it.
        os.dup2(private[0], 4)
    os.closerange(5 if private else 4, 1 << 16)
    return spec


def _read_spec(fd):
    size = os.fstat(fd).st_size
    chunks, offset = [], 0
    while offset < size:
        chunk = os.pread(fd, size - offset, offset)
        if not chunk:
            break
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)


def _enter_user_namespaces(libc, ctypes):
    """User-namespace mode: new user, PID and other namespaces; returns the init's pid in the
    forking parent (which becomes the relay), 0 in the init."""
    uid, gid = os.getuid(), os.getgid()
    flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
    _check(ctypes, libc.unshare(flags), "unshare")
    for name, text in (("setgroups", "deny"), ("uid_map", f"0 {uid} 1"), ("gid_map", f"0 {gid} 1")):
        with open(f"/proc/self/{name}", "w") as f:
            f.write(text)
    _mount(libc, ctypes, None, "/", None, MS_REC | MS_PRIVATE)
    pid = os.fork()
    if pid == 0:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        libc.prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0)  # init of the new PID namespace
    return pid


def _template_or_empty(binds, base, libc, ctypes):
    """("template", its root) made by :func:`_build_template`; ("empty", base) if it failed:
    each sandbox then builds its whole root itself, as in user-namespace mode."""
    try:
        return ("template", _build_template(binds, base, libc, ctypes))
    except (OSError, SetupError):
        return ("empty", base)


def _fork_sandbox(new_pid_namespace, home_pid_namespace, libc, ctypes, network=None):
    """fork(); with ``new_pid_namespace`` the child is the init of a PID namespace of its own.

    unshare(CLONE_NEWPID) only decides where this process's next child goes: setns() back to
    its own namespace right after the fork keeps every later child where it was. ``network``:
    (a network namespace's descriptor, the server's own network namespace's descriptor): the
    child is forked inside the first, and the server goes back to its own right after.
    Returns (pid, why the new PID namespace could not be made or None, whether the child was
    forked inside ``network``).
    """
    if not new_pid_namespace:
        return os.fork(), None, False
    if libc.unshare(CLONE_NEWPID) != 0:
        return os.fork(), f"unshare(CLONE_NEWPID): {os.strerror(ctypes.get_errno())}", False
    pid = None
    entered = False
    try:
        # If the made namespace cannot be entered, the child makes one of its own instead.
        entered = network is not None and libc.setns(network[0], CLONE_NEWNET) == 0
        pid = os.fork()
    finally:
        if pid != 0:  # not in the child, which is the new namespace's init
            if entered:
                _back_home(libc, network[1], CLONE_NEWNET)
            _check(ctypes, libc.setns(home_pid_namespace, CLONE_NEWPID), "setns back to the server's PID namespace")
    return pid, None, entered


def _new_network_namespace(home_network, libc, ctypes):
    """A descriptor of a new, unused network namespace; the server itself stays in its own."""
    _check(ctypes, libc.unshare(CLONE_NEWNET), "unshare(CLONE_NEWNET)")
    try:
        return os.open("/proc/self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    finally:
        _back_home(libc, home_network, CLONE_NEWNET)


def _back_home(libc, home, kind):
    """Return the server to its own namespace; a server that cannot must not fork anything more
    (its next sandboxes would share a namespace): it exits, and prefgen starts a new one."""
    if libc.setns(home, kind) != 0:
        os._exit(70)


def serve():
    """The fork server loop (see the module docstring)."""
    import select
    import socket

    libc, ctypes = _libc()
    import resource  # noqa: F401 - loaded once here rather than in every child

    for name in WARM_MODULES:
        __import__(name)
    # Sandboxes are forks of this process: a garbage collection in one of them would write to
    # every object's header and copy every page. Frozen objects are never collected.
    import gc

    gc.freeze()

    server = _Server(socket.socket(fileno=0), sys.argv[1], libc, ctypes)
    # Orphans of a sandbox (if its relay process was killed first) are reaped here, promptly.
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    while True:
        # Idle with stock to make: look for requests without waiting, make one namespace if none.
        idle_work = server.net_stock_low()
        readable, _, _ = select.select([server.sock, wake_r], [], [], 0 if idle_work else None)
        if not readable:
            server.stock_network_namespace()
            continue
        if wake_r in readable:
            os.read(wake_r, 4096)
        server.reap()
        if server.sock in readable:
            message, fds, _, _ = socket.recv_fds(server.sock, 65536, 5)
            server.handle(message, fds)


class _Server:
    """The fork server's state: its sandboxes, the shared code it holds, the root template."""

    def __init__(self, sock, base, libc, ctypes):
        self.sock = sock
        self.base = base  # an empty directory: each sandbox mounts its root there, in its own namespace
        self.libc, self.ctypes = libc, ctypes
        self.template = None  # root mode: ("template", root) once built, ("empty", base) if it cannot be
        self.home_pid_namespace = os.open("/proc/self/ns/pid", os.O_RDONLY)
        self.children = {}  # pid -> request id
        self.shared = {}  # key -> code object
        self.home_network = os.open("/proc/self/ns/net", os.O_RDONLY)
        self.net_stock = []  # descriptors of new, never used network namespaces (root mode)
        self.net_stock_wanted = False  # set by the first root-mode request; off if it cannot be made

    def net_stock_low(self):
        return self.net_stock_wanted and len(self.net_stock) < NET_STOCK

    def stock_network_namespace(self):
        """Make one network namespace for a later sandbox (stop trying if the kernel refuses)."""
        try:
            self.net_stock.append(_new_network_namespace(self.home_network, self.libc, self.ctypes))
        except (OSError, SetupError):
            self.net_stock_wanted = False

    def _take_network_namespace(self):
        """(its descriptor, the server's own) for a new sandbox, or None: it then unshares one."""
        self.net_stock_wanted = True
        if not self.net_stock:
            self.stock_network_namespace()
        return (self.net_stock.pop(), self.home_network) if self.net_stock else None

    def reap(self):
        """Report every sandbox that ended."""
        while self.children:
            try:
                pid, status, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            request = self.children.pop(pid, None)
            self.sock.send(marshal.dumps(("exited", request, status, usage.ru_utime + usage.ru_stime)))

    def handle(self, message, fds):
        """A ``load`` or ``spawn`` request; an empty message (prefgen is gone) ends the server."""
        if not message:
            self.shutdown()
        kind, *fields = marshal.loads(message)
        if kind == "load":  # shared code: loaded once here, inherited by every later sandbox
            key, data = fields
            self.shared[key] = marshal.loads(data)
            import gc

            gc.freeze()
            return
        request, new_pid_namespace, binds = fields
        if new_pid_namespace and self.template is None:
            self.template = _template_or_empty(binds, self.base, self.libc, self.ctypes)
        root = self.template if new_pid_namespace else ("empty", self.base)
        network = self._take_network_namespace() if new_pid_namespace else None
        pid, why, entered = _fork_sandbox(new_pid_namespace, self.home_pid_namespace, self.libc, self.ctypes,
                                          network)
        if pid == 0:
            _spawned(fds, root, why, self.shared, self.libc, self.ctypes, entered)
        if network is not None:
            os.close(network[0])  # the sandbox holds it now (or it was unusable): never handed out again
        for fd in fds:
            os.close(fd)
        self.children[pid] = request
        self.sock.send(marshal.dumps(("started", request, pid)))

    def shutdown(self):
        """Kill every sandbox, remove the mount point, leave."""
        for pid in self.children:
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
        if self.template is not None and self.template[0] == "template":
            self.libc.umount2(self.base.encode(), MNT_DETACH)
        _remove(self.base)
        os._exit(0)


if __name__ == "__main__":
    serve()

"""The first code that runs in a sandboxed process, before anything untrusted.

This file is not imported by prefgen: :mod:`prefgen.sandbox.runner` passes its source to
``python -I -S -c`` with the path of a spec file. It confines the process and then runs the
program:

1. reads the spec (``marshal``: the program and its limits), before the file system is swapped;
2. in the namespace modes (``unshare`` has already given it new mount, PID, network, IPC and UTS
   namespaces) builds a private root: a size-capped tmpfs holding read-only binds of the system
   and interpreter directories, a few device nodes, a fresh ``/proc``, ``/tmp`` and the working
   directory ``/sandbox``, then ``pivot_root`` into it so nothing else of the host is reachable;
3. sets resource limits (CPU time, address space, file size, open files, processes, core 0);
4. drops every privilege: capability bounding set emptied, groups cleared, a random
   unprivileged uid/gid (when started as root) or an empty capability set (user-namespace mode),
   ``no_new_privs`` set so that no setuid binary can give any of it back;
5. reports ``ready`` on the control pipe and runs the program as ``__main__``.

It may only use built-in modules and ``ctypes``: ``json`` alone costs more than the rest of the
start-up. Failures before the program runs are reported as ``setup_error`` and exit 125.
"""

import marshal
import os
import sys

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC = 32, 4096, 16384
MS_NOATIME, MS_NODIRATIME, MS_RELATIME = 1024, 2048, 1 << 21
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 24, 38
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
# statvfs flag -> mount flag; a remount inside a user namespace must keep the locked ones.
STATVFS_TO_MS = ((1, MS_RDONLY), (2, MS_NOSUID), (4, MS_NODEV), (8, MS_NOEXEC),
                 (1024, MS_NOATIME), (2048, MS_NODIRATIME), (4096, MS_RELATIME))
PIVOT_ROOT_SYSCALL = {"x86_64": 155, "aarch64": 41, "riscv64": 41, "ppc64le": 203, "ppc64": 203,
                      "s390x": 217}
DEVICES = ("null", "zero", "random", "urandom")


class SetupError(Exception):
    pass


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


def _build_root(spec, libc, ctypes):
    """Make a private root at spec['root'] and pivot into it. Returns what was set up."""
    root = spec["root"]
    _mount(libc, ctypes, "tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV,
           f"size={spec['disk_mb']}m,nr_inodes={spec['inodes']},mode=755")
    for path in spec["binds"]:
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
    for path in ("/tmp", "/dev/shm"):
        os.makedirs(root + path, exist_ok=True)
        os.chmod(root + path, 0o1777)
    os.makedirs(root + "/sandbox")
    for name, data in spec["files"].items():
        with open(root + "/sandbox/" + name, "wb") as f:
            f.write(data)
    if spec["uid"] is not None:
        for dirpath, dirnames, filenames in os.walk(root + "/sandbox"):
            for name in [dirpath] + [os.path.join(dirpath, n) for n in filenames]:
                os.chown(name, spec["uid"], spec["gid"])
    os.chmod(root + "/sandbox", 0o700)
    os.makedirs(root + "/proc")
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


def _confine(spec):
    libc, ctypes = _libc()
    info = {}
    if spec["mode"] == "plain":
        os.chdir(spec["workdir"])
    else:
        info.update(_build_root(spec, libc, ctypes))
    _set_limits(spec["limits"])
    _drop_privileges(spec, libc, ctypes)
    os.environ["HOME"] = os.getcwd()
    return info


def _run(main, program_globals):
    import builtins

    namespace = {"__name__": "__main__", "__builtins__": builtins}
    namespace.update(program_globals)
    sys.argv = ["main.py"]
    if isinstance(main, str):
        try:
            main = compile(main, "main.py", "exec", dont_inherit=True, optimize=0)
        except (SyntaxError, ValueError) as exc:
            import traceback

            traceback.print_exception(exc, limit=0)
            sys.exit(1)
    try:
        exec(main, namespace)
    except SystemExit:
        raise
    except BaseException as exc:
        import traceback

        traceback.print_exception(type(exc), exc, exc.__traceback__.tb_next)
        sys.exit(1)


def main():
    with open(os.path.join(sys.argv[1], "spec.bin"), "rb") as f:
        spec = marshal.load(f)
    control = spec["control_fd"]
    try:
        if spec["cache_tag"] != sys.implementation.cache_tag:
            raise SetupError(f"sandbox python is {sys.implementation.cache_tag}, "
                             f"prefgen runs {spec['cache_tag']}")
        main_code = marshal.loads(spec["main"]) if isinstance(spec["main"], bytes) else spec["main"]
        info = _confine(spec)
    except BaseException as exc:
        os.write(control, (repr(("setup_error", f"{type(exc).__name__}: {exc}")) + "\n").encode())
        os._exit(125)
    os.dup2(control, 3)
    if control != 3:
        os.close(control)
    os.write(3, (repr(("ready", info)) + "\n").encode())
    if not spec["channel"]:
        os.close(3)
    _run(main_code, spec["globals"])


if __name__ == "__main__":
    main()

"""The trusted tester that runs inside the sandbox: it runs the tests, never the candidate's code.

Not imported at run time: :mod:`prefgen.sandbox.testing` compiles this file and ships the code
object into the sandbox, where it runs as ``__main__`` with ``PAYLOAD`` in its globals (what the
candidate may see: ``setup`` and ``program`` code objects, ``module_name``) beside
``PREFGEN_CODEC`` and ``PREFGEN_CANDIDATE`` (the codec and the candidate's server: like this
file, the same in every run, so the fork server keeps them loaded). The tests themselves are not
in ``PAYLOAD``: they are read from file descriptor 4 (a memfd passed in before the sandbox was
confined; it is in no file system) *after* the candidate's process has been forked, so they
never exist in its memory.

1. The tester makes itself non-dumpable (no process of its uid without privileges can then read
   or write its memory or open its descriptors through ``/proc``), then forks the candidate's
   process, which closes the result channel (fd 3) and the tests' input (fd 4) before it runs
   any code of the candidate (:mod:`prefgen.sandbox.candidate`).
2. The tester reads the tests, runs the problem's setup and trusted prompt code (helpers such as
   HumanEval's ``poly``) in a namespace of its own, and gets from the candidate the names the
   tests need: each function becomes a proxy whose calls cross as plain data
   (:mod:`prefgen.sandbox.plaindata`) and whose results are fresh built-in values.
3. The tests run here, with this process's own builtins; ``==`` in asserts is
   :func:`~prefgen.sandbox.plaindata.strict_equal`.

It reports on fd 3, one ``repr(tuple)`` line per event: ``("start",)``, ``("setup_error", exc)``,
``("program_error", exc)``, ``("tests_error", exc)``, ``("test", index, exc_or_None)``,
``("check_error", exc)``, ``("done",)``, where ``exc`` is ``(type name, message, [(filename,
line, function), ...])``. It uses only built-ins and the modules the fork server has loaded.
"""

import os
import signal
import sys

CHANNEL_FD, PRIVATE_FD = 3, 4
PR_SET_DUMPABLE = 4


class CandidateError(Exception):
    """An exception the candidate raised that has no built-in counterpart to raise here."""


def _main(payload):
    import builtins
    import marshal

    codec = {"__name__": "prefgen_plaindata", "__builtins__": builtins}
    exec(payload["codec"], codec)
    _make_non_dumpable()
    # The candidate may signal this process: SIGINT would raise KeyboardInterrupt in the tests.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    candidate = Candidate(payload, codec)
    tests = marshal.loads(_read_all(PRIVATE_FD))
    os.close(PRIVATE_FD)
    try:
        _emit("start")
        namespace = _trusted_namespace(tests, codec)
        connected = namespace is not None and _connect(namespace, tests, candidate, codec)
        if connected and _run_tests(namespace, tests):
            _emit("done")
    except BaseException as exc:  # the channel itself failed: report nothing more
        _note_internal_error(exc)
    candidate.stop()
    _finish()


def _make_non_dumpable():
    import ctypes

    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_DUMPABLE, 0) failed")


def _read_all(fd):
    chunks = []
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _emit(*fields):
    data = (repr(fields) + "\n").encode("utf-8", "backslashreplace")
    while data:
        data = data[os.write(CHANNEL_FD, data):]


def _note_internal_error(exc):
    try:
        import traceback

        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.__stderr__)
    except BaseException:
        pass


def _finish():
    for stream in (sys.__stdout__, sys.__stderr__):
        try:
            stream.flush()
        except BaseException:
            pass
    os._exit(0)


def describe(exc):
    """``(type name, message, frames)``; for an exception of the candidate, its own description."""
    remote = exc.__dict__.get("_prefgen_remote") if hasattr(exc, "__dict__") else None
    if remote is not None:
        return remote
    try:
        message = str(exc)
    except BaseException:
        message = "<unprintable exception>"
    frames = []
    tb = exc.__traceback__
    while tb is not None:
        frames.append((tb.tb_frame.f_code.co_filename, tb.tb_lineno, tb.tb_frame.f_code.co_name))
        tb = tb.tb_next
    cls = type(exc)
    name = cls.__qualname__ if cls.__module__ == "builtins" else cls.__module__ + "." + cls.__qualname__
    return (name, message[:2000], frames[-40:])


# --- the candidate's process, seen from here ---------------------------------------------------

class Candidate:
    """The forked process running the candidate's program, and the calls made to it."""

    def __init__(self, payload, codec):
        self.codec = codec
        self.gone = None  # the description of why it can no longer answer
        import gc

        gc.freeze()  # fewer pages copied on write in both processes after the fork
        requests_r, self.requests = os.pipe()
        self.replies, replies_w = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            self._become_candidate(payload, requests_r, replies_w)
        os.close(requests_r)
        os.close(replies_w)

    def _become_candidate(self, payload, requests, replies):
        import builtins

        try:
            for fd in (CHANNEL_FD, PRIVATE_FD, self.requests, self.replies):
                os.close(fd)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            server = {"__name__": "prefgen_candidate", "__builtins__": builtins}
            exec(payload["server"], server)
            server["serve"](payload, self.codec, requests, replies)
        finally:
            os._exit(1)

    def loaded(self):
        """None once the program ran, else the description of its failure."""
        reply = self._receive()
        if reply is not None and reply[0] == "loaded":
            return None
        if reply is not None and reply[0] == "error" and len(reply) == 2:
            return _remote_description(reply[1])
        return self.gone or self._lost("the program's process answered out of turn")

    def ask_names(self, wanted):
        """Ask which of ``wanted`` the program defines (sent before it has loaded, to save a wait)."""
        self._send(["names", wanted])

    def names(self, wanted):
        """[(name, kind, value)] answering :meth:`ask_names`."""
        reply = self._receive() if self.gone is None else None
        entries = reply[1] if reply is not None and reply[0] == "names" and len(reply) == 2 else []
        found = []
        for entry in entries if type(entries) is list else []:
            if type(entry) is list and len(entry) >= 2 and entry[0] in wanted and type(entry[1]) is str:
                found.append((entry[0], entry[1], entry[2] if len(entry) > 2 else None))
        return found

    def call(self, name, args, kwargs):
        """Call ``name`` in the candidate's process: a plain value, or an exception raised here."""
        plain = self.codec["to_plain"]
        try:
            request = ["call", name, plain(list(args)), plain(dict(kwargs))]
        except self.codec["PlainDataError"] as exc:
            raise TypeError(f"cannot pass this argument to {name}(): {exc}") from None
        reply = self._request(request)
        if reply is None:
            raise _remote_exception(self.gone)
        if reply[0] == "ok" and len(reply) == 2:
            return self.codec["from_plain"](reply[1], 0)
        if reply[0] == "raised" and len(reply) == 2:
            raise _remote_exception(_remote_description(reply[1]))
        if reply[0] == "unplain" and len(reply) == 2 and type(reply[1]) is str:
            raise TypeError(reply[1][:2000])
        raise _remote_exception(self._lost("the program's process answered out of turn"))

    def _request(self, message):
        self._send(message)
        return self._receive() if self.gone is None else None

    def _send(self, message):
        if self.gone is None:
            try:
                self.codec["send_message"](self.requests, message)
            except OSError:
                self._lost("the program's process ended")

    def _receive(self):
        try:
            reply = self.codec["receive_message"](self.replies)
        except self.codec["PlainDataError"] as exc:
            self._lost(f"the program's process sent a malformed answer ({exc})")
            return None
        if reply is None:
            self._lost("the program's process ended" + self._exit_note())
        return reply

    def _exit_note(self):
        """How the candidate's process ended (`` (exit status 0)``), if it did within 50 ms."""
        import time

        for _ in range(10):
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except OSError:
                return ""
            if pid:
                if os.WIFSIGNALED(status):
                    return f" (killed by signal {os.WTERMSIG(status)})"
                return f" (exit status {os.WEXITSTATUS(status)})"
            time.sleep(0.005)
        return ""

    def _lost(self, why):
        if self.gone is None:
            self.gone = ("ProgramEnded", why, [])
        return self.gone

    def stop(self):
        """Kill the candidate's process; not waited for: the sandbox's end reaps what is left."""
        try:
            os.kill(self.pid, 9)
        except OSError:
            pass


def _remote_description(desc):
    """A candidate's exception description, checked field by field (it is hostile data)."""
    if type(desc) is not list or len(desc) != 4 or type(desc[0]) is not str or type(desc[1]) is not str:
        return ("ProtocolError", "malformed exception description", [], "Exception")
    frames = [(f[0][:200], f[1], f[2][:200]) for f in desc[2] if type(f) is list and len(f) == 3
              and type(f[0]) is str and type(f[1]) is int and type(f[2]) is str] if type(desc[2]) is list else []
    base = desc[3] if type(desc[3]) is str else "Exception"
    return (desc[0][:200], desc[1][:2000], frames[-40:], base)


def _remote_exception(desc):
    """An exception of the built-in class the candidate's derives from, carrying its description."""
    import builtins

    name, message, frames = desc[:3]
    cls = getattr(builtins, desc[3], None) if len(desc) > 3 else None
    if not (isinstance(cls, type) and issubclass(cls, Exception)):
        cls = CandidateError
    try:
        exc = cls(message)
    except BaseException:
        exc = CandidateError(message)
    exc._prefgen_remote = (name, message, frames)
    return exc


# --- the tests ---------------------------------------------------------------------------------

def _trusted_namespace(tests, codec):
    """The namespace the tests run in: setup and prompt code run here; None after an error."""
    import builtins

    namespace = {"__name__": tests["module_name"], "__builtins__": builtins,
                 "_prefgen_eq": codec["strict_equal"]}
    for code in (tests["setup"], tests["prefix"]):
        if code is None:
            continue
        try:
            exec(code, namespace)
        except BaseException as exc:
            _emit("setup_error", describe(exc))
            return None
    return namespace


def _connect(namespace, tests, candidate, codec):
    """Bind the names the tests take from the program; False (reported) if the program failed."""
    import builtins

    forced = tests["remote_names"]
    wanted = [n for n in tests["test_names"] if n not in namespace and not hasattr(builtins, n)]
    wanted += [n for n in forced if n not in wanted]
    candidate.ask_names(wanted)
    failure = candidate.loaded()
    if failure is not None:
        _emit("program_error", failure[:3])
        return False
    for name in forced:
        namespace.pop(name, None)  # a stub of the prompt: the candidate's own definition counts
    for name, kind, value in candidate.names(wanted):
        if kind == "function":
            namespace[name] = _proxy(candidate, name)
        elif kind == "value":
            try:
                namespace[name] = codec["from_plain"](value, 0)
            except codec["PlainDataError"]:
                pass
        elif kind == "module" and value == name:
            try:
                __import__(name)
                namespace[name] = sys.modules[name]
            except BaseException:
                pass
    entry = tests["entry_point"]
    if tests["kind"] in ("check", "check_whole") and entry not in namespace:
        _emit("program_error", candidate.gone or ("NameError", f"name {entry!r} is not defined", []))
        return False
    return True


def _proxy(candidate, name):
    def call(*args, **kwargs):
        return candidate.call(name, args, kwargs)

    call.__name__ = call.__qualname__ = name
    return call


def _run_tests(namespace, tests):
    """Run the tests, reporting each; True when the harness got to the end of them."""
    kind = tests["kind"]
    if kind == "asserts":
        for index, code in enumerate(tests["tests"]):
            try:
                exec(code, namespace)
            except BaseException as exc:
                _emit("test", index, describe(exc))
            else:
                _emit("test", index, None)
        return True
    namespace["_prefgen_record"] = lambda index, exc: _emit("test", index, None if exc is None else describe(exc))
    try:
        exec(tests["tests"], namespace)
    except BaseException as exc:
        _emit("tests_error", describe(exc))
        return False
    if kind == "module":
        return True
    try:
        namespace[tests["check_name"]](namespace[tests["entry_point"]])
    except BaseException as exc:
        _emit("test", 0, describe(exc)) if kind == "check_whole" else _emit("check_error", describe(exc))
    else:
        if kind == "check_whole":
            _emit("test", 0, None)
    return True


if __name__ == "__main__":
    # Provided by the runner: PAYLOAD for this run, the shipped code kept by the fork server.
    _main({**PAYLOAD, "codec": PREFGEN_CODEC, "server": PREFGEN_CANDIDATE})  # noqa: F821

"""The test harness that runs inside the sandbox, around a candidate program and its tests.

Not imported at run time: :mod:`prefgen.sandbox.testing` compiles this file and ships the code
object into the sandbox, where it runs as ``__main__`` with ``PAYLOAD`` in its globals:

    {"nonce": str, "module_name": str, "setup": code | None, "program": code,
     "tests": [code, ...] (one per assert line) | code (test code already rewritten so that
     each assert-bearing statement reports itself through ``_prefgen_record``),
     "kind": "asserts" | "module" | "check" | "check_whole", "check_name": str,
     "entry_point": str | None}

It reports on file descriptor 3, one ``nonce + repr(tuple)`` line per event:
``("start",)``, ``("setup_error", exc)``, ``("program_error", exc)``, ``("tests_error", exc)``,
``("test", index, exc_or_None)``, ``("check_error", exc)``, ``("done",)``, where ``exc`` is
``(type name, message, [(filename, line, function), ...])``. It ends with ``os._exit`` so that
threads or ``atexit`` hooks left by the program cannot hold the process past its tests. It uses
only built-ins: the sandbox starts with ``-S`` and every import costs start-up time.
"""

import os
import sys


def _main(payload):
    # Keep our own references: the program runs in this interpreter and may replace them.
    write, getpid, exit_now, _repr, _str, _type, _len = os.write, os.getpid, os._exit, repr, str, type, len
    out, err = sys.__stdout__, sys.__stderr__
    nonce = payload["nonce"]
    me = getpid()

    def emit(*fields):
        if getpid() != me:
            return  # a forked copy of this process: only the original reports
        data = (nonce + _repr(fields) + "\n").encode("utf-8", "backslashreplace")
        while data:
            data = data[write(3, data):]

    def describe(exc):
        try:
            message = _str(exc)
        except BaseException:
            message = "<unprintable exception>"
        frames = []
        tb = exc.__traceback__
        while tb is not None:
            code = tb.tb_frame.f_code
            frames.append((code.co_filename, tb.tb_lineno, code.co_name))
            tb = tb.tb_next
        cls = _type(exc)
        name = cls.__qualname__ if cls.__module__ == "builtins" else cls.__module__ + "." + cls.__qualname__
        return (name, message[:2000], frames[-40:] if _len(frames) > 40 else frames)

    def finish():
        for stream in (out, err):
            try:
                stream.flush()
            except BaseException:
                pass
        exit_now(0)

    namespace = {"__name__": payload["module_name"], "__builtins__": __builtins__}
    try:
        emit("start")
        for stage, code in (("setup_error", payload["setup"]), ("program_error", payload["program"])):
            if code is None:
                continue
            try:
                exec(code, namespace)
            except BaseException as exc:
                emit(stage, describe(exc))
                finish()
        kind = payload["kind"]
        if kind == "asserts":
            for index, code in enumerate(payload["tests"]):
                try:
                    exec(code, namespace)
                except BaseException as exc:
                    emit("test", index, describe(exc))
                else:
                    emit("test", index, None)
        else:
            namespace["_prefgen_record"] = lambda index, exc: emit(
                "test", index, None if exc is None else describe(exc))
            try:
                exec(payload["tests"], namespace)
            except BaseException as exc:
                emit("tests_error", describe(exc))
                finish()
            if kind != "module":
                entry = payload["entry_point"]
                if entry not in namespace:
                    emit("program_error", ("NameError", f"name {entry!r} is not defined", []))
                    finish()
                try:
                    namespace[payload["check_name"]](namespace[entry])
                except BaseException as exc:
                    if kind == "check_whole":
                        emit("test", 0, describe(exc))
                    else:
                        emit("check_error", describe(exc))
                else:
                    if kind == "check_whole":
                        emit("test", 0, None)
        emit("done")
    except BaseException:
        pass  # the channel itself failed (closed by the program): report nothing more
    finish()


if __name__ == "__main__":
    _main(PAYLOAD)  # noqa: F821 - provided by the runner

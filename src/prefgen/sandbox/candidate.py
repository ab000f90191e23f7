"""The candidate's side of a test run: load the program, then answer calls with plain data.

Not imported at run time: the harness (:mod:`prefgen.sandbox.harness`) forks a process for the
candidate before the tests exist in its memory, closes every descriptor the candidate must not
hold (the result channel, the tests' input) and calls :func:`serve` there. This process runs
hostile code and is trusted with nothing: whatever it sends back is decoded by the harness as
plain data (:mod:`prefgen.sandbox.plaindata`) and judged there.

Messages from the harness: ``["names", [name, ...]]`` (what the tests need from the program) and
``["call", name, args, kwargs]``. Answers: ``["loaded"]`` or ``["error", exc]`` once the program
ran; ``["names", [[name, "function"] | [name, "value", tree] | [name, "module", module name]
| [name, "missing"], ...]]``; ``["ok", tree]``, ``["raised", exc]`` or ``["unplain", message]``
per call, where ``exc`` is ``[type name, message, [[file, line, function], ...], built-in base]``.
"""

import os
import sys


def serve(payload, codec, requests, replies):
    """Run the setup and the program, then serve calls until the harness closes the pipe."""
    import builtins

    me = os.getpid()
    namespace = {"__name__": payload["module_name"], "__builtins__": builtins}
    status = ["loaded"]
    for code in (payload["setup"], payload["program"]):
        if code is None:
            continue
        try:
            exec(code, namespace)
        except BaseException as exc:
            status = ["error", describe(exc)]
            break
    _answer(me, codec, replies, status)
    while True:
        try:
            message = codec["receive_message"](requests)
        except BaseException:
            message = None
        if message is None:
            _leave()
        _answer(me, codec, replies, _handle(namespace, codec, message))


def _handle(namespace, codec, message):
    kind = message[0]
    if kind == "names":
        return ["names", [_describe_name(namespace, codec, name) for name in message[1]]]
    _, name, args, kwargs = message
    function = namespace.get(name)
    if function is None or not callable(function):
        return ["raised", ["NameError", f"name {name!r} is not defined", [], "NameError"]]
    try:
        result = function(*codec["from_plain"](args, 0), **codec["from_plain"](kwargs, 0))
    except BaseException as exc:
        return ["raised", describe(exc)]
    try:
        return ["ok", codec["to_plain"](result)]
    except BaseException as exc:
        return ["unplain", f"{name}() returned {_text(exc)}"]


def _describe_name(namespace, codec, name):
    if name not in namespace:
        return [name, "missing"]
    value = namespace[name]
    if type(value) is type(os):
        return [name, "module", getattr(value, "__name__", "")]
    if callable(value):
        return [name, "function"]
    try:
        return [name, "value", codec["to_plain"](value)]
    except BaseException:
        return [name, "missing"]


def describe(exc):
    """``[type name, message, frames, nearest built-in exception class name]`` of ``exc``."""
    cls = type(exc)
    name = cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
    base = next((c.__name__ for c in cls.__mro__ if c.__module__ == "builtins"), "BaseException")
    frames = []
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        frames.append([code.co_filename, tb.tb_lineno, code.co_name])
        tb = tb.tb_next
    return [name, _text(exc)[:2000], frames[-40:], base]


def _text(exc):
    try:
        return str(exc)
    except BaseException:
        return "<unprintable exception>"


def _answer(me, codec, replies, message):
    if os.getpid() != me:
        os._exit(0)  # a process the program forked came back here: only the original answers
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()  # the harness may kill this process at any time after the answer
        except BaseException:
            pass
    try:
        codec["send_message"](replies, message)
    except BaseException:
        _leave()


def _leave():
    os._exit(0)

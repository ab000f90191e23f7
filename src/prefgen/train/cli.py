"""``prefgen dpo``: train a policy on a pairs dataset on its own, outside a pipeline run."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

EXIT_FAILED, EXIT_BAD_INPUT = 1, 2
console = Console(stderr=True)


def parse_settings(overrides: list[str]):
    """DPOSettings from ``key=value`` items (values read as YAML, ``lora.r=8`` for sub-keys).

    Returns ``(settings, problems)``; ``settings`` is None when there are problems.
    """
    from pydantic import ValidationError

    from prefgen.config import apply_overrides
    from prefgen.train.settings import DPOSettings
    from prefgen.validation import format_validation_error

    raw: dict = {}
    problems = apply_overrides(raw, overrides)
    if problems:
        return None, problems
    try:
        return DPOSettings.model_validate(raw), []
    except ValidationError as exc:
        return None, format_validation_error(exc)


def dpo_command(
    pairs_dir: Path = typer.Argument(..., metavar="PAIRS_DIR", help="A pairs/ dataset, e.g. outputs/NAME/latest/pairs."),
    model: str = typer.Option(..., "--model", help="Starting policy: 'demo', 'smollm2', a model directory or a hub id."),
    out: Path = typer.Option(..., "--out", help="Directory to save the trained model to (replaced if a model)."),
    overrides: list[str] | None = typer.Argument(
        None, metavar="[KEY=VALUE]...", help="Training settings, e.g. beta=0.05 trainer=simpo lora.r=8 epochs=2"
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or table."),
) -> None:
    """Train a policy on a pairs dataset with TRL's DPO (or SimPO) and save a model vLLM loads.

    Example: prefgen dpo outputs/quote_tuning/latest/pairs --model demo --out models/round1 beta=0.05
    """
    from prefgen.progress import StageTracker

    settings, problems = parse_settings(overrides or [])
    if problems:
        _fail(EXIT_BAD_INPUT, "bad dpo settings", problems)
    model_dir = _resolve_model(model)
    from prefgen.train.dpo import DPODataError, train_dpo

    tracker = StageTracker(console=console, quiet=quiet)
    try:
        with tracker.live():
            result = train_dpo(pairs_dir, model_dir, out, settings, progress=_StepBar(tracker))
    except DPODataError as exc:
        _fail(EXIT_BAD_INPUT, "bad input", [str(exc)])
    except Exception as exc:
        _fail(EXIT_FAILED, "failed", [f"{type(exc).__name__}: {exc}"])
    if not quiet:
        _print_result(result)


class _StepBar:
    """A progress bar that appears once training starts, so input errors print without one."""

    def __init__(self, tracker):
        self._tracker, self._bar = tracker, None

    def update_total(self, total: int) -> None:
        self._bar = self._tracker.stage("dpo", total=total)

    def advance(self, amount: int = 1) -> None:
        if self._bar is not None:
            self._bar.advance(amount)


def _resolve_model(model: str) -> Path:
    from prefgen.generation.model_ref import ModelNotFoundError, resolve_model

    try:
        return Path(resolve_model(model).path)
    except ModelNotFoundError as exc:
        _fail(EXIT_BAD_INPUT, "bad input", [str(exc).replace("model.path", "--model")])
    except Exception as exc:  # e.g. a hub id while offline
        _fail(EXIT_BAD_INPUT, "bad input", [f"--model {model!r}: {type(exc).__name__}: {exc}"])
    raise AssertionError("unreachable")


def _fail(code: int, title: str, lines: list[str]) -> None:
    console.print(f"[red]{title}:[/red]")
    for line in lines:
        console.print(f"  {line}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _print_result(result) -> None:
    table = Table(title=f"{result.trainer} on {result.num_pairs} pairs ({result.device}, {result.precision})",
                  caption=str(result.out_dir))
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row("steps", str(result.steps))
    if result.final_loss is not None:
        table.add_row("final loss", f"{result.final_loss:.4f}")
    for key in ("rewards/accuracies", "rewards/margins"):
        if key in result.metrics:
            table.add_row(key, f"{result.metrics[key]:.4f}")
    table.add_row("seconds", f"{result.seconds:.1f}")
    Console().print(table)

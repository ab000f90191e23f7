"""The ``prefgen`` command line.

Exit codes (for schedulers):

    0  ok: a new version was published (or the command succeeded)
    1  the run failed (see the message and the run's log; published versions are untouched)
    2  bad config or input: nothing heavy was started
    3  nothing new: the rerun found nothing to change, nothing was published
    4  busy: another run holds this output's lock
    5  short of target_pairs: the budget ran out first; what was made is published (or already was)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

STAGE_ORDER = ["generate", "score", "pair", "publish"]
EXIT_OK, EXIT_FAILED, EXIT_BAD_CONFIG, EXIT_NOTHING_NEW, EXIT_BUSY, EXIT_TARGET_NOT_REACHED = 0, 1, 2, 3, 4, 5

app = typer.Typer(
    help="prefgen: preference datasets (prompt / chosen / rejected) from your policy's samples, "
    "scored by verifiable rewards.\n\nExit codes: 0 ok, 1 failed, 2 bad config, 3 nothing new, 4 busy, "
    "5 short of target_pairs (published what was made).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True, soft_wrap=True)  # error lines stay whole for grep and logs

OVERRIDES_HELP = "Overrides as key=value, e.g. generate.n=8 model.path=/models/my-policy"


def _load(config_path: Path, overrides: list[str]):
    from prefgen.config import ConfigError
    from prefgen.preflight import load_config

    try:
        return load_config(config_path, overrides)
    except ConfigError as exc:
        _print_problems(exc)
        raise typer.Exit(EXIT_BAD_CONFIG)


def _print_problems(exc) -> None:
    console.print(f"[red]{exc.source}: {len(exc.problems)} problem(s)[/red]")
    for problem in exc.problems:
        console.print(f"  {problem}", markup=False, highlight=False)


@app.command()
def run(
    config_path: Path = typer.Argument(..., metavar="PIPELINE.yaml", help="The pipeline to run."),
    overrides: list[str] | None = typer.Argument(None, metavar="[KEY=VALUE]...", help=OVERRIDES_HELP),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars or table (for cron)."),
    wait: float = typer.Option(0, help="Seconds to wait if another run holds the lock (default: exit 4)."),
) -> None:
    """Run a pipeline: generate, score, pair and publish a new dataset version.

    Example: prefgen run pipelines/quote_tuning.yaml generate.n=8

    Exit codes: 0 published, 1 failed, 2 bad config, 3 nothing new, 4 busy, 5 target_pairs not
    reached within its budget (the pairs made are published; the card says how many).
    """
    from prefgen.config import ConfigError
    from prefgen.pipeline import PipelineRun
    from prefgen.progress import StageTracker
    from prefgen.rundir import RunLockedError

    config = _load(config_path, overrides or [])
    tracker = StageTracker(console=console, quiet=quiet)
    if config.rounds > 0:
        from prefgen.rounds import TrainingLoop

        runner = TrainingLoop(config, tracker)
    else:
        runner = PipelineRun(config, tracker)
    try:
        summary = runner.run(wait_seconds=wait)
    except ConfigError as exc:
        _print_problems(exc)
        raise typer.Exit(EXIT_BAD_CONFIG)
    except RunLockedError as exc:
        console.print(f"[yellow]busy:[/yellow] {exc}")
        raise typer.Exit(EXIT_BUSY)
    except Exception as exc:  # the log file has the traceback
        console.print(f"[red]failed:[/red] {type(exc).__name__}: {exc}", markup=True, highlight=False)
        raise typer.Exit(EXIT_FAILED)
    if not quiet:
        _print_summary(summary)
    raise typer.Exit(_exit_code(summary))


def _exit_code(summary) -> int:
    """Short of ``target_pairs`` outranks "nothing new": the latest version still lacks pairs."""
    target = getattr(summary, "target", None)
    if target is not None and not target["reached"]:
        console.print(
            f"[yellow]target not reached:[/yellow] {target['made']} of {target['pairs']} pairs "
            f"(stopped by {target['stopped_by']}; published in {summary.version})"
        )
        return EXIT_TARGET_NOT_REACHED
    return EXIT_NOTHING_NEW if summary.status == "nothing_new" else EXIT_OK


def _print_summary(summary) -> None:
    from prefgen.rounds import gain_text

    table = Table(title=f"{summary.status} ({summary.version})", caption=f"{summary.run_dir / 'latest'}")
    table.add_column("what")
    table.add_column("value", justify="right")
    for key, value in summary.counts.items():
        table.add_row(key, str(value))
    for key in ("mean_nulls_as_0", "mean_scored", "p50"):
        if key in summary.scores:
            table.add_row(f"score {key}", f"{summary.scores[key]:.4f}")
    target = getattr(summary, "target", None)
    if target is not None:
        table.add_row("target pairs", f"{target['made']} of {target['pairs']}" + ("" if target["reached"] else " (not reached)"))
        table.add_row("re-sampling rounds", str(target["rounds"]))
        table.add_row("re-sampling samples", str(target["samples"]))
    table.add_row("seconds", f"{summary.seconds:.1f}")
    Console().print(table)
    for entry in getattr(summary, "metrics", []):
        gain = f", {gain_text(entry)} vs policy 0" if gain_text(entry) else ""
        Console().print(
            f"policy {entry['round']}: held-out mean score {entry['heldout_mean_score']:.4f}{gain}, "
            f"mean length {entry['heldout_mean_tokens']:.1f} tokens"
        )


@app.command()
def validate(
    config_path: Path = typer.Argument(..., metavar="PIPELINE.yaml"),
    overrides: list[str] | None = typer.Argument(None, metavar="[KEY=VALUE]...", help=OVERRIDES_HELP),
) -> None:
    """Check a pipeline YAML and report every problem at once (exit 2 if any). Starts nothing heavy."""
    config = _load(config_path, overrides or [])
    from prefgen.config import ConfigError
    from prefgen.pipeline import preflight

    try:
        if config.rounds > 0:
            from prefgen.rounds import loop_preflight

            loop_preflight(config)
        else:
            preflight(config)
    except ConfigError as exc:
        _print_problems(exc)
        raise typer.Exit(EXIT_BAD_CONFIG)
    console.print(f"[green]ok[/green]: {config_path}")


@app.command()
def status(run_dir: Path = typer.Argument(..., help="A run directory: output.dir/<name>.")) -> None:
    """Per stage: done / pending / failed counts and the last error; whether a run is active."""
    from prefgen.rundir import RunDir

    directory = RunDir(run_dir)
    state = directory.read_status()
    if state is None:
        console.print(f"no run has started in {run_dir}")
        raise typer.Exit(EXIT_FAILED)
    running = directory.is_locked()
    label = state.get("state", "?")
    if label == "running" and not running:
        label = "interrupted (killed or crashed; run again to resume)"
    table = Table(title=f"{state.get('pipeline', run_dir.name)}: {label}")
    for column in ("stage", "done", "pending", "failed", "last error"):
        table.add_column(column)
    stages = state.get("stages", {})
    for stage, entry in sorted(stages.items(), key=lambda kv: STAGE_ORDER.index(kv[0]) if kv[0] in STAGE_ORDER else 9):
        pending = max(0, entry.get("total", 0) - entry.get("done", 0))
        table.add_row(stage, str(entry.get("done", 0)), str(pending), str(entry.get("failed", 0)), entry.get("last_error") or "")
    Console().print(table)
    latest = directory.latest_version()
    Console().print(f"latest version: {latest.name if latest else 'none'}; last update {state.get('updated')}")
    if state.get("last_error"):
        Console().print(f"last error: {state['last_error']}", markup=False)


@app.command()
def schema(
    out: Path = typer.Option(Path("schemas"), help="Directory to write <record>.schema.json files to."),
    check: bool = typer.Option(False, help="Only compare; exit 1 if the files differ from the code."),
) -> None:
    """Write (or check) the JSON schemas of every record, generated from the code."""
    from prefgen.records import json_schemas

    stale = []
    out.mkdir(parents=True, exist_ok=True)
    for name, body in json_schemas().items():
        path = out / f"{name}.schema.json"
        text = json.dumps(body, indent=2, sort_keys=True) + "\n"
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(str(path))
        else:
            path.write_text(text)
    if stale:
        console.print(f"schemas out of date: {', '.join(stale)} (run `prefgen schema`)")
        raise typer.Exit(EXIT_FAILED)


@app.command()
def inspect(
    dataset_dir: Path = typer.Argument(..., help="A published dataset, e.g. outputs/NAME/latest/pairs."),
    rows: int = typer.Option(3, help="Rows to show."),
) -> None:
    """Show a dataset's columns, size and first rows."""
    from datasets import load_from_disk

    dataset = load_from_disk(str(dataset_dir))
    Console().print(f"{dataset_dir}: {dataset.num_rows} rows; columns: {', '.join(dataset.column_names)}")
    for row in dataset.select(range(min(rows, dataset.num_rows))):
        Console().print_json(json.dumps(row, default=str)[:4000])


from prefgen.corpus.cli import index_app

app.add_typer(index_app, name="index")

from prefgen.train.cli import dpo_command

app.command("dpo")(dpo_command)

demo_app = typer.Typer(help="The methods' named models: demo policies trained here, embedded models converted here.")
app.add_typer(demo_app, name="demo")


@demo_app.command("prepare")
def demo_prepare(
    names: list[str] = typer.Argument(None, help="Named models to prepare (default: demo). `all` for every one."),
    force: bool = typer.Option(False, help="Retrain (or reconvert) even if a cached model exists."),
) -> None:
    """Train or convert named models now (they are otherwise made on first use), or report the cached ones."""
    from prefgen.registry import UnknownPluginError, models

    wanted = models.names() if names == ["all"] else (names or ["demo"])
    for name in wanted:
        try:
            make = models.load(name)
        except UnknownPluginError as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(2)
        console.print(f"{name}: {make(force=force)}")


def main() -> None:  # pragma: no cover - console entry
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

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

import errno
import functools
import json
import os
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

    if config_path.is_dir():
        _bad_path(config_path, "is a directory, not a pipeline YAML file")
    try:
        return load_config(config_path, overrides)
    except ConfigError as exc:
        _print_problems(exc)
        raise typer.Exit(EXIT_BAD_CONFIG)
    except UnicodeDecodeError as exc:
        _bad_path(config_path, f"cannot be read as YAML (not UTF-8: {exc.reason} at byte {exc.start})")
    except OSError as exc:
        _bad_path(config_path, f"cannot be read: {exc.strerror or exc}")


def _bad_path(path, why: str, code: int = EXIT_BAD_CONFIG) -> None:
    """One line on stderr naming the path, then exit (2 unless told)."""
    console.print(f"[red]error:[/red] {path}: {why}", highlight=False)
    raise typer.Exit(code)


def _output_dir_problem(path: Path) -> str | None:
    """Why ``path`` cannot become a directory (it, or a parent, is a file), or None."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            if candidate.is_dir():
                return None
            return f"{'it' if candidate == path else candidate} is a file, not a directory"
    return None


def _guard_paths(*outputs: str):
    """Decorator: the command answers bad paths with one line and exit 2, never a traceback.

    ``outputs`` name the parameters that are directories to write: checked before the command
    starts anything. An ``OSError`` about a path that still escapes the command (a path the
    checks could not foresee) becomes the same one line; a full disk exits 1 (failed), not 2.
    """

    def decorate(command):
        @functools.wraps(command)  # typer reads the parameters through the wrapper
        def checked(**params):
            for name in outputs:
                problem = _output_dir_problem(Path(params[name]))
                if problem:
                    _bad_path(params[name], problem)
            try:
                return command(**params)
            except OSError as exc:
                if exc.filename is None:
                    raise
                code = EXIT_FAILED if exc.errno in (errno.ENOSPC, errno.EIO) else EXIT_BAD_CONFIG
                _bad_path(exc.filename, exc.strerror or str(exc), code)

        return checked

    return decorate


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

    table = Table(title=f"{summary.status} ({summary.version})")
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
    _print_where(summary)


def _print_where(summary) -> None:
    """The last line: where the datasets are, on one line (a wrapped path cannot be copied)."""
    latest = summary.run_dir / "latest"
    if not hasattr(summary, "latest_round"):  # a single run
        Console().print(f"datasets: {latest}", soft_wrap=True, highlight=False)
    elif summary.latest_round is None:
        cards = f"{summary.run_dir / 'rounds'}/round_k/latest/README.md"
        Console().print(f"no round made pairs; each round's card: {cards}", soft_wrap=True, highlight=False)
    else:
        Console().print(f"datasets: {latest} (round {summary.latest_round}'s pairs and candidates)",
                        soft_wrap=True, highlight=False)


@app.command()
@_guard_paths()
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
@_guard_paths()
def status(
    target: Path = typer.Argument(
        ..., metavar="RUN_DIR|PIPELINE.yaml",
        help="A run directory (output.dir/<name>, a single run's or a loop's), or the pipeline YAML.",
    ),
    overrides: list[str] | None = typer.Argument(
        None, metavar="[KEY=VALUE]...", help="With a YAML: the overrides you run it with (output.dir=/data)"
    ),
) -> None:
    """Per stage: done / pending / failed counts and the last error; whether a run is active.

    For a loop (rounds > 0): one row per round, and where its latest points.

    Exit codes: 0 shown, 1 no run has started there yet, 2 not a run directory or a bad YAML.
    """
    run_dir = _status_dir(target, overrides or [])
    from prefgen.run_status import round_dirs
    from prefgen.rundir import RunDir

    directory = RunDir(run_dir)
    state = directory.read_status()
    if round_dirs(run_dir):
        _loop_status(run_dir)
    if state is not None:  # a single run (also where a loop ran before with the same name)
        _run_status(directory, state)
    elif not round_dirs(run_dir):
        console.print(f"no run has started in {run_dir} (no status.json yet)", highlight=False)
        raise typer.Exit(EXIT_FAILED)


RUN_DIR_MARKS = ("status.json", "versions", "work", "logs", ".lock", "rounds")


def _status_dir(target: Path, overrides: list[str]) -> Path:
    """The run directory ``status`` shows: ``target`` itself, or the one its pipeline YAML writes."""
    if not target.exists():
        _bad_path(target, "no such file or directory (expected a run directory or a pipeline YAML)")
    if target.is_file():
        config = _load(target, overrides)
        run_dir = config.run_dir()
        if not run_dir.is_dir():
            console.print(f"no run has started: {run_dir} (output.dir/name of {target}) does not exist yet",
                          highlight=False)
            raise typer.Exit(EXIT_FAILED)
        return run_dir
    if overrides:
        _bad_path(target, f"is a directory; KEY=VALUE overrides ({' '.join(overrides)}) apply to a YAML")
    if not any((target / mark).exists() for mark in RUN_DIR_MARKS):
        _bad_path(target, "not a prefgen run directory (no status.json, versions/ or rounds/); "
                          "pass output.dir/<name> or the pipeline YAML")
    return target


def _run_status(directory, state: dict) -> None:
    """A single run's table: one row per stage."""
    running = directory.is_locked()
    label = state.get("state", "?")
    if label == "running" and not running:
        label = "interrupted (killed or crashed; run again to resume)"
    table = Table(title=f"{state.get('pipeline', directory.root.name)}: {label}")
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


def _loop_status(root: Path) -> None:
    """A loop's table: one row per round (its state, stages, pairs and held-out score)."""
    from prefgen.run_status import last_round_with_pairs, loop_metrics, round_dirs, version_counts
    from prefgen.rundir import RunDir

    loop = RunDir(root)
    metrics = loop_metrics(root)
    running = " (running)" if loop.is_locked() else ""
    table = Table(title=f"{root.name}: loop of {len(round_dirs(root))} round(s){running}")
    for column in ("round", "state", "generate", "score", "failed", "version", "pairs", "held-out"):
        table.add_column(column, no_wrap=column == "state")
    errors = []
    for k, path in round_dirs(root):
        directory = RunDir(path)
        state = directory.read_status() or {}
        label = state.get("state", "not started")
        if label == "running" and not directory.is_locked():
            label = "interrupted"
        stages = state.get("stages", {})
        version = directory.latest_version()
        measured = metrics.get(k, {}).get("heldout_mean_score")
        table.add_row(
            str(k), label, _stage_cell(stages.get("generate")), _stage_cell(stages.get("score")),
            str(sum(entry.get("failed", 0) for entry in stages.values())),
            version.name if version else "none", str(version_counts(version).get("pairs", "—")),
            f"{measured:.4f}" if measured is not None else "—",
        )
        if state.get("last_error"):
            errors.append(f"round {k}: {state['last_error']}")
    Console().print(table)
    latest = loop.latest_version()
    if latest is not None and latest.is_dir():
        where = f"{root / 'latest'} -> {os.readlink(root / 'latest')}"
    else:  # the loop has not finished (or a prefgen older than loops' latest ran it)
        found = last_round_with_pairs(root)
        where = "none yet" + (f"; the last round with pairs: {found[1]}" if found else "")
    Console().print(f"latest: {where}", soft_wrap=True, highlight=False)
    for line in errors:
        Console().print(f"last error, {line}", markup=False)


def _stage_cell(entry: dict | None) -> str:
    """``done/total`` of a stage (``—`` before it started)."""
    return f"{entry.get('done', 0)}/{entry.get('total', 0)}" if entry else "—"


@app.command()
@_guard_paths("out")
def schema(
    out: Path = typer.Option(Path("schemas"), help="Directory to write <record>.schema.json files to."),
    check: bool = typer.Option(False, help="Only compare; exit 1 if the files differ from the code."),
) -> None:
    """Write (or check) the JSON schemas of every record, generated from the code."""
    from prefgen.records import json_schemas

    stale = []
    if check and not out.is_dir():  # checking creates nothing
        _bad_path(out, "no such directory (nothing to check; `prefgen schema --out DIR` writes them)")
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
@_guard_paths()
def inspect(
    path: Path = typer.Argument(
        ..., metavar="PATH",
        help="A dataset (e.g. outputs/NAME/latest/pairs), a version (outputs/NAME/latest) or a run "
        "directory (outputs/NAME, a loop's too): its pairs.",
    ),
    rows: int = typer.Option(3, help="Rows to show."),
    width: int = typer.Option(2000, help="Characters shown of each long text value (the rest is counted)."),
) -> None:
    """Show a dataset's columns, size and first rows."""
    dataset_dir, note = _dataset_dir(path)
    from datasets import DatasetDict, load_from_disk

    try:
        dataset = load_from_disk(str(dataset_dir))
    except Exception as exc:  # datasets raises several types for an unreadable directory
        _bad_path(dataset_dir, f"cannot be read as a dataset: {type(exc).__name__}: {exc}")
    splits = dataset.items() if isinstance(dataset, DatasetDict) else [(None, dataset)]
    for split, part in splits:
        label = f"{dataset_dir}" + (f" [{split}]" if split else "") + (f" ({note})" if note else "")
        Console().print(f"{label}: {part.num_rows} rows; columns: {', '.join(part.column_names)}",
                        soft_wrap=True, highlight=False)
        for row in part.select(range(max(0, min(rows, part.num_rows)))):
            Console().print_json(data=_clip(row, width), default=str)


def _clip(value, width: int):
    """``value`` with every string longer than ``width`` cut for display and marked as cut; the
    JSON printed is made from the result, so it is always whole (never parsed after cutting)."""
    if isinstance(value, str) and len(value) > width:
        return f"{value[:width]}… [{len(value) - width} more characters]"
    if isinstance(value, dict):
        return {key: _clip(item, width) for key, item in value.items()}
    if isinstance(value, list):
        return [_clip(item, width) for item in value]
    return value


def _is_dataset(path: Path) -> bool:
    """A ``save_to_disk`` directory: a Dataset (state.json) or a DatasetDict (dataset_dict.json)."""
    return (path / "state.json").is_file() or (path / "dataset_dict.json").is_file()


def _dataset_dir(path: Path) -> tuple[Path, str]:
    """The dataset ``inspect`` shows for ``path``, and a note saying how it was found.

    A dataset is itself; a version (``latest``, ``versions/v0003``) gives its ``pairs``; a run
    directory its ``latest/pairs``; a loop without a ``latest`` of its own (made before loops
    published one) the last round's that made pairs.
    """
    from prefgen.run_status import last_round_with_pairs, round_dirs

    if not path.exists():
        _bad_path(path, "no such file or directory")
    if not path.is_dir():
        _bad_path(path, "is a file; expected a dataset (…/latest/pairs), a version or a run directory")
    if _is_dataset(path):
        return path, ""
    if _is_dataset(path / "pairs"):
        others = sorted(p.name for p in path.iterdir() if p.name != "pairs" and p.is_dir() and _is_dataset(p))
        return path / "pairs", f"also here: {', '.join(others)}" if others else ""
    if (path / "latest").is_symlink():
        if _is_dataset(path / "latest" / "pairs"):
            return path / "latest" / "pairs", f"latest is {os.readlink(path / 'latest')}"
        _bad_path(path / "latest", "points to no published version; run the pipeline again")
    if round_dirs(path):
        found = last_round_with_pairs(path)
        if found is None:
            _bad_path(path, "a loop whose rounds have published no pairs yet (see `prefgen status`)")
        return found[1] / "pairs", f"round {found[0]}'s"
    if (path / "status.json").is_file() or (path / "versions").is_dir():
        _bad_path(path, "a run directory with no published version yet (see `prefgen status`)")
    _bad_path(path, "not a dataset, a version or a run directory (no state.json, pairs/ or latest)")
    raise AssertionError("unreachable")


from prefgen.corpus import cli as index_cli
from prefgen.corpus.cli import index_app

index_cli.console.soft_wrap = True  # its error lines stay whole too (a wrapped path cannot be grepped)

for _info in index_app.registered_commands:  # their own errors exit 2; these guard the rest
    _info.callback = _guard_paths(*(("out",) if _info.name == "build" else ()))(_info.callback)
app.add_typer(index_app, name="index")

from prefgen.train.cli import dpo_command


@app.command("dpo")
@_guard_paths("out")
@functools.wraps(dpo_command)
def dpo(**params) -> None:
    """``prefgen dpo``, checking PAIRS_DIR before the starting policy is resolved (``demo`` may
    train it first, for minutes)."""
    pairs_dir = Path(params["pairs_dir"])
    if not pairs_dir.is_dir():
        _bad_path(pairs_dir, "is a file, not a pairs/ dataset" if pairs_dir.exists() else "no such directory")
    if not _is_dataset(pairs_dir):
        latest = pairs_dir / "latest"
        hint = f" (its pairs: {latest / 'pairs'})" if latest.is_symlink() else ""
        _bad_path(pairs_dir, f"not a pairs dataset (no state.json){hint}")
    dpo_command(**params)


demo_app = typer.Typer(help="The methods' named models: demo policies trained here, embedded models converted here.")
app.add_typer(demo_app, name="demo")


@demo_app.command("prepare")
@_guard_paths()
def demo_prepare(
    names: list[str] = typer.Argument(None, help="Named models to prepare (default: demo). `all` for every one."),
    force: bool = typer.Option(False, help="Retrain (or reconvert) even if a cached model exists."),
) -> None:
    """Train or convert named models now (they are otherwise made on first use), or report the cached ones."""
    from prefgen.paths import cache_dir
    from prefgen.registry import UnknownPluginError, models

    try:
        cache_dir()
    except OSError as exc:  # PREFGEN_CACHE_DIR (or XDG_CACHE_HOME) names a file or a place not writable
        where = "$PREFGEN_CACHE_DIR or $XDG_CACHE_HOME/prefgen"
        _bad_path(exc.filename, f"cannot be prefgen's cache directory ({where}): {exc.strerror or exc}")

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

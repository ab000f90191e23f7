"""``prefgen index``: build a corpus index for the ``quote`` reward, and describe one.

The main CLI mounts this sub-app with ``app.add_typer(index_app, name="index")``.
Exit codes follow the main CLI: 0 ok, 1 the build failed, 2 bad input (nothing was built).
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

index_app = typer.Typer(
    help="Corpus indexes (infini-gram suffix arrays) for the quote reward.", no_args_is_help=True
)
console = Console(stderr=True)

_STAGE_LABELS = {"read": "reading documents", "index": "indexing (infini-gram)", "verify": "verifying"}
_INDEX_STEPS = ["tokenize", "make parts", "merge", "concatenate", "done"]


@index_app.command("build")
def build(
    corpus: Path = typer.Argument(..., help="A .jsonl(.gz) or .parquet file, or a save_to_disk dataset directory."),
    out: Path = typer.Option(..., "--out", help="Directory to write the index to."),
    force: bool = typer.Option(False, "--force", help="Replace an existing index in --out."),
    text_field: str = typer.Option("text", "--text-field", help="The field holding each document's text."),
) -> None:
    """Index a corpus: normalise each document, build the suffix array, write the fingerprint."""
    from prefgen.corpus.build import EmptyCorpusError, IndexBuildError, IndexExistsError, build_index
    from prefgen.corpus.reader import CorpusFormatError

    with _progress() as progress:
        tasks: dict[str, int] = {}

        def report(stage: str, done: int, total: int | None) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(_STAGE_LABELS.get(stage, stage), total=total)
            label = _STAGE_LABELS.get(stage, stage)
            if stage == "index" and total:
                label = f"{label}: {_INDEX_STEPS[min(done, len(_INDEX_STEPS) - 1)]}"
            progress.update(tasks[stage], completed=done, total=total, description=label)

        try:
            info = build_index(corpus, out, text_field=text_field, force=force, progress=report)
        except (IndexExistsError, EmptyCorpusError, CorpusFormatError) as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from None
        except IndexBuildError as exc:
            console.print(f"[red]index build failed:[/red] {exc}")
            raise typer.Exit(1) from None
    skipped = ", ".join(f"{count} {reason}" for reason, count in sorted(info.skipped.items())) or "none"
    console.print(
        f"indexed {info.documents} documents ({info.text_bytes:,} bytes of text; skipped rows: {skipped}) "
        f"into {info.directory} in {info.seconds:.1f} s",
        soft_wrap=True,
    )
    console.print(f"corpus fingerprint: {info.corpus_fingerprint}", soft_wrap=True)


@index_app.command("info")
def info(
    directory: Path = typer.Argument(..., help="An index directory."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Print an index's size, documents, bytes and fingerprints (validating it on the way)."""
    from prefgen.corpus.build import index_info
    from prefgen.corpus.index import InvalidIndexError

    try:
        facts = index_info(directory)
    except InvalidIndexError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps(facts, indent=2, sort_keys=True))
        return
    table = Table(show_header=False, box=None)
    table.add_column(no_wrap=True)
    table.add_column(overflow="fold")  # fingerprints are printed whole, folded if need be
    rows = [
        ("directory", facts["directory"]),
        ("size on disk", f"{facts['size_bytes']:,} bytes"),
        ("documents", f"{facts['documents']:,}"),
        ("text", f"{facts['text_bytes']:,} bytes, {facts['text_chars']:,} characters"),
        ("rows read", f"{facts['rows']:,}"),
        ("rows skipped", ", ".join(f"{v} {k}" for k, v in sorted(facts["skipped"].items())) or "none"),
        ("corpus", f"{facts['source']} (field {facts['text_field']!r})"),
        ("corpus fingerprint", facts["corpus_fingerprint"]),
        ("index fingerprint", facts["fingerprint"]),
        ("built", f"{facts['built']['at']}, infini-gram {facts['built']['infini_gram']}, {facts['built']['cpus']} CPU(s)"),
    ]
    for key, value in rows:
        table.add_row(f"[bold]{key}[/bold]", str(value))
    Console().print(table)


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )

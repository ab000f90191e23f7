"""Benchmark: prefgen's exact QUIP scorer against the naive baseline (one infini-gram ``count`` per window).

    python benchmarks/quote_reward.py                     # the full run (>= 100 MB corpus, 2,000 responses)
    python benchmarks/quote_reward.py --corpus-mb 5 --responses 200 --baseline-responses 20   # a quick look

What it does, in one run:

1. **Corpus** (>= ``--corpus-mb`` MB of normalised text): the standard library's docstrings (the demo
   corpus, one document each), then the ``.py`` / ``.rst`` / ``.md`` / ``.txt`` files of the Python
   installation's standard library and of the installed packages (``sysconfig``'s ``stdlib`` and
   ``purelib`` directories, in sorted order, cut into documents of at most 8,000 characters at
   blank lines), and, if that is not enough, variations of the docstrings (sentences shuffled, one
   word in ten replaced). Documents are named by a label and a relative path, never a local path.
2. **Index**: ``prefgen.corpus.build_index`` (infini-gram, u8), cached in the work directory.
3. **Responses** (``--responses``, 400-2,000 characters each): a third quote heavily (several
   verbatim docstring passages of 60-400 characters joined by connecting sentences), a third quote
   one short passage inside paraphrase, a third are paraphrase only (docstring sentences with a
   third of their words replaced, so they share many short fragments with the corpus but few
   25-character windows).
4. **Timing**, each scorer in its own child process pinned to one CPU (so "per second" is per core,
   and peak memory is the scorer's own): prefgen's ``QuipScorer.score`` (with quotes and sources, as
   the reward computes them) on every response, in batches of ``--batch-size``; the baseline on the
   first ``--baseline-responses`` responses only (it is slow); its rate is extrapolated to the
   whole set, which is stated in the results. prefgen is also timed on that same subset.
5. **Verification**: on the baseline's subset, both must find exactly the same windows in every
   response, hence the same scores.

Results go to ``benchmarks/results/quote_reward.{md,json}``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
MAX_DOC_CHARS = 8000
SUFFIXES = (".py", ".rst", ".md", ".txt")
SMALL_BATCH = 16  # also timed: what a pipeline scoring few candidates per call gets
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


# --- corpus ----------------------------------------------------------------------------------------------
def stdlib_docstrings() -> list[dict]:
    from prefgen.stdlib.corpus import iter_docstrings

    return [{"id": doc["id"], "text": doc["text"]} for doc in iter_docstrings()]


def file_documents(label: str, root: Path, skip: tuple[str, ...] = ()):
    """Text files under ``root`` as documents of at most MAX_DOC_CHARS, cut at blank lines."""
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if d not in skip and d != "__pycache__")
        for name in sorted(files):
            if not name.endswith(SUFFIXES):
                continue
            path = Path(directory) / name
            try:
                text = path.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue
            relative = path.relative_to(root).as_posix()
            for k, chunk in enumerate(_chunks(text)):
                yield {"id": f"{label}/{relative}#{k}", "text": chunk}


def _chunks(text: str):
    block, size = [], 0
    for paragraph in re.split(r"\n\s*\n", text):
        if size + len(paragraph) > MAX_DOC_CHARS and block:
            yield "\n\n".join(block)
            block, size = [], 0
        block.append(paragraph[:MAX_DOC_CHARS])
        size += len(paragraph)
    if block:
        yield "\n\n".join(block)


def docstring_variations(docs: list[dict], seed: int):
    rng = random.Random(seed)
    words = [w for doc in docs[:2000] for w in doc["text"].split()]
    for round_ in range(10_000):
        for doc in docs:
            sentences = _SENTENCE.split(doc["text"])
            rng.shuffle(sentences)
            tokens = " ".join(sentences).split()
            tokens = [rng.choice(words) if rng.random() < 0.1 else token for token in tokens]
            yield {"id": f"variation/{round_}/{doc['id']}", "text": " ".join(tokens)}


def make_corpus(path: Path, target_bytes: int, docstrings: list[dict], seed: int) -> dict:
    """Write the benchmark corpus as jsonl; returns what went into it."""
    from prefgen.corpus.normalise import normalise

    paths = sysconfig.get_paths()
    sources = [
        ("stdlib-docstrings", iter(docstrings)),
        ("stdlib", file_documents("stdlib", Path(paths["stdlib"]), skip=("site-packages", "dist-packages"))),
        ("site-packages", file_documents("site-packages", Path(paths["purelib"]))),
        ("docstring-variations", docstring_variations(docstrings, seed)),
    ]
    facts = {label: {"documents": 0, "bytes": 0} for label, _ in sources}
    total = 0
    with open(path, "w", encoding="utf-8") as handle:
        for label, documents in sources:
            for doc in documents:
                size = len(normalise(doc["text"]).encode("utf-8", "replace"))
                if size == 0:
                    continue
                handle.write(json.dumps(doc, ensure_ascii=False) + "\n")
                facts[label]["documents"] += 1
                facts[label]["bytes"] += size
                total += size
                if total >= target_bytes:
                    return facts
    return facts


# --- responses ---------------------------------------------------------------------------------------------
class ResponseMaker:
    """Synthetic responses that quote the docstrings heavily, a little, or not at all."""

    CONNECTIVES = (
        "In other words, the documentation says:", "As the reference puts it,", "Put simply,",
        "This is what happens:", "Here is the relevant part.", "Note also that", "For example,",
        "The short answer:", "More precisely,", "You can rely on this:",
    )

    def __init__(self, docstrings: list[dict], seed: int):
        from prefgen.corpus.normalise import normalise

        self.rng = random.Random(seed)
        self.texts = [normalise(doc["text"]) for doc in docstrings if len(doc["text"]) > 200]
        self.sentences = [s for text in self.texts for s in _SENTENCE.split(text) if len(s) > 30]
        self.words = [w for s in self.sentences[:5000] for w in s.split()]

    def quote(self, low: int, high: int) -> str:
        text = self.rng.choice(self.texts)
        start = self.rng.randrange(max(1, len(text) - low))
        while start > 0 and not text[start - 1].isspace():  # start at a word
            start -= 1
        return text[start : start + self.rng.randint(low, high)].strip()

    def paraphrase(self) -> str:
        tokens = self.rng.choice(self.sentences).split()
        tokens = [self.rng.choice(self.words) if self.rng.random() < 0.33 else t for t in tokens]
        if len(tokens) > 4 and self.rng.random() < 0.5:
            i = self.rng.randrange(len(tokens) - 1)
            tokens[i], tokens[i + 1] = tokens[i + 1], tokens[i]
        return " ".join(tokens)

    def response(self, kind: str) -> str:
        target = self.rng.randint(400, 2000)
        parts: list[str] = []
        if kind == "light":
            parts.append(self.paraphrase())
            parts.append(self.quote(25, 80))
        while sum(len(p) + 1 for p in parts) < target:
            if kind == "heavy":
                parts.append(self.rng.choice(self.CONNECTIVES))
                parts.append(self.quote(60, 400))
            else:
                parts.append(self.paraphrase())
        if kind == "light":
            self.rng.shuffle(parts)
        return " ".join(parts)[: target + 200]

    def responses(self, count: int) -> list[dict]:
        kinds = ["heavy", "light", "none"]
        rows = [{"kind": kinds[i % 3], "text": self.response(kinds[i % 3])} for i in range(count)]
        self.rng.shuffle(rows)
        return rows


def read_jsonl(path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


# --- the two scorers, each in a child process ----------------------------------------------------------------
def pin_to_one_cpu() -> int:
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return cpu


def process_status() -> dict:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    # Major faults would mean waiting for the disk (not counted as CPU time); context switches
    # that the process did not ask for mean other processes took its CPU (wall > CPU time).
    fields = {"major_faults": usage.ru_majflt, "involuntary_switches": usage.ru_nivcsw,
              "load_average": round(os.getloadavg()[0], 1)}
    with open("/proc/self/status") as handle:
        for line in handle:
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS", "RssAnon", "RssFile"):
                fields[f"{key}_MB"] = int(value.split()[0]) // 1024
    return fields


def phase_prefgen(args) -> dict:
    from prefgen.corpus.index import CorpusIndex
    from prefgen.corpus.quip import QuipScorer

    cpu = pin_to_one_cpu()
    rows = read_jsonl(args.responses_file)
    texts = [row["text"] for row in rows]
    started = time.perf_counter()
    scorer = QuipScorer([CorpusIndex(args.index)], n=25)
    setup = time.perf_counter() - started
    scorer.score(texts[:50])  # warm-up: page cache, allocator
    scorer.stats = type(scorer.stats)()

    def timed(subset, batch_size):
        began_wall, began_cpu = time.perf_counter(), time.process_time()
        results = []
        for start in range(0, len(subset), batch_size):
            results += scorer.score(subset[start : start + batch_size])
        return results, time.perf_counter() - began_wall, time.process_time() - began_cpu

    results, wall, cpu_time = timed(texts, args.batch_size)
    stats = dict(vars(scorer.stats))
    _, small_wall, small_cpu = timed(texts, SMALL_BATCH)
    subset_results, subset_wall, subset_cpu = timed(texts[: args.baseline_responses], args.batch_size)
    hits = scorer.window_hits(texts[: args.baseline_responses])
    np.savez_compressed(args.hits_file, *hits)
    return {
        "cpu": cpu,
        "setup_seconds": setup,
        "responses": len(texts),
        "chars": sum(r.chars for r in results),
        "windows": sum(r.windows_total for r in results),
        "wall_seconds": wall,
        "cpu_seconds": cpu_time,
        "scores": [r.score for r in results],
        "quotes": sum(len(r.quotes) for r in results),
        "stats": stats,
        "small_batches": {"batch_size": SMALL_BATCH, "wall_seconds": small_wall, "cpu_seconds": small_cpu},
        "subset": {
            "chars": sum(r.chars for r in subset_results),
            "wall_seconds": subset_wall,
            "cpu_seconds": subset_cpu,
            "scores": [r.score for r in subset_results],
        },
        "process": process_status(),
    }


def phase_baseline(args) -> dict:
    from infini_gram.engine import InfiniGramEngine

    from prefgen.corpus.normalise import normalise

    cpu = pin_to_one_cpu()
    rows = read_jsonl(args.responses_file)
    texts = [row["text"] for row in rows][: args.baseline_responses]
    engine = InfiniGramEngine(index_dir=args.index, eos_token_id=0, vocab_size=255, token_dtype="u8")

    def hits_of(text: str) -> np.ndarray:
        text = normalise(text)
        found = np.zeros(max(0, len(text) - 24), dtype=bool)
        for i in range(len(found)):
            window = list(text[i : i + 25].encode("utf-8", "surrogatepass"))
            found[i] = engine.count(input_ids=window)["count"] > 0
        return found

    for text in texts[:3]:  # warm-up
        hits_of(text)
    began_wall, began_cpu = time.perf_counter(), time.process_time()
    hits = [hits_of(text) for text in texts]
    wall, cpu_time = time.perf_counter() - began_wall, time.process_time() - began_cpu
    np.savez_compressed(args.hits_file, *hits)
    return {
        "cpu": cpu,
        "responses": len(texts),
        "chars": sum(len(normalise(t)) for t in texts),
        "windows": int(sum(h.size for h in hits)),
        "wall_seconds": wall,
        "cpu_seconds": cpu_time,
        "scores": [float(h.mean()) if h.size else None for h in hits],
        "process": process_status(),
    }


def run_phase(name: str, args, index_dir: Path, responses_file: Path, work: Path) -> tuple[dict, list[np.ndarray]]:
    out, hits_file = work / f"{name}.json", work / f"{name}-hits.npz"
    command = [
        sys.executable, __file__, "--phase", name, "--index", str(index_dir), "--responses-file", str(responses_file),
        "--hits-file", str(hits_file), "--phase-out", str(out), "--batch-size", str(args.batch_size),
        "--baseline-responses", str(args.baseline_responses),
    ]
    subprocess.run(command, check=True)
    with np.load(hits_file) as data:
        hits = [data[f"arr_{i}"] for i in range(len(data.files))]
    return json.loads(out.read_text()), hits


# --- the run ----------------------------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus-mb", type=float, default=105.0, help="Normalised corpus text, in MB (1e6 bytes).")
    parser.add_argument("--responses", type=int, default=2000)
    parser.add_argument("--baseline-responses", type=int, default=100, help="Responses the slow baseline scores.")
    parser.add_argument("--batch-size", type=int, default=256, help="Responses per scorer call.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work-dir", type=Path, default=None, help="Corpus, index and scratch files (cached).")
    parser.add_argument("--phase", choices=["prefgen", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--index", help=argparse.SUPPRESS)
    parser.add_argument("--responses-file", help=argparse.SUPPRESS)
    parser.add_argument("--hits-file", help=argparse.SUPPRESS)
    parser.add_argument("--phase-out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        result = phase_prefgen(args) if args.phase == "prefgen" else phase_baseline(args)
        Path(args.phase_out).write_text(json.dumps(result))
        return
    run_benchmark(args)


def run_benchmark(args) -> None:
    from prefgen.corpus.build import build_index, index_info
    from prefgen.corpus.index import CorpusIndex, InvalidIndexError
    from prefgen.paths import cache_dir

    work = args.work_dir or cache_dir() / "benchmarks" / "quote_reward"
    work.mkdir(parents=True, exist_ok=True)
    target = int(args.corpus_mb * 1e6)
    docstrings = stdlib_docstrings()

    corpus_file, corpus_facts_file = work / f"corpus-{target}.jsonl", work / f"corpus-{target}.json"
    if not corpus_facts_file.exists():
        print(f"writing a corpus of >= {target:,} bytes ...", flush=True)
        corpus_facts_file.write_text(json.dumps(make_corpus(corpus_file, target, docstrings, args.seed)))
    corpus_facts = json.loads(corpus_facts_file.read_text())

    index_dir, build_file = work / f"index-{target}", work / f"index-{target}-build.json"
    try:
        CorpusIndex(index_dir)
        build = json.loads(build_file.read_text())
    except (InvalidIndexError, FileNotFoundError):
        print("building the index ...", flush=True)
        info = build_index(corpus_file, index_dir, force=True)
        build = {"seconds": info.seconds, "cpus": info.cpus}
        build_file.write_text(json.dumps(build))
    facts = index_info(index_dir)

    responses = ResponseMaker(docstrings, args.seed).responses(args.responses)
    responses_file = work / "responses.jsonl"
    with open(responses_file, "w", encoding="utf-8") as handle:
        handle.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in responses)

    print("timing prefgen's scorer ...", flush=True)
    ours, our_hits = run_phase("prefgen", args, index_dir, responses_file, work)
    print("timing the baseline (one count per window) ...", flush=True)
    naive, naive_hits = run_phase("baseline", args, index_dir, responses_file, work)

    mismatched = [i for i, (a, b) in enumerate(zip(our_hits, naive_hits)) if not np.array_equal(a, b)]
    same_scores = ours["subset"]["scores"] == naive["scores"]
    results = summarise(args, corpus_facts, facts, build, responses, ours, naive, mismatched, same_scores)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "quote_reward.json").write_text(json.dumps(results, indent=2) + "\n")
    (RESULTS / "quote_reward.md").write_text(markdown(results))
    print(markdown(results))
    if mismatched or not same_scores:
        sys.exit(f"prefgen and the baseline disagree on {len(mismatched)} responses")


def summarise(args, corpus_facts, facts, build, responses, ours, naive, mismatched, same_scores) -> dict:
    import importlib.metadata

    # Per core = per CPU-second of a process pinned to one CPU (robust to other load on the machine).
    our_rate = ours["chars"] / ours["cpu_seconds"]
    our_small_rate = ours["chars"] / ours["small_batches"]["cpu_seconds"]
    our_subset_rate = ours["subset"]["chars"] / ours["subset"]["cpu_seconds"]
    naive_rate = naive["chars"] / naive["cpu_seconds"]
    kinds: dict[str, list[float]] = {}
    for row, score in zip(responses, ours["scores"]):
        kinds.setdefault(row["kind"], []).append(score or 0.0)
    return {
        "command": "python benchmarks/quote_reward.py" + _nondefault_args(args),
        "machine": {
            "cpu": _cpu_model(), "cores_used_per_scorer": 1, "python": platform.python_version(),
            "numpy": np.__version__, "infini_gram": importlib.metadata.version("infini-gram"),
        },
        "corpus": {"parts": corpus_facts, "documents": facts["documents"], "text_bytes": facts["text_bytes"],
                   "index_bytes_on_disk": facts["size_bytes"], "build_seconds": build["seconds"],
                   "build_cpus": build["cpus"]},
        "responses": {
            "count": ours["responses"], "chars": ours["chars"], "windows": ours["windows"],
            "mean_chars": ours["chars"] / ours["responses"],
            "mean_quip_by_kind": {kind: sum(v) / len(v) for kind, v in sorted(kinds.items())},
        },
        "prefgen": {
            "chars_per_second_per_core": our_rate,
            "windows_per_second_per_core": ours["windows"] / ours["cpu_seconds"],
            "chars_per_second_per_core_small_batches": our_small_rate, "small_batch_size": SMALL_BATCH,
            "wall_seconds": ours["wall_seconds"], "cpu_seconds": ours["cpu_seconds"],
            "setup_seconds": ours["setup_seconds"], "batch_size": args.batch_size,
            "searches_per_window": ours["stats"]["searches"] / max(1, ours["stats"]["windows"]),
            "left_extensions": ours["stats"]["extensions"], "rounds": ours["stats"]["rounds"],
            "quotes_reported": ours["quotes"],
            "subset_chars_per_second_per_core": our_subset_rate,
            "process": ours["process"],
        },
        "baseline": {
            "method": "infini-gram InfiniGramEngine.count once per 25-character window (Python binding)",
            "responses_scored": naive["responses"], "chars": naive["chars"], "windows": naive["windows"],
            "chars_per_second_per_core": naive_rate,
            "windows_per_second_per_core": naive["windows"] / naive["cpu_seconds"],
            "wall_seconds": naive["wall_seconds"], "cpu_seconds": naive["cpu_seconds"],
            "extrapolated_seconds_for_all_responses": ours["chars"] / naive_rate,  # CPU-seconds
            "process": naive["process"],
        },
        "speedup": {"all_responses_vs_baseline_rate": our_rate / naive_rate,
                    "wall_clock": (ours["chars"] / ours["wall_seconds"]) / (naive["chars"] / naive["wall_seconds"]),
                    "small_batches": our_small_rate / naive_rate,
                    "same_subset": our_subset_rate / naive_rate, "target": 20},
        "verification": {"responses_compared": naive["responses"], "responses_with_different_windows": len(mismatched),
                         "identical_scores": same_scores},
    }


def markdown(r: dict) -> str:
    p, b, c, s = r["prefgen"], r["baseline"], r["corpus"], r["speedup"]
    parts = "\n".join(f"  - {label}: {v['documents']:,} documents, {v['bytes'] / 1e6:.1f} MB"
                      for label, v in r["corpus"]["parts"].items() if v["documents"])
    kinds = ", ".join(f"{k} {v:.3f}" for k, v in r["responses"]["mean_quip_by_kind"].items())
    return f"""# Quote reward: exact QUIP speed

Command: `{r['command']}` ({r['machine']['cpu']}, one core per scorer, Python {r['machine']['python']},
numpy {r['machine']['numpy']}, infini-gram {r['machine']['infini_gram']}).

## Corpus and index

- {c['documents']:,} documents, {c['text_bytes'] / 1e6:.1f} MB of normalised text:
{parts}
- index: {c['index_bytes_on_disk'] / 1e6:.0f} MB on disk, built in {c['build_seconds']:.0f} s with {c['build_cpus']} CPU(s)

## Responses

{r['responses']['count']:,} responses, {r['responses']['chars']:,} characters ({r['responses']['mean_chars']:.0f} on average),
{r['responses']['windows']:,} windows of 25 characters. Mean QUIP by kind: {kinds}.

## Speed (characters scored per second, one core)

Per core = per CPU-second of a process pinned to one CPU (wall-clock times, on a shared machine, in brackets).

| scorer | chars/s/core | windows/s/core | scored | peak RSS (file-backed index pages at the end) |
|---|---:|---:|---|---|
| prefgen `QuipScorer` (with quotes and sources), batches of {p['batch_size']} | {p['chars_per_second_per_core']:,.0f} | {p['windows_per_second_per_core']:,.0f} | all {r['responses']['count']:,} responses in {p['cpu_seconds']:.1f} s ({p['wall_seconds']:.1f} s) | {p['process']['VmHWM_MB']:,} MB ({p['process']['RssFile_MB']:,} MB) |
| prefgen, batches of {p['small_batch_size']} | {p['chars_per_second_per_core_small_batches']:,.0f} | | all {r['responses']['count']:,} responses | |
| baseline: one `count` per window | {b['chars_per_second_per_core']:,.0f} | {b['windows_per_second_per_core']:,.0f} | first {b['responses_scored']} responses in {b['cpu_seconds']:.1f} s ({b['wall_seconds']:.1f} s) | {b['process']['VmHWM_MB']:,} MB ({b['process']['RssFile_MB']:,} MB) |

- **Speed-up: {s['all_responses_vs_baseline_rate']:.0f}x** (target {s['target']}x); with batches of {p['small_batch_size']}: {s['small_batches']:.0f}x; prefgen on the baseline's own subset: {s['same_subset']:.0f}x.
- The baseline scored only {b['responses_scored']} responses; its time for all of them is extrapolated
  from its rate: about {b['extrapolated_seconds_for_all_responses']:.0f} CPU-seconds against prefgen's {p['cpu_seconds']:.1f}.
- Wall-clock speed-up: {s['wall_clock']:.0f}x. Wall times are inflated by other processes on this shared
  2-core machine (load average {p['process']['load_average']} after prefgen's phase, {b['process']['load_average']} after the baseline's;
  {p['process']['involuntary_switches']:,} and {b['process']['involuntary_switches']:,} involuntary context switches), not by the disk
  ({p['process']['major_faults']} and {b['process']['major_faults']} major page faults).
- prefgen issued {p['searches_per_window']:.3f} suffix-array searches per window ({p['left_extensions']:,} left
  extensions, {p['rounds']} search rounds in {-(-r['responses']['count'] // p['batch_size'])} calls of up to {p['batch_size']} responses);
  opening the index (validation and the two-byte bucket table) took {p['setup_seconds']:.2f} s.
- Peak RSS counts the memory-mapped index pages the process touched (shared page cache, not
  private memory).
- Verification: on the baseline's {r['verification']['responses_compared']} responses, responses where the two found
  different windows: {r['verification']['responses_with_different_windows']}; identical scores: {r['verification']['identical_scores']}.
"""


def _nondefault_args(args) -> str:
    defaults = {"corpus_mb": 105.0, "responses": 2000, "baseline_responses": 100, "batch_size": 256, "seed": 0}
    extra = [f"--{k.replace('_', '-')} {getattr(args, k)}" for k, v in defaults.items() if getattr(args, k) != v]
    return (" " + " ".join(extra)) if extra else ""


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


if __name__ == "__main__":
    main()

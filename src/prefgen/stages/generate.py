"""Generate stage, with scoring overlapped: shards are scored as soon as they are written.

Content keys (what makes reruns incremental and killed runs resumable):

- a prompt's samples: (prompt id, model fingerprint, the strategy's key content, model settings);
- a generation shard: the sorted keys of its prompts;
- a shard's scores: (the shard, the reward's fingerprint, the keys of this run's prompts in it),
  so a shard scored for a subset of its prompts is never mistaken for one scored whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from prefgen.faults import crash_point
from prefgen.generation.strategy import GenerationStrategy
from prefgen.hashing import content_hash
from prefgen.progress import StageTracker
from prefgen.records import Candidate, Prompt, Scored
from prefgen.run_status import RunStatus
from prefgen.rundir import RunDir


def generation_key(model_fingerprint: str, strategy_content: Any, model_settings: dict[str, Any]) -> str:
    """The key shared by every prompt's samples in this run (today's layout for sampling)."""
    return content_hash([model_fingerprint, strategy_content, model_settings])


@dataclass
class GenerateWork:
    """What the stage computed rather than reused."""

    generate: int = 0  # shards written
    score: int = 0
    prompts_sampled: int = 0


@dataclass
class ShardBook:
    """The run's generation shards and which of this run's prompt keys each holds."""

    prompt_keys: dict[str, str]
    members: dict[str, list[str]] = field(default_factory=dict)

    def score_key(self, shard: str, reward_fingerprint: str) -> str:
        return content_hash([shard, reward_fingerprint, sorted(self.members[shard])])[:24]


class GenerateStage:
    """Generates missing samples with a strategy and scores every shard that lacks scores."""

    def __init__(self, run_dir: RunDir, status: RunStatus, tracker: StageTracker, scoring_jobs, names=("generate", "score")):
        self.run_dir, self.status, self.tracker = run_dir, status, tracker
        self._make_jobs = scoring_jobs  # () -> ScoringJobs; called only when there is scoring to do
        self._jobs = None
        self.work = GenerateWork()
        self.gen_name, self.score_name = names  # bar and status names: a re-sampling round has its own

    def run(
        self, prompts: list[Prompt], base_key: str, strategy: GenerationStrategy, reward_fp: str, shard_size: int
    ) -> list[Scored]:
        """Every prompt's scored samples, in prompt order."""
        book = ShardBook({p.id: content_hash([base_key, p.id])[:24] for p in prompts})
        pending = self._plan(prompts, book)
        by_id = {p.id: p for p in prompts}
        with self.tracker.live():
            unscored = [s for s in sorted(book.members) if not self.run_dir.has_shard("score", book.score_key(s, reward_fp))]
            chunks = [pending[i : i + shard_size] for i in range(0, len(pending), shard_size)]
            self._open_bars(len(prompts), len(pending), len(book.members), len(unscored), len(chunks))
            for shard in unscored:
                self._submit(shard, self.run_dir.read_shard("generate", shard), by_id)
            for chunk, candidates in strategy.run(chunks):
                shard, rows = self._write_generated(chunk, candidates, book)
                self._submit(shard, rows, by_id)
                self._collect(book, reward_fp, wait=False)
            self._collect(book, reward_fp, wait=True)
        self.status.stage(self.score_name, total=len(book.members), done=len(book.members))
        return self._load_scored(prompts, [book.score_key(s, reward_fp) for s in sorted(book.members)])

    def _plan(self, prompts: list[Prompt], book: ShardBook) -> list[Prompt]:
        """Record the shards already holding this run's prompts; return the prompts still to sample."""
        done = self._existing_prompt_shards()
        pending = []
        for p in prompts:
            key = book.prompt_keys[p.id]
            if key in done:
                book.members.setdefault(done[key], []).append(key)
            else:
                pending.append(p)
        return pending

    def _open_bars(self, prompts: int, pending: int, shards: int, unscored: int, chunks: int) -> None:
        self.gen_bar = self.tracker.stage(self.gen_name, total=prompts, done=prompts - pending)
        self.score_bar = self.tracker.stage(self.score_name, total=shards + chunks, done=shards - unscored)
        self.status.stage(self.gen_name, total=prompts, done=prompts - pending)
        self.status.stage(self.score_name, total=shards + chunks, done=shards - unscored)

    def _write_generated(self, chunk: list[Prompt], candidates: list[Candidate], book: ShardBook) -> tuple[str, list]:
        keys = [book.prompt_keys[p.id] for p in chunk]
        rows = [{**c.to_row(), "prompt_key": book.prompt_keys[c.prompt_id]} for c in candidates]
        shard = content_hash(sorted(keys))[:24]
        book.members[shard] = keys
        self.run_dir.write_shard("generate", shard, rows)
        self.work.generate += 1
        self.work.prompts_sampled += len(chunk)
        self.gen_bar.advance(len(chunk))
        self.status.advance(self.gen_name, len(chunk), next((c.error for c in candidates if c.error), None))
        crash_point("generate_shard")
        return shard, rows

    def _submit(self, shard: str, rows: list[dict], by_id: dict[str, Prompt]) -> None:
        if self._jobs is None:
            self._jobs = self._make_jobs()
        prompt_rows = [by_id[pid].to_row() for pid in {r["prompt_id"] for r in rows} if pid in by_id]
        candidate_rows = [{k: v for k, v in r.items() if k != "prompt_key"} for r in rows if r["prompt_id"] in by_id]
        self._jobs.submit(shard, prompt_rows, candidate_rows)

    def _collect(self, book: ShardBook, reward_fp: str, wait: bool) -> None:
        if self._jobs is None:
            return
        for shard, rows in self._jobs.finished(wait=wait):
            self.run_dir.write_shard("score", book.score_key(shard, reward_fp), rows)
            self.work.score += 1
            self.score_bar.advance(1)
            self.status.advance(self.score_name, 1)
            crash_point("score_shard")

    def _existing_prompt_shards(self) -> dict[str, str]:
        """prompt key -> generation shard holding its samples (from shards already on disk)."""
        found = {}
        for shard in self.run_dir.shard_keys("generate"):
            for row in self.run_dir.read_shard("generate", shard, columns=["prompt_key"]):
                found[row["prompt_key"]] = shard
        return found

    def _load_scored(self, prompts: list[Prompt], score_keys: list[str]) -> list[Scored]:
        """This run's scored samples, in prompt order, each carrying its prompt's split."""
        order = {p.id: (i, p.split) for i, p in enumerate(prompts)}
        scored = []
        for key in score_keys:
            for row in self.run_dir.read_shard("score", key):
                if row["prompt_id"] in order:
                    row["split"] = order[row["prompt_id"]][1]
                    scored.append(Scored.from_row(row))
        scored.sort(key=lambda s: (order[s.prompt_id][0], s.sample_index))
        return scored


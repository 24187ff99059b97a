"""``h``: human judgments. Compare two clips of a prompt blind, or rate one clip 1-5 and pass/fail,
and see which automated scorers agree with people.

What to judge next comes from :mod:`workbench.judging_queue` (fewest judgments by this
rater first, seeded shuffle, random left/right); judgments are appended to
``ratings.jsonl`` through :mod:`workbench.judgments.ratings` in a worker, one at a time
and in key-press order.
"""

from __future__ import annotations

import random
import threading
from collections import deque
from dataclasses import dataclass
from typing import Literal

import polars as pl
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import ContentSwitcher, DataTable, Footer, Header, Input, Static

from workbench.benchmark.folder import Benchmark
from workbench.benchmark.prompts import Prompt
from workbench.errors import WorkbenchError
from workbench.judging_queue import (
    ClipPool, JudgingQueue, PairTask, RatingTask, judgeable_clips, pair_queue, rating_queue,
)
from workbench.judgments.alignment import AlignmentRow, scorer_alignment
from workbench.judgments.ratings import default_rater, load_judgments, record_preference, record_rating
from workbench.tui.widgets.thumbnail import Thumbnail

THUMBS = 6  # thumbnails per clip (a 2x3 or 3x2 grid)
Mode = Literal["compare", "rate"]
CHOICE_WORDS = {"left": "A", "right": "B", "tie": "a tie"}


def pick_evenly(paths: tuple, count: int) -> list:
    """``count`` items spread evenly over ``paths`` (all of them when there are fewer)."""
    if len(paths) <= count:
        return list(paths)
    step = (len(paths) - 1) / (count - 1)
    return [paths[round(i * step)] for i in range(count)]


@dataclass(frozen=True)
class SaveJob:
    """One judgment waiting to be appended, with everything the worker needs."""

    bench: Benchmark
    rater: str
    task: RatingTask | PairTask
    choice: str | None = None  # preference: left | right | tie
    score: int | None = None
    passed: bool | None = None
    comment: str = ""


class TextPrompt(ModalScreen[str | None]):
    """A one-line question (the rater's name, a comment): enter keeps it, escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, value: str = "", placeholder: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.value = value
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(id="text-prompt"):
            yield Static(self.title_text, classes="title")
            yield Input(self.value, placeholder=self.placeholder, id="text-prompt-input")
            yield Static("enter: keep  ·  escape: cancel", classes="muted")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class RateScreen(Screen[None]):
    HELP_TITLE = "Rate"
    CSS_PATH = "rate.tcss"
    AUTO_FOCUS = ""  # every key belongs to the screen; the alignment table is display only
    VERTICAL_BREAKPOINTS = [(0, "-short"), (34, "-tall")]  # short: 3 thumbnails a clip with the panel open
    BINDINGS = [
        Binding("m", "toggle_mode", "Compare/Rate"),
        Binding("left,a", "prefer('left')", "A better"),
        Binding("right,b", "prefer('right')", "B better"),
        Binding("equals_sign,e", "prefer('tie')", "Tie"),
        Binding("1", "score(1)", "Score 1-5", key_display="1-5"),
        Binding("2", "score(2)", "Score 2", show=False),
        Binding("3", "score(3)", "Score 3", show=False),
        Binding("4", "score(4)", "Score 4", show=False),
        Binding("5", "score(5)", "Score 5", show=False),
        Binding("y", "verdict(True)", "Pass"),
        Binding("f", "verdict(False)", "Fail"),
        Binding("enter", "save_rating", "Save rating"),
        Binding("c", "comment", "Comment"),
        Binding("n", "skip", "Skip"),
        Binding("w", "change_rater", "Rater"),
        Binding("l", "toggle_alignment", "Alignment"),
        Binding("v", "toggle_reveal", "Reveal on/off", show=False),
    ]

    # ------------------------------------------------------------ messages
    @dataclass
    class QueuesLoaded(Message):
        generation: int
        bench: Benchmark
        pool: ClipPool
        ratings: list[RatingTask]
        pairs: list[PairTask]
        warnings: list[str]

    @dataclass
    class LoadFailed(Message):
        generation: int
        error: WorkbenchError

    @dataclass
    class JudgmentSaved(Message):
        job: SaveJob

    @dataclass
    class JudgmentFailed(Message):
        job: SaveJob
        error: WorkbenchError

    @dataclass
    class AlignmentReady(Message):
        generation: int
        rows: list[AlignmentRow]
        rated_clips: int

    @dataclass
    class AlignmentFailed(Message):
        generation: int
        error: WorkbenchError

    # ------------------------------------------------------------ state
    def __init__(self) -> None:
        super().__init__()
        self.mode: Mode = "compare"
        self.seed = random.SystemRandom().randrange(2**31)
        self.rater: str | None = None
        self.reveal = True
        self.pool: ClipPool | None = None
        self.prompts: dict[str, Prompt] = {}
        self.rating_queue: JudgingQueue[RatingTask] = JudgingQueue([])
        self.pair_queue: JudgingQueue[PairTask] = JudgingQueue([])
        self.staged_score: int | None = None
        self.staged_verdict: bool | None = None
        self.staged_comment = ""
        self.alignment_rows: list[AlignmentRow] = []
        self.alignment_rated = 0
        self._load_generation = 0
        self._align_generation = 0
        self._alignment_stale = True
        self._saved_since_visit = 0
        self._pending: deque[SaveJob] = deque()
        self._save_lock = threading.Lock()
        self._saving = False
        self._status_timer = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="rate-bar"):
            yield Static("", id="mode-label")
            yield Static("", id="rater-label")
            yield Static("", id="progress-label")
        yield Static("", id="prompt-text")
        with ContentSwitcher(initial="empty", id="stage"):
            yield Static("Loading the benchmark...", id="empty", classes="empty-state")
            with Horizontal(id="compare"):
                for side, letter in (("left", "A"), ("right", "B")):
                    with Vertical(id=f"side-{side}", classes="side"):
                        yield Static(letter, classes="side-title")
                        with Grid(classes="strip"):
                            for index in range(THUMBS):
                                yield Thumbnail(None, id=f"{side}-thumb-{index}", classes=_odd(index))
            with Vertical(id="single"):
                yield Static("", id="single-title", classes="side-title")
                with Grid(classes="strip"):
                    for index in range(THUMBS):
                        yield Thumbnail(None, id=f"single-thumb-{index}", classes=_odd(index))
        yield Static("", id="staged")
        yield Static("", id="status")
        with Vertical(id="alignment-panel"):
            yield Static("", id="alignment-title")
            yield DataTable(id="alignment-table", cursor_type="none", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#alignment-table", DataTable)
        table.can_focus = False
        for key, label in (("scorer", "scorer"), ("n", "n"), ("spearman", "spearman"),
                           ("kendall", "kendall"), ("agree", "pass agree"), ("note", "note")):
            table.add_column(label, key=key)
        try:
            self.rater = default_rater()
        except WorkbenchError as error:
            self.rater = None
            self._set_status(f"{error}; press w to give your name")
        self.watch(self.app, "bench_version", self._refresh, init=True)

    def on_screen_suspend(self) -> None:
        # other screens show human scores: reload once when leaving, not after every key press
        # (a dialog on top of this screen, like the comment box, is not leaving)
        if isinstance(self.app.screen, ModalScreen):
            return
        if self._saved_since_visit:
            self._saved_since_visit = 0
            self.app.load_benchmark()

    def palette_commands(self) -> list[tuple[str, str, object]]:
        return [
            ("Rate: switch compare / rate", "blind pairwise comparison or one clip at a time (m)",
             self.action_toggle_mode),
            ("Rate: change rater", "the name your judgments are recorded under (w)", self.action_change_rater),
            ("Rate: show/hide scorer alignment", "which scorers agree with people (l)",
             self.action_toggle_alignment),
            ("Rate: skip this one", "judge it later (n)", self.action_skip),
            ("Rate: add a comment", "a note saved with your next judgment (c)", self.action_comment),
            ("Rate: reveal models on/off", "show which model it was after each judgment (v)",
             self.action_toggle_reveal),
        ]

    # ------------------------------------------------------------ loading
    def _refresh(self, _version: int = 0) -> None:
        bench = self.app.bench
        if bench is None:
            self._show_empty("Loading the benchmark...")
            return
        self._load_generation += 1
        self._load_queues(bench, self.rater or "", self.seed, self._load_generation)
        self._alignment_stale = True
        if self._alignment_visible:
            self._start_alignment()

    @work(thread=True, exclusive=True, group="rate-load", exit_on_error=False)
    def _load_queues(self, bench: Benchmark, rater: str, seed: int, generation: int) -> None:
        try:
            pool = judgeable_clips(bench)
            judgments = load_judgments(bench.ratings_path)
        except WorkbenchError as error:
            self.post_message(self.LoadFailed(generation, error))
            return
        except OSError as error:
            self.post_message(self.LoadFailed(generation, WorkbenchError(
                f"{bench.root}: cannot read the runs or ratings ({error.strerror or error})")))
            return
        self.post_message(self.QueuesLoaded(
            generation, bench, pool, rating_queue(pool.clips, judgments, rater, seed),
            pair_queue(pool.clips, judgments, rater, seed), judgments.warnings,
        ))

    @on(QueuesLoaded)
    def _queues_loaded(self, message: QueuesLoaded) -> None:
        if message.generation != self._load_generation:
            return
        self.pool = message.pool
        self.prompts = {p.id: p for p in message.bench.prompts}
        self.rating_queue = JudgingQueue(message.ratings)
        self.pair_queue = JudgingQueue(message.pairs)
        self._clear_staged()
        for warning in message.warnings:
            self.notify(warning, severity="warning", timeout=8, markup=False)
        self._show_current()

    @on(LoadFailed)
    def _load_failed(self, message: LoadFailed) -> None:
        if message.generation == self._load_generation:
            self._show_empty(f"Cannot read the clips or ratings:\n{message.error}")
            self.app.show_error(message.error, "cannot load clips")

    # ------------------------------------------------------------ showing
    @property
    def current(self) -> RatingTask | PairTask | None:
        """The task on screen (None in an empty state)."""
        if self.pool is None:
            return None
        if self.mode == "compare":
            return self.pair_queue.current if self._compare_available else None
        return self.rating_queue.current

    @property
    def _compare_available(self) -> bool:
        return self.pool is not None and len(self.pool.models) >= 2 and self.pair_queue.total > 0

    def _show_empty(self, text: str) -> None:
        self.query_one("#empty", Static).update(Text(text, justify="center"))
        self.query_one("#stage", ContentSwitcher).current = "empty"
        self.query_one("#prompt-text", Static).update("")
        self._update_bar()
        self._update_staged()
        self.refresh_bindings()

    def _empty_reason(self) -> str | None:
        pool = self.pool
        root = self.app.root
        if pool is None:
            return "Loading the clips..."
        if not pool.clips:
            if pool.without_thumbnails:
                return (f"{pool.without_thumbnails} clips have no thumbnails yet.\n"
                        f"Score them first:\nworkbench score {root}")
            return ("No clips to judge yet. Generate and score them first:\n"
                    f"workbench run {root}\nworkbench score {root}")
        if self.mode == "compare" and not self._compare_available:
            only = ", ".join(pool.models)
            return (f"Compare needs clips of the same prompt from two models; only {only} has clips.\n"
                    "Press m to rate clips one at a time.")
        return None

    def _show_current(self) -> None:
        reason = self._empty_reason()
        if reason is not None:
            self._show_empty(reason)
            return
        task = self.current
        assert task is not None
        prompt_id = task.prompt_id if isinstance(task, PairTask) else task.clip.prompt_id
        self.query_one("#prompt-text", Static).update(self._prompt_text(prompt_id))
        if isinstance(task, PairTask):
            self.query_one("#stage", ContentSwitcher).current = "compare"
            for side, clip in (("left", task.left), ("right", task.right)):
                self._set_thumbs(side, clip.thumbnails)
        else:
            self.query_one("#stage", ContentSwitcher).current = "single"
            clip = task.clip
            title = f"this clip (repeat {clip.repeat}; model hidden until you rate it)"
            if task.judged:
                title += f"  ·  you rated it {task.judged}x before"
            self.query_one("#single-title", Static).update(title)
            self._set_thumbs("single", clip.thumbnails)
        self._update_bar()
        self._update_staged()
        self.refresh_bindings()

    def _set_thumbs(self, prefix: str, paths: tuple) -> None:
        chosen = pick_evenly(paths, THUMBS)
        for index in range(THUMBS):
            thumb = self.query_one(f"#{prefix}-thumb-{index}", Thumbnail)
            thumb.path = chosen[index] if index < len(chosen) else None
            thumb.label = "" if index < len(chosen) else "no frame"

    def _prompt_text(self, prompt_id: str) -> Text:
        prompt = self.prompts.get(prompt_id)
        text = Text()
        text.append(prompt_id, style="bold")
        if prompt is None:
            return text
        if prompt.tags:
            text.append("  " + " ".join(f"#{t}" for t in prompt.tags), style="dim")
        text.append("\n" + prompt.text)
        if prompt.notes:
            text.append("\nnotes: " + prompt.notes, style="italic dim")
        return text

    def _update_bar(self) -> None:
        compare = self.mode == "compare"
        self.query_one("#mode-label", Static).update(
            Text.assemble(("Compare" if compare else "Rate", "bold"),
                          " (blind A/B)" if compare else " (one clip, blind)"))
        self.query_one("#rater-label", Static).update(
            Text.assemble("rater: ", (self.rater or "(none)", "bold"), " (w)"))
        queue = self.pair_queue if compare else self.rating_queue
        noun = "pairs judged" if compare else "clips rated"
        if self.pool is None or (compare and not self._compare_available):
            progress = ""
        elif queue.all_judged:
            progress = f"all {queue.total} {noun.split()[0]} done: going round again"
        else:
            progress = f"{queue.judged}/{queue.total} {noun}"
        self.query_one("#progress-label", Static).update(progress)

    def _update_staged(self) -> None:
        task = self.current
        staged = self.query_one("#staged", Static)
        if task is None:
            staged.update("")
            return
        comment = f"comment: {self.staged_comment!r}" if self.staged_comment else "c: comment"
        if isinstance(task, PairTask):
            again = f"you compared this pair {task.judged}x before  ·  " if task.judged else ""
            staged.update(Text.assemble(
                again, ("which is better?", "bold"), "  a/←: A · b/→: B · =/e: tie · n: skip · ", comment))
            return
        score = ("score ", (str(self.staged_score) if self.staged_score else "-", "bold"))
        verdict_word = {True: "pass", False: "fail", None: "-"}[self.staged_verdict]
        verdict = ("  verdict ", (verdict_word, "bold"))
        staged.update(Text.assemble(
            *score, *verdict, "  ·  1-5 then y/f saves (⏎: just one) · n: skip · ", comment))

    def _set_status(self, text: str | Text, seconds: float | None = 6.0) -> None:
        self.query_one("#status", Static).update(Text(text) if isinstance(text, str) else text)
        if self._status_timer is not None:
            self._status_timer.stop()
            self._status_timer = None
        if seconds:
            self._status_timer = self.set_timer(seconds, lambda: self.query_one("#status", Static).update(""))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide the other mode's keys; grey out judging keys while there is nothing to judge."""
        compare = self.mode == "compare"
        available = True if self.current is not None else None
        if action == "prefer":
            return available if compare else False
        if action in ("score", "verdict", "save_rating"):
            return False if compare else available
        if action in ("skip", "comment"):
            return available
        return True

    # ------------------------------------------------------------ judging
    def _need_rater(self) -> bool:
        if self.rater:
            return False
        self.notify("Who is judging? Give your name first.", severity="warning")
        self.action_change_rater()
        return True

    def action_prefer(self, choice: str) -> None:
        task = self.current
        if self.mode != "compare" or not isinstance(task, PairTask) or self._need_rater():
            return
        job = SaveJob(bench=self.app.bench, rater=self.rater, task=task, choice=choice,
                      comment=self.staged_comment)
        self.pair_queue.mark_judged()
        self._submit(job)

    def action_score(self, score: int) -> None:
        if self.mode != "rate" or not isinstance(self.current, RatingTask):
            return
        self.staged_score = score
        self._after_staging()

    def action_verdict(self, passed: bool) -> None:
        if self.mode != "rate" or not isinstance(self.current, RatingTask):
            return
        self.staged_verdict = passed
        self._after_staging()

    def _after_staging(self) -> None:
        if self.staged_score is not None and self.staged_verdict is not None:
            self.action_save_rating()
        else:
            self._update_staged()

    def action_save_rating(self) -> None:
        task = self.current
        if self.mode != "rate" or not isinstance(task, RatingTask):
            return
        if self.staged_score is None and self.staged_verdict is None:
            self.notify("Press 1-5 for a score or y/f for pass/fail first.", severity="warning")
            return
        if self._need_rater():
            return
        job = SaveJob(bench=self.app.bench, rater=self.rater, task=task, score=self.staged_score,
                      passed=self.staged_verdict, comment=self.staged_comment)
        self.rating_queue.mark_judged()
        self._submit(job)

    def _submit(self, job: SaveJob) -> None:
        self._clear_staged()
        with self._save_lock:
            self._pending.append(job)
            start = not self._saving
            self._saving = True
        if start:
            self._save_judgments()
        self._set_status("saving...", seconds=None)
        self._show_current()

    def _clear_staged(self) -> None:
        self.staged_score = None
        self.staged_verdict = None
        self.staged_comment = ""

    def action_skip(self) -> None:
        if self.current is None:
            return
        (self.pair_queue if self.mode == "compare" else self.rating_queue).skip()
        self._clear_staged()
        self._set_status("skipped: it comes back after the others", seconds=3)
        self._show_current()

    @work(thread=True, exclusive=True, group="rate-save", exit_on_error=False)
    def _save_judgments(self) -> None:
        """Append queued judgments one by one, in the order they were made."""
        while True:
            with self._save_lock:
                if not self._pending:
                    self._saving = False
                    return
                job = self._pending.popleft()
            try:
                self._append(job)
            except WorkbenchError as error:
                self.post_message(self.JudgmentFailed(job, error))
            except OSError as error:
                self.post_message(self.JudgmentFailed(job, WorkbenchError(
                    f"{job.bench.ratings_path}: cannot write ({error.strerror or error})")))
            else:
                self.post_message(self.JudgmentSaved(job))

    @staticmethod
    def _append(job: SaveJob) -> None:
        task = job.task
        if isinstance(task, PairTask):
            record_preference(job.bench, task.prompt_id, task.left.side(), task.right.side(),
                              job.choice or "tie", rater=job.rater, comment=job.comment)
        else:
            clip = task.clip
            record_rating(job.bench, clip.prompt_id, clip.model, rater=job.rater, repeat=clip.repeat,
                          run=clip.run, score=job.score, passed=job.passed, comment=job.comment)

    @on(JudgmentSaved)
    def _judgment_saved(self, message: JudgmentSaved) -> None:
        self._saved_since_visit += 1
        self._alignment_stale = True
        self._set_status(self._saved_text(message.job))
        self._update_bar()
        if self._alignment_visible and not self._pending:
            self._start_alignment()

    def _saved_text(self, job: SaveJob) -> Text:
        task = job.task
        text = Text("saved", style="bold")
        if isinstance(task, PairTask):
            text.append(f" {task.prompt_id}: you chose {CHOICE_WORDS.get(job.choice or '', job.choice)}")
            if self.reveal:
                text.append(f"  ·  A was {task.left.model}, B was {task.right.model}")
        else:
            parts = [f"score {job.score}"] if job.score is not None else []
            if job.passed is not None:
                parts.append("pass" if job.passed else "fail")
            text.append(f" {task.clip.prompt_id}: {', '.join(parts)}")
            if self.reveal:
                text.append(f"  ·  that was {task.clip.model}")
        return text

    @on(JudgmentFailed)
    def _judgment_failed(self, message: JudgmentFailed) -> None:
        queue = self.pair_queue if isinstance(message.job.task, PairTask) else self.rating_queue
        queue.unmark(message.job.task.key)
        self._set_status(Text(f"not saved: {message.error}", style="bold red"), seconds=None)
        self.app.show_error(message.error, "judgment not saved")
        self._update_bar()

    # ------------------------------------------------------------ other actions
    def action_toggle_mode(self) -> None:
        self.mode = "rate" if self.mode == "compare" else "compare"
        self._clear_staged()
        self._show_current()

    def action_toggle_reveal(self) -> None:
        self.reveal = not self.reveal
        self._set_status("models are revealed after each judgment" if self.reveal
                         else "models stay hidden after each judgment", seconds=3)

    def action_comment(self) -> None:
        if self.current is None:
            return

        def keep(value: str | None) -> None:
            if value is not None:
                self.staged_comment = " ".join(value.split())
                self._update_staged()

        self.app.push_screen(TextPrompt("Comment, saved with your next judgment of this one",
                                        self.staged_comment, "what stands out?"), keep)

    def action_change_rater(self) -> None:
        def keep(value: str | None) -> None:
            if value is None:
                return
            try:
                name = default_rater(value) if value.strip() else None
            except WorkbenchError as error:
                self.app.show_error(error)
                return
            if name is None:
                self.notify("The name is empty; kept the previous one.", severity="warning")
                return
            if name != self.rater:
                self.rater = name
                self._set_status(f"judging as {name}", seconds=3)
                self._update_bar()
                if self.app.bench is not None:
                    self._load_generation += 1
                    self._load_queues(self.app.bench, name, self.seed, self._load_generation)

        self.app.push_screen(TextPrompt("Your name (recorded with every judgment)", self.rater or "",
                                        "e.g. alice"), keep)

    # ------------------------------------------------------------ alignment
    @property
    def _alignment_visible(self) -> bool:
        return self.has_class("-aligning")

    def action_toggle_alignment(self) -> None:
        self.toggle_class("-aligning")
        if self._alignment_visible and self._alignment_stale:
            self._start_alignment()

    def _start_alignment(self) -> None:
        bench = self.app.bench
        if bench is None:
            return
        self._align_generation += 1
        self._alignment_stale = False
        if not self.alignment_rows:
            self.query_one("#alignment-title", Static).update("Scorer alignment: computing...")
        self._compute_alignment(bench, self._align_generation)

    @work(thread=True, exclusive=True, group="rate-align", exit_on_error=False)
    def _compute_alignment(self, bench: Benchmark, generation: int) -> None:
        from workbench.decide.gate_inputs import scorer_directions
        from workbench.tables.score_table import load_table

        try:
            frame = load_table(bench, include_human=True)
            is_human = pl.col("scorer").str.starts_with("human.")
            scores, human = frame.filter(~is_human), frame.filter(is_human)
            rows = scorer_alignment(scores, human, bench.config.thresholds, scorer_directions(bench))
            rated = human.filter(pl.col("scorer") == "human.rating").select(
                ["model", "prompt_id", "repeat"]).unique().height
        except WorkbenchError as error:
            self.post_message(self.AlignmentFailed(generation, error))
            return
        except OSError as error:
            self.post_message(self.AlignmentFailed(generation, WorkbenchError(
                f"{bench.root}: cannot read scores or ratings ({error.strerror or error})")))
            return
        self.post_message(self.AlignmentReady(generation, rows, rated))

    @on(AlignmentReady)
    def _alignment_ready(self, message: AlignmentReady) -> None:
        if message.generation != self._align_generation:
            return
        self.alignment_rows = message.rows
        self.alignment_rated = message.rated_clips
        title = self.query_one("#alignment-title", Static)
        if not message.rows:
            title.update(Text(f"Scorer alignment: no automated scores yet (workbench score {self.app.root})"))
        elif message.rated_clips == 0:
            title.update("Scorer alignment: no ratings yet; rate clips (m, then 1-5 and y/f) "
                         "to see which scorers agree with people")
        else:
            title.update(Text.assemble(("Scorer alignment", "bold"),
                                       f" with {message.rated_clips} rated clips (all raters; "
                                       "rank agreement -1..+1)"))
        self._fill_alignment(message.rows)

    def _fill_alignment(self, rows: list[AlignmentRow]) -> None:
        table = self.query_one("#alignment-table", DataTable)
        wanted = {row.scorer: row for row in rows}
        for key in [k.value for k in table.rows if k.value not in wanted]:
            table.remove_row(key)
        for scorer, row in wanted.items():
            cells = {
                "scorer": scorer,
                "n": str(row.n_rated),
                "spearman": _signed(row.spearman),
                "kendall": _signed(row.kendall),
                "agree": "-" if row.pass_agreement is None
                else f"{row.pass_agreement:.0%} of {row.n_pass_labels}",
                "note": row.note,
            }
            if scorer in table.rows:
                for column, value in cells.items():
                    if table.get_cell(scorer, column) != value:
                        table.update_cell(scorer, column, value)
            else:
                table.add_row(*cells.values(), key=scorer)

    @on(AlignmentFailed)
    def _alignment_failed(self, message: AlignmentFailed) -> None:
        if message.generation == self._align_generation:
            self.query_one("#alignment-title", Static).update(Text(f"Scorer alignment unavailable: {message.error}"))
            self._alignment_stale = True


def _odd(index: int) -> str:
    """Every other thumbnail is hidden when space is short, leaving three spread over the clip."""
    return "extra" if index % 2 else ""


def _signed(value: float | None) -> str:
    return "-" if value is None else f"{value:+.2f}"

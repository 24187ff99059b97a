"""Prompt detail (``4``, or enter on a prompt): every model's clip of one prompt side by side,
and judging it.

Per model: a strip of frame thumbnails, the scores against the thresholds in force for the
prompt's tags, how the clip was generated (run, latency, cost, the provider's job id,
errors, what was asked for) and what people said. Rate the selected model's clip 1-5 and
pass/fail with a comment, or switch to a blind A/B comparison of two models' clips in a
seeded random order, which records the preference and then reveals who was who.

Everything shown comes from :mod:`workbench.clip_details` (scores, journals, ratings) and
:mod:`workbench.judging_queue` (what to judge next, which clip is A); judgments are
appended to ``ratings.jsonl`` through :mod:`workbench.judgments.ratings`, in a worker, in
key-press order. Thumbnails the scoring pass did not make yet are made in a worker.
"""

from __future__ import annotations

import random
import threading
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, ScrollableContainer, Vertical
from textual.content import Content
from textual.events import Resize
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import ContentSwitcher, Footer, Header, Input, Static
from textual.worker import get_current_worker

from workbench.benchmark.folder import Benchmark
from workbench.benchmark.prompts import Prompt
from workbench.clip_details import (
    ClipDetail, GenerationIndex, ModelDetail, PromptDetail, board_clips, make_thumbnails,
    next_to_judge, pair_for_prompt, prompt_detail,
)
from workbench.clip_views import ScoreBoard, load_board
from workbench.errors import WorkbenchError
from workbench.judging_queue import Clip, PairTask, RatingTask, pair_queue, rating_queue
from workbench.judgments.ratings import (
    Judgments, Preference, Rating, default_rater, load_judgments, record_preference, record_rating,
)
from workbench.tui.widgets.clip_strip import (
    THUMB_COLUMNS, THUMBS, BlindSide, ModelColumn, ThumbStrip, show_text,
)
from workbench.tui.widgets.screen_tabs import ScreenTabs
from workbench.tui.widgets.thumbnail import warm_thumbnails

SHORT_HEIGHT = 30  # rows below which the prompt and the frames take less room
CHOICE_WORDS = {"left": "A", "right": "B", "tie": "a tie"}


def verdict_words(score: int | None, passed: bool | None) -> str:
    """``4/5 pass``, ``4/5``, ``fail``: a rating in the words the screen uses."""
    parts = [f"{score}/5"] if score is not None else []
    if passed is not None:
        parts.append("pass" if passed else "fail")
    return " ".join(parts)


@dataclass(frozen=True)
class Earlier:
    """The rater's latest judgment of a clip: what a comment alone is added to."""

    score: int | None
    passed: bool | None
    comment: str

    def words(self) -> str:
        return verdict_words(self.score, self.passed)


# ----------------------------------------------------------------------------- data holders


@dataclass(frozen=True)
class Source:
    """What every prompt's detail is built from, loaded once per benchmark (re)load."""

    bench: Benchmark
    board: ScoreBoard
    prompts: tuple[Prompt, ...]
    judgments: Judgments
    ratings: tuple[RatingTask, ...]  # queue order for this rater and seed
    pairs: tuple[PairTask, ...]
    generations: GenerationIndex
    rater: str | None


@dataclass(frozen=True)
class SaveJob:
    """One judgment waiting to be appended, with everything the worker needs."""

    bench: Benchmark
    rater: str
    prompt_id: str
    clip: ClipDetail | None = None  # a rating
    pair: PairTask | None = None  # a preference
    choice: str | None = None  # left | right | tie
    score: int | None = None
    passed: bool | None = None
    comment: str = ""
    on_earlier: bool = False  # a comment added to the rater's earlier judgment (same score and verdict)

    @property
    def key(self) -> object:
        return self.pair.key if self.pair is not None else self.clip.key  # type: ignore[union-attr]


# ----------------------------------------------------------------------------- small widgets


class TextAsk(ModalScreen[str | None]):
    """A one-line question (a comment, the rater's name): enter keeps it, escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, value: str = "", placeholder: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.value = value
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(id="text-ask"):
            yield Static(self.title_text, classes="title", markup=False)
            yield Input(self.value, placeholder=self.placeholder, id="text-ask-input")
            yield Static("enter: keep  ·  escape: cancel", classes="muted")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ColumnsScroll(ScrollableContainer, inherit_bindings=False):
    """The models side by side; up/down/page keys scroll, left/right belong to the screen."""

    BINDINGS = [
        Binding("up", "scroll_up", "Scroll up", show=False),
        Binding("down", "scroll_down", "Scroll down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "scroll_home", "Top", show=False),
        Binding("end", "scroll_end", "Bottom", show=False),
    ]
    MIN_COLUMN = 36

    def on_resize(self, event: Resize) -> None:
        self.fit_columns()

    def fit_columns(self) -> None:
        """Share the width between the models; below the minimum width, scroll sideways."""
        columns = list(self.query_children(ModelColumn))
        if not columns or self.size.width <= 0:
            return
        available = self.size.width - 1  # the vertical scrollbar
        width = max(self.MIN_COLUMN, available // len(columns))
        for column in columns:
            if column.styles.width is None or column.styles.width.value != width:
                column.styles.width = width


def prompt_params(prompt: Prompt) -> list[str]:
    """``seed 7``, ``4 s``, ``1280x720``, ``16:9``, ``24 fps``: what the prompt asks of a clip."""
    params = []
    if prompt.seed is not None:
        params.append(f"seed {prompt.seed}")
    if prompt.duration is not None:
        params.append(f"{prompt.duration:g} s")
    for value in (prompt.resolution, prompt.aspect_ratio):
        if value:
            params.append(value)
    if prompt.fps is not None:
        params.append(f"{prompt.fps} fps")
    return params


# ----------------------------------------------------------------------------- the screen


class PromptDetailScreen(Screen[None]):
    HELP_TITLE = "Prompt detail"
    CSS_PATH = "prompt_detail.tcss"
    AUTO_FOCUS = "#columns"
    VERTICAL_BREAKPOINTS = [(0, "-short"), (SHORT_HEIGHT, "-tall")]
    # The footer shows the keys of rating; the rest are in ? help (and the line under the
    # columns says what the blind A/B keys do).
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("[", "step_prompt(-1)", "Previous prompt", show=False),
        Binding("]", "step_prompt(1)", "Prompt", key_display="[ ]"),  # [ previous, ] next
        Binding("left,a", "prefer('left')", "Blind A/B: A is better", show=False),
        Binding("right,b", "prefer('right')", "Blind A/B: B is better", show=False),
        Binding("=,e", "prefer('tie')", "Blind A/B: a tie", show=False),
        Binding("left,shift+tab", "step_model(-1)", "Previous model", show=False),
        Binding("right,tab", "step_model(1)", "Next model", show=False),
        Binding("r", "next_repeat", "Next repeat", show=False),
        Binding("1", "score(1)", "Score", key_display="1-5"),
        Binding("2", "score(2)", "Score 2", show=False),
        Binding("3", "score(3)", "Score 3", show=False),
        Binding("4", "score(4)", "Score 4", show=False),
        Binding("5", "score(5)", "Score 5", show=False),
        # where there is nothing to score the digits stay here (they would switch screens otherwise)
        Binding("1,2,3,4,5", "explain_score", "Nothing to score here: says why", show=False,
                key_display="1-5"),
        Binding("y", "verdict(True)", "Pass/fail", key_display="y/f"),
        Binding("f", "verdict(False)", "Fail", show=False),
        Binding("enter", "save_rating", "Save what is staged", show=False),
        Binding("c", "comment", "Comment"),
        Binding("v", "toggle_blind", "Blind A/B"),
        Binding("j", "next_to_judge", "Next to judge"),
        Binding("w", "change_rater", "Rater", show=False),
    ]

    # ------------------------------------------------------------ messages
    @dataclass
    class SourceLoaded(Message):
        generation: int
        source: Source
        warnings: list[str]

    @dataclass
    class SourceFailed(Message):
        generation: int
        error: WorkbenchError

    @dataclass
    class DetailReady(Message):
        generation: int
        detail: PromptDetail

    @dataclass
    class DetailFailed(Message):
        generation: int
        prompt_id: str
        error: WorkbenchError

    @dataclass
    class ThumbnailsMade(Message):
        video: Path
        paths: tuple[Path, ...]

    @dataclass
    class ThumbnailsFailed(Message):
        video: Path
        error: WorkbenchError

    @dataclass
    class JudgmentSaved(Message):
        job: SaveJob
        record: Rating | Preference

    @dataclass
    class JudgmentFailed(Message):
        job: SaveJob
        error: WorkbenchError

    # ------------------------------------------------------------ state
    def __init__(self, prompt_id: str, *, seed: int | None = None) -> None:
        super().__init__()
        self.prompt_id = prompt_id
        #: decides the queue order and which clip is A in a blind pair (fresh each time unless given)
        self.seed = seed if seed is not None else random.SystemRandom().randrange(2**31)
        self.rater: str | None = None
        self.source: Source | None = None
        self.detail: PromptDetail | None = None
        self.model_index = 0
        self.repeat = 0
        self.blind = False
        self.pair: PairTask | None = None
        self.revealed: str | None = None  # the text revealing the current pair, once judged
        self.staged_score: int | None = None
        self.staged_verdict: bool | None = None
        self.staged_comment = ""
        self._last_choice: str | None = None  # the choice made on the revealed pair
        self._submitted: dict[tuple[str, object], SaveJob] = {}  # (rater, clip) -> rating not written yet
        self._rating_counts: dict[object, int] = {}
        self._pair_counts: dict[object, int] = {}
        self._thumbs: dict[Path, tuple[Path, ...]] = {}
        self._thumbs_failed: dict[Path, str] = {}
        self._thumbs_wanted: set[Path] = set()
        self._source_generation = 0
        self._detail_generation = 0
        self._pending: deque[SaveJob] = deque()
        self._save_lock = threading.Lock()
        self._saving = False
        self._saved_since_visit = 0
        self._status_timer = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield ScreenTabs("detail")
        with Horizontal(id="detail-bar"):
            yield Static("", id="bar-prompt", markup=False)
            yield Static("", id="bar-mode", markup=False)
            yield Static("", id="bar-rater", markup=False)
        yield Static("", id="prompt-box", markup=False)
        with ContentSwitcher(initial="detail-empty", id="stage"):
            yield Static("Loading the benchmark…", id="detail-empty", classes="empty-state", markup=False)
            yield ColumnsScroll(id="columns")
            with Horizontal(id="blind"):
                yield BlindSide("A", id="side-left")
                yield BlindSide("B", id="side-right")
        yield Static("", id="staged", markup=False)
        yield Static("", id="status", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        try:
            self.rater = default_rater()
        except (WorkbenchError, OSError) as error:
            self.rater = None
            self._set_status(f"{error}; press w to give your name", seconds=None)
        self.watch(self.app, "bench_version", self._refresh, init=True)

    def on_screen_suspend(self) -> None:
        # other screens show human scores: reload once when leaving, not after every judgment
        # (a dialog on top of this screen, like the comment box, is not leaving)
        if isinstance(self.app.screen, ModalScreen):
            return
        self._reload_if_saved()

    def _reload_if_saved(self) -> None:
        if self._saved_since_visit:
            self._saved_since_visit = 0
            self.app.load_benchmark()

    def palette_commands(self) -> list[tuple[str, str, object]]:
        commands: list[tuple[str, str, object]] = [
            ("Detail: previous prompt", "the prompt before this one ([)", lambda: self.action_step_prompt(-1)),
            ("Detail: next prompt", "the prompt after this one (])", lambda: self.action_step_prompt(1)),
            ("Detail: next model", "select the next model's clip (→ or tab)", lambda: self.action_step_model(1)),
            ("Detail: previous model", "select the previous model's clip (← or shift+tab)",
             lambda: self.action_step_model(-1)),
            ("Detail: next repeat", "show the clips of the next repeat (r)", self.action_next_repeat),
            ("Detail: mark pass", "the selected clip passes (y)", lambda: self.action_verdict(True)),
            ("Detail: mark fail", "the selected clip fails (f)", lambda: self.action_verdict(False)),
            ("Detail: save rating", "save the staged score or verdict now (enter)", self.action_save_rating),
            ("Detail: add a comment", "a note saved with your next judgment, or added to the one you "
             "made (c)", self.action_comment),
            ("Detail: next clip to judge", "jump to the next clip you have not judged (j)",
             self.action_next_to_judge),
            ("Detail: blind A/B on/off", "compare two models' clips without their names (v)",
             self.action_toggle_blind),
            ("Detail: A is better", "blind A/B: prefer A (a or ←)", lambda: self.action_prefer("left")),
            ("Detail: B is better", "blind A/B: prefer B (b or →)", lambda: self.action_prefer("right")),
            ("Detail: A and B tie", "blind A/B: neither is better (e or =)", lambda: self.action_prefer("tie")),
            ("Detail: change rater", "the name your judgments are recorded under (w)", self.action_change_rater),
            ("Detail: back", "leave the detail view (escape)", self.action_back),
        ]
        for score in range(1, 6):
            commands.append((f"Detail: score {score}", f"rate the selected clip {score} of 5 ({score})",
                             lambda s=score: self.action_score(s)))
        return commands

    # ------------------------------------------------------------ loading
    def _refresh(self, _version: int = 0) -> None:
        bench = self.app.bench
        if bench is None:
            self._show_empty("Loading the benchmark…")
            return
        if self.source is None:
            self._show_empty("Loading clips…")
        self._source_generation += 1
        self._load_source(bench, self.rater, self.seed, self._source_generation)

    @work(thread=True, exclusive=True, group="detail-source", exit_on_error=False)
    def _load_source(self, bench: Benchmark, rater: str | None, seed: int, generation: int) -> None:
        try:
            board = load_board(bench)
            judgments = load_judgments(bench.ratings_path)
        except WorkbenchError as error:
            self.post_message(self.SourceFailed(generation, error))
            return
        except OSError as error:
            self.post_message(self.SourceFailed(generation, WorkbenchError(
                f"{bench.root}: cannot read the runs or ratings ({error.strerror or error})")))
            return
        prompts = tuple(bench.prompts)
        clips = board_clips(board, prompts)
        source = Source(
            bench=bench, board=board, prompts=prompts, judgments=judgments,
            ratings=tuple(rating_queue(clips, judgments, rater or "", seed)),
            pairs=tuple(pair_queue(clips, judgments, rater or "", seed)),
            generations=GenerationIndex(bench), rater=rater,
        )
        self.post_message(self.SourceLoaded(generation, source, [*board.warnings, *judgments.warnings]))

    @on(SourceLoaded)
    def _source_loaded(self, message: SourceLoaded) -> None:
        if message.generation != self._source_generation:
            return
        self.source = message.source
        self._rating_counts = {task.key: task.judged for task in message.source.ratings}
        self._pair_counts = {task.key: task.judged for task in message.source.pairs}
        for warning in message.warnings:
            self.notify(warning, severity="warning", timeout=8, markup=False)
        if self.blind:
            self._pick_pair(keep=True)
        self._load_current()

    @on(SourceFailed)
    def _source_failed(self, message: SourceFailed) -> None:
        if message.generation == self._source_generation:
            self._show_empty(f"Cannot read the clips or ratings:\n{message.error}")
            self.app.show_error(message.error, "cannot load clips")

    def _load_current(self) -> None:
        """Build the current prompt's detail in a worker (journals are read there)."""
        source = self.source
        if source is None:
            return
        self._detail_generation += 1
        judgments = Judgments(list(source.judgments.ratings), list(source.judgments.preferences))
        self._load_detail(source, self.prompt_id, judgments, self._detail_generation)

    @work(thread=True, exclusive=True, group="detail-prompt", exit_on_error=False)
    def _load_detail(self, source: Source, prompt_id: str, judgments: Judgments, generation: int) -> None:
        try:
            detail = prompt_detail(source.board, source.prompts, prompt_id, source.generations,
                                   judgments, source.rater)
        except (WorkbenchError, OSError) as error:
            self.post_message(self.DetailFailed(generation, prompt_id, error))
            return
        warm_thumbnails(path for model in detail.models for clip in model.clips for path in clip.view.thumbnails)
        self.post_message(self.DetailReady(generation, detail))

    @on(DetailReady)
    async def _detail_ready(self, message: DetailReady) -> None:
        if message.generation != self._detail_generation:
            return
        previous = self.detail
        detail = message.detail
        self.detail = detail
        if previous is None or previous.prompt.id != detail.prompt.id:
            self._clear_staged()
        self.repeat = min(self.repeat, max(0, detail.repeats - 1))
        self.model_index = min(self.model_index, max(0, len(detail.models) - 1))
        await self._ensure_columns([m.model for m in detail.models])
        self._want_thumbnails(detail.clips_without_thumbnails())
        self._show()

    @on(DetailFailed)
    def _detail_failed(self, message: DetailFailed) -> None:
        if message.generation != self._detail_generation:
            return
        self.detail = None
        show_text(self.query_one("#prompt-box", Static), "")
        self._show_empty(f"{message.error}\n\n[ and ] go to the previous and next prompt.")

    async def _ensure_columns(self, models: list[str]) -> None:
        """One column per model, reused from prompt to prompt; remounted only when the models change."""
        container = self.query_one("#columns", ColumnsScroll)
        existing = list(container.query_children(ModelColumn))
        if [c.model for c in existing] == models:
            return
        await container.remove_children()
        if models:
            await container.mount_all(ModelColumn(model, id=f"model-{index}")
                                      for index, model in enumerate(models))
        container.fit_columns()

    # ------------------------------------------------------------ thumbnails
    def _want_thumbnails(self, videos: list[Path]) -> None:
        """Make the missing thumbnails of ``videos`` first, then any still waiting (one worker)."""
        wanted = [v for v in videos if v not in self._thumbs and v not in self._thumbs_failed
                  and v not in self._thumbs_wanted]
        if not wanted or self.source is None:
            return
        queue = wanted + [v for v in self._thumbs_wanted if v not in wanted]
        self._thumbs_wanted = set(queue)
        self._make_thumbnails(queue, self.source.bench.config.scoring.thumbnails or THUMBS)

    @work(thread=True, exclusive=True, group="detail-thumbs", exit_on_error=False)
    def _make_thumbnails(self, videos: list[Path], count: int) -> None:
        worker = get_current_worker()
        for video in videos:
            if worker.is_cancelled:
                return
            try:
                paths = make_thumbnails(video, count)
            except (WorkbenchError, OSError) as error:
                self.post_message(self.ThumbnailsFailed(video, error))
                continue
            self.post_message(self.ThumbnailsMade(video, paths))

    @on(ThumbnailsMade)
    def _thumbnails_made(self, message: ThumbnailsMade) -> None:
        self._thumbs[message.video] = message.paths
        self._thumbs_wanted.discard(message.video)
        self._show()

    @on(ThumbnailsFailed)
    def _thumbnails_failed(self, message: ThumbnailsFailed) -> None:
        self._thumbs_failed[message.video] = str(message.error)
        self._thumbs_wanted.discard(message.video)
        self.notify(str(message.error), title="no thumbnails", severity="warning", timeout=8, markup=False)
        self._show()

    def thumb_note(self, video: Path | None) -> str:
        """What to show instead of thumbnails for ``video``."""
        if video is not None and video in self._thumbs_failed:
            return f"no thumbnails: {self._thumbs_failed[video]}"
        return "making thumbnails…"

    def thumbnails_of(self, video: Path | None, recorded: tuple[Path, ...]) -> tuple[Path, ...]:
        """The thumbnails to show for a video: the scoring pass's, or the ones made here."""
        if video is None:
            return ()
        return recorded or self._thumbs.get(video, ())

    # ------------------------------------------------------------ showing
    @property
    def selected_model(self) -> ModelDetail | None:
        if self.detail is None or not self.detail.models:
            return None
        return self.detail.models[min(self.model_index, len(self.detail.models) - 1)]

    @property
    def selected_clip(self) -> ClipDetail | None:
        model = self.selected_model
        return model.clip(self.repeat) if model is not None else None

    def _show_empty(self, text: str) -> None:
        show_text(self.query_one("#detail-empty", Static), text)
        self.query_one("#stage", ContentSwitcher).current = "detail-empty"
        self._update_bar()
        self._update_staged()
        self.refresh_bindings()

    def on_resize(self, event: Resize) -> None:
        self._fit_frames()

    def _fit_frames(self) -> None:
        """Three frames a clip in the columns on a short terminal, six otherwise (the blind view,
        with only the frames to show, always has room for six)."""
        limit = THUMB_COLUMNS if 0 < self.size.height < SHORT_HEIGHT else THUMBS
        for column in self.query(ModelColumn):
            column.query_one(ThumbStrip).set_limit(limit)

    def _show(self) -> None:
        """Draw the current prompt (detail or blind) from the loaded state."""
        detail = self.detail
        if detail is None:
            return
        self._fit_frames()
        self._show_prompt_box(detail)
        if self.blind:
            self._show_blind()
        elif not detail.models:
            self._show_empty(f"No clips for {detail.prompt.id} yet. Generate them on the Runs screen (2) "
                             f"or with:\nworkbench run {self.app.root}")
            self._show_prompt_box(detail)
        else:
            self.query_one("#stage", ContentSwitcher).current = "columns"
            for index, (column, model) in enumerate(zip(self.query(ModelColumn), detail.models)):
                clip = model.clip(self.repeat)
                video = clip.view.video if clip is not None else None
                thumbs = self.thumbnails_of(video, clip.view.thumbnails) if clip is not None else ()
                column.show(model, clip, selected=index == self.model_index, thumbs=thumbs,
                            thumb_note=self.thumb_note(video), rater=self.rater)
        self._update_bar()
        self._update_staged()
        self.refresh_bindings()

    def _show_prompt_box(self, detail: PromptDetail) -> None:
        prompt = detail.prompt
        parts = [Content(prompt.text)]
        facts = []
        if prompt.tags:
            facts.append(Content.styled(" ".join(f"#{t}" for t in prompt.tags), "$accent"))
        params = prompt_params(prompt)
        if params:
            facts.append(Content.styled(" · ".join(params), "$text-muted"))
        if facts:
            parts.append(Content("  ").join(facts))
        if prompt.negative_prompt:
            parts.append(Content.styled(f"avoid: {prompt.negative_prompt}", "$text-muted"))
        if prompt.notes:
            parts.append(Content.styled(f"notes: {prompt.notes}", "$text-muted italic"))
        show_text(self.query_one("#prompt-box", Static), Content("\n").join(parts))

    def _update_bar(self) -> None:
        detail = self.detail
        if detail is not None:
            bar = Content.assemble((detail.prompt.id, "bold"),
                                   (f"  prompt {detail.position + 1}/{detail.total}", "$text-muted"))
            if detail.repeats > 1 and not self.blind:
                bar = bar + Content.styled(f"  repeat {self.repeat + 1}/{detail.repeats}", "$text-muted")
        else:
            bar = Content.styled(self.prompt_id, "bold")
        show_text(self.query_one("#bar-prompt", Static), bar)
        if self.blind:
            left = sum(1 for count in self._pair_counts.values() if count == 0)
            mode = Content.styled(f"BLIND A/B  ·  {left} pairs left to compare", "bold $warning")
        else:
            left = sum(1 for count in self._rating_counts.values() if count == 0)
            mode = Content.styled(f"{left} clips left to rate", "$text-muted")
        show_text(self.query_one("#bar-mode", Static), mode)
        show_text(self.query_one("#bar-rater", Static), 
            Content.styled(f"rater: {self.rater}", "$accent") if self.rater
            else Content.styled("rater: ? (w)", "$warning"))

    def _update_staged(self) -> None:
        staged = self.query_one("#staged", Static)
        if self.blind:
            if self.pair is None:
                show_text(staged, "")
                return
            hint = ("a/← A better · b/→ B better · e/= tie · c comment · j next · v back"
                    if self.revealed is None else "judged: j next pair · a/b/e change your choice · c comments on it")
            comment = Content.styled(f"  comment “{self.staged_comment}” goes with your choice", "$accent") \
                if self.staged_comment else Content("")
            show_text(staged, Content.styled(hint, "$text-muted") + comment)
            return
        clip = self.selected_clip
        if clip is None or not clip.can_be_judged:
            show_text(staged, Content.styled("nothing to rate here" if self.detail else "", "$text-muted"))
            return
        show_text(staged, self._rating_hint(clip))

    def _rating_hint(self, clip: ClipDetail) -> Content:
        """The line under the columns: what is staged and which key saves it, in plain words."""
        repeat = f" (repeat {clip.repeat + 1})" if self.detail and self.detail.repeats > 1 else ""
        target = Content.styled(f"rate {clip.model}{repeat}: ", "bold")
        score, verdict, comment = self.staged_score, self.staged_verdict, self.staged_comment
        muted = "$text-muted"
        if score is None and verdict is None and not comment:
            earlier = self.earlier_rating(clip)
            if earlier is None:
                return target + Content.styled(
                    "4 y saves a 4/5 pass; c adds a comment; enter saves what is staged", muted)
            return target + Content.assemble(
                ("yours is ", muted), (earlier.words(), "bold"),
                (f" “{earlier.comment}”", "$accent") if earlier.comment else "",
                ("; 1-5 and y/f change it; c " + ("changes the comment" if earlier.comment
                                                   else "adds a comment to it"), muted))
        parts = []
        if score is not None:
            parts.append(Content.styled(f"{score}/5", "bold $accent"))
        if verdict is not None:
            parts.append(Content.styled("pass", "bold $success") if verdict
                         else Content.styled("fail", "bold $error"))
        if comment:
            parts.append(Content.styled(f"“{comment}”", "$accent"))
        shown = Content(" ").join(parts) + Content.styled(" staged; ", muted)
        if score is not None and verdict is not None:  # (saved at once: only while saving)
            return target + shown
        if score is None and verdict is None:
            earlier = self.earlier_rating(clip)
            if earlier is not None:
                return target + shown + Content.styled(
                    f"enter adds it to your {earlier.words()}, or the rating you give now saves it along", muted)
            return target + shown + Content.styled(
                "the rating you give next saves it along (4 y, or 1-5/y/f then enter)", muted)
        missing = "y or f saves it with a verdict" if verdict is None else "1-5 saves it with a score"
        extra = "" if comment else "; c adds a comment"
        return target + shown + Content.styled(f"{missing}; enter saves it as it is{extra}", muted)

    def _set_status(self, text: str | Content, seconds: float | None = 6.0) -> None:
        status = self.query_one("#status", Static)
        show_text(status, text)
        if self._status_timer is not None:
            self._status_timer.stop()
            self._status_timer = None
        if seconds:
            self._status_timer = self.set_timer(seconds, lambda: show_text(status, ""))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Blind keys only in blind mode, model keys only outside it; grey out what has no target."""
        if action == "prefer":
            if not self.blind:
                return False
            return True if self.pair is not None else None
        if action == "step_model":
            if self.blind:
                return False
            return True if self.detail is not None and len(self.detail.models) > 1 else None
        if action == "next_repeat":  # shown only where there is more than one repeat
            return not self.blind and self.detail is not None and self.detail.repeats > 1
        if action in ("score", "verdict", "save_rating"):
            if self.blind:
                return False
            clip = self.selected_clip
            return True if clip is not None and clip.can_be_judged else None
        return True

    # ------------------------------------------------------------ navigation
    def show_prompt(self, prompt_id: str) -> None:
        """Show another prompt (the app calls this when the screen is already on top)."""
        if prompt_id == self.prompt_id and self.detail is not None:
            return
        self.prompt_id = prompt_id
        self.app.current_prompt_id = prompt_id
        if self.blind:
            self._pick_pair(keep=False)
        self._load_current()

    def action_back(self) -> None:
        self._reload_if_saved()
        self.app.pop_screen()

    def action_step_prompt(self, step: int) -> None:
        source = self.source
        if source is None or not source.prompts:
            return
        ids = [p.id for p in source.prompts]
        if self.prompt_id in ids:
            target = (ids.index(self.prompt_id) + step) % len(ids)
        else:  # the prompt was deleted: start from either end
            target = 0 if step > 0 else len(ids) - 1
        self.show_prompt(ids[target])

    def action_step_model(self, step: int) -> None:
        if self.blind or self.detail is None or not self.detail.models:
            return
        self.model_index = (self.model_index + step) % len(self.detail.models)
        self._clear_staged()
        self._show()
        columns = list(self.query(ModelColumn))
        if self.model_index < len(columns):
            self.query_one("#columns", ColumnsScroll).scroll_to_widget(
                columns[self.model_index], animate=False, top=False)

    @on(ModelColumn.Picked)
    def _column_picked(self, message: ModelColumn.Picked) -> None:
        columns = list(self.query(ModelColumn))
        if self.blind or message.column not in columns:
            return
        index = columns.index(message.column)
        if index != self.model_index:
            self.action_step_model(index - self.model_index)

    def action_next_repeat(self) -> None:
        if self.blind or self.detail is None or self.detail.repeats <= 1:
            if self.detail is not None and not self.blind:
                self._set_status("this prompt has one repeat", seconds=3)
            return
        self.repeat = (self.repeat + 1) % self.detail.repeats
        self._clear_staged()
        self._show()

    # ------------------------------------------------------------ rating
    def _need_rater(self) -> bool:
        if self.rater:
            return False
        self.notify("Who is judging? Give your name first.", severity="warning")
        self.action_change_rater()
        return True

    def action_score(self, score: int) -> None:
        if self.blind or self.selected_clip is None or not self.selected_clip.can_be_judged:
            return
        self.staged_score = score
        self._after_staging()

    def action_verdict(self, passed: bool) -> None:
        if self.blind or self.selected_clip is None or not self.selected_clip.can_be_judged:
            return
        self.staged_verdict = passed
        self._after_staging()

    def action_explain_score(self) -> None:
        if self.blind:
            self._set_status("blind A/B: a or ← if A is better, b or → for B, e or = for a tie; "
                             "v goes back to rating one clip", seconds=6)
        elif self.detail is not None and self.detail.models:
            self._set_status("nothing to rate: this model has no clip of this prompt (← → another model)",
                             seconds=6)
        else:
            self._set_status("nothing to rate here", seconds=4)

    def _after_staging(self) -> None:
        if self.staged_score is not None and self.staged_verdict is not None:
            self.action_save_rating()
        else:
            self._update_staged()

    def earlier_rating(self, clip: ClipDetail) -> Earlier | None:
        """This rater's latest rating of ``clip`` (of the run shown), counting one still being written."""
        if not self.rater:
            return None
        pending = self._submitted.get((self.rater, clip.key))
        if pending is not None:
            return Earlier(pending.score, pending.passed, pending.comment)
        if self.source is None:
            return None
        for rating in reversed(self.source.judgments.ratings):
            if rating.rater == self.rater and rating.item == clip.key \
                    and rating.run in (None, clip.view.run_id):
                return Earlier(rating.score, rating.passed, rating.comment)
        return None

    def action_save_rating(self) -> None:
        """Save the staged score and/or verdict with the staged comment; a comment alone is
        added to the rater's earlier judgment of the clip (a rating needs a score or a verdict)."""
        clip = self.selected_clip
        if self.blind or clip is None or not clip.can_be_judged or self.source is None:
            return
        score, passed, on_earlier = self.staged_score, self.staged_verdict, False
        if score is None and passed is None:
            earlier = self.earlier_rating(clip) if self.staged_comment else None
            if earlier is None:
                if self.staged_comment:
                    self._set_status(Content.styled(
                        "a comment needs a rating to go with: press 1-5 or y/f (it stays staged)",
                        "$warning"), seconds=8)
                else:
                    self._set_status("nothing staged: press 1-5 for a score or y/f for pass/fail", seconds=6)
                return
            score, passed, on_earlier = earlier.score, earlier.passed, True
        if self._need_rater():
            return
        job = SaveJob(bench=self.source.bench, rater=self.rater or "", prompt_id=clip.view.prompt_id,
                      clip=clip, score=score, passed=passed, comment=self.staged_comment,
                      on_earlier=on_earlier)
        self._rating_counts[clip.key] = self._rating_counts.get(clip.key, 0) + 1
        self._submitted[(job.rater, clip.key)] = job
        self._submit(job)

    def action_prefer(self, choice: str) -> None:
        pair = self.pair
        if not self.blind or pair is None or self.source is None or self._need_rater():
            return
        job = SaveJob(bench=self.source.bench, rater=self.rater or "", prompt_id=pair.prompt_id,
                      pair=pair, choice=choice, comment=self.staged_comment)
        self._last_choice = choice
        self._pair_counts[pair.key] = self._pair_counts.get(pair.key, 0) + 1
        self.revealed = (f"you chose {CHOICE_WORDS[choice]}: A was {pair.left.model}, "
                         f"B was {pair.right.model}")
        self._submit(job)

    def _submit(self, job: SaveJob) -> None:
        self._clear_staged(warn=False)
        with self._save_lock:
            self._pending.append(job)
            start = not self._saving
            self._saving = True
        if start:
            self._save_judgments()
        self._set_status("saving…", seconds=None)
        self._show()

    def _clear_staged(self, warn: bool = True) -> None:
        """Forget what is staged; moving on from a clip says what was dropped unsaved."""
        dropped = verdict_words(self.staged_score, self.staged_verdict)
        if self.staged_comment:
            dropped = f"{dropped} “{self.staged_comment}”".strip()
        self.staged_score = None
        self.staged_verdict = None
        self.staged_comment = ""
        if warn and dropped:
            self._set_status(Content.styled(f"not saved: {dropped} (you moved on before saving it)",
                                            "$warning"), seconds=8)

    @work(thread=True, exclusive=True, group="detail-save", exit_on_error=False)
    def _save_judgments(self) -> None:
        """Append queued judgments one by one, in the order they were made. If the screen was
        closed meanwhile, its messages would go nowhere: the app is told instead."""
        app = self.app  # (a closed screen no longer leads to its app)
        saved = 0
        while True:
            with self._save_lock:
                if not self._pending:
                    self._saving = False
                    break
                job = self._pending.popleft()
            try:
                record = self._append(job)
            except (WorkbenchError, OSError) as error:
                if self.is_attached:
                    self.post_message(self.JudgmentFailed(job, error))
                else:
                    app.call_from_thread(app.show_error, error, "judgment not saved")
            else:
                saved += 1
                self.post_message(self.JudgmentSaved(job, record))
        if saved and not self.is_attached:  # closed while saving: other screens show the new judgments
            app.call_from_thread(app.load_benchmark)

    @staticmethod
    def _append(job: SaveJob) -> Rating | Preference:
        if job.pair is not None:
            pair = job.pair
            return record_preference(job.bench, pair.prompt_id, pair.left.side(), pair.right.side(),
                                     job.choice or "tie", rater=job.rater, comment=job.comment)
        clip = job.clip
        assert clip is not None
        return record_rating(job.bench, clip.view.prompt_id, clip.model, rater=job.rater,
                             repeat=clip.repeat, run=clip.view.run_id, score=job.score,
                             passed=job.passed, comment=job.comment)

    def _forget_submitted(self, job: SaveJob) -> None:
        if job.clip is not None and self._submitted.get((job.rater, job.clip.key)) is job:
            del self._submitted[(job.rater, job.clip.key)]

    @on(JudgmentSaved)
    def _judgment_saved(self, message: JudgmentSaved) -> None:
        self._forget_submitted(message.job)
        self._saved_since_visit += 1
        record = message.record
        if self.source is not None:
            judgments = self.source.judgments
            (judgments.ratings if isinstance(record, Rating) else judgments.preferences).append(record)
        self._set_status(self._saved_text(message.job))
        if message.job.prompt_id == self.prompt_id:
            self._load_current()  # the columns show the new rating
        else:
            self._update_bar()

    @staticmethod
    def _saved_text(job: SaveJob) -> Content:
        text = Content.styled("saved ", "bold $success")
        if job.pair is not None:
            pair = job.pair
            said = f" “{job.comment}”" if job.comment else ""
            return text + Content(f"{pair.prompt_id}: you chose {CHOICE_WORDS.get(job.choice or '', job.choice)}"
                                  f"{said}  ·  A was {pair.left.model}, B was {pair.right.model}")
        clip = job.clip
        assert clip is not None
        where = f"{clip.model} · {clip.view.prompt_id} (repeat {clip.repeat + 1}): "
        words = verdict_words(job.score, job.passed)
        if job.on_earlier:
            said = f"comment “{job.comment}” on your {words}" if job.comment else f"your {words}, no comment"
            return text + Content(where + said + " → ratings.jsonl")
        parts = [words] + ([f"“{job.comment}”"] if job.comment else [])
        return text + Content(where + " ".join(parts) + " → ratings.jsonl")

    @on(JudgmentFailed)
    def _judgment_failed(self, message: JudgmentFailed) -> None:
        job = message.job
        self._forget_submitted(job)
        counts = self._pair_counts if job.pair is not None else self._rating_counts
        if counts.get(job.key, 0) > 0:
            counts[job.key] -= 1
        if job.pair is not None and job.pair == self.pair:
            self.revealed, self._last_choice = None, None
        self._set_status(Content.styled(f"not saved: {message.error}", "bold $error"), seconds=None)
        self.app.show_error(message.error, "judgment not saved")
        self._show()

    def action_comment(self) -> None:
        """Write a comment. With a score or verdict staged it waits for them; on a clip (or a
        blind pair) already judged, with nothing staged, it is added to that judgment at once;
        otherwise it stays staged, in view, until the next score or verdict saves it along."""
        if self.blind:
            self._comment_on_pair()
            return
        clip = self.selected_clip
        if clip is None or not clip.can_be_judged:
            return
        staged = self.staged_score is not None or self.staged_verdict is not None
        earlier = None if staged else self.earlier_rating(clip)
        if earlier is not None:
            title = f"Comment on your {earlier.words()} of {clip.model} (enter saves it)"
            value = self.staged_comment or earlier.comment
        elif staged:
            title = f"Comment, saved with your {verdict_words(self.staged_score, self.staged_verdict)}"
            value = self.staged_comment
        else:
            title = "Comment, saved with your next score (1-5) or verdict (y/f) of this clip"
            value = self.staged_comment

        def keep(text: str | None) -> None:
            if text is None:
                return
            self.staged_comment = " ".join(text.split())
            now = self.selected_clip
            if earlier is not None and now is not None and now.key == clip.key \
                    and self.staged_score is None and self.staged_verdict is None:
                if self.staged_comment == earlier.comment:
                    self.staged_comment = ""
                    self._set_status("comment unchanged", seconds=3)
                    self._update_staged()
                    return
                self.action_save_rating()
                return
            self._update_staged()

        self.app.push_screen(TextAsk(title, value, "what stands out?"), keep)

    def _comment_on_pair(self) -> None:
        pair = self.pair
        if pair is None:
            return
        choice = self._last_choice if self.revealed is not None else None
        title = (f"Comment on your choice ({CHOICE_WORDS.get(choice, choice)}; enter saves it)" if choice
                 else "Comment, saved with your choice (a, b or e)")

        def keep(text: str | None) -> None:
            if text is None:
                return
            self.staged_comment = " ".join(text.split())
            if choice is not None and self.pair == pair and self.revealed is not None and self.staged_comment:
                self.action_prefer(choice)  # the same choice again, now with the comment
                return
            self._update_staged()

        self.app.push_screen(TextAsk(title, self.staged_comment, "what stands out?"), keep)

    def action_change_rater(self) -> None:
        def keep(value: str | None) -> None:
            if value is None:
                return
            try:
                name = default_rater(value) if value.strip() else None
            except (WorkbenchError, OSError) as error:
                self.app.show_error(error)
                return
            if name is None:
                self.notify("The name is empty; kept the previous one.", severity="warning")
                return
            if name != self.rater:
                self.rater = name
                self._set_status(f"judging as {name}", seconds=3)
                self._update_bar()
                self._refresh()  # the queues and "your rating" are per rater

        self.app.push_screen(TextAsk("Your name (recorded with every judgment)", self.rater or "",
                                     "e.g. alice"), keep)

    # ------------------------------------------------------------ judging queue and blind mode
    def action_next_to_judge(self) -> None:
        source = self.source
        if source is None:
            return
        if self.blind:
            task = next_to_judge(source.pairs, self._pair_counts, self.pair.key if self.pair else None)
            if task is None:
                self._set_status(f"you have compared every pair ({len(source.pairs)}); "
                                 "thank you", seconds=6)
                return
            self.pair, self.revealed = task, None
            self._set_status("")  # the last reveal is about another pair
            self._clear_staged()
            if task.prompt_id != self.prompt_id:
                self.prompt_id = task.prompt_id
                self.app.current_prompt_id = task.prompt_id
                self._load_current()
            self._show()
            return
        current = self.selected_clip.key if self.selected_clip is not None else None
        task = next_to_judge(source.ratings, self._rating_counts, current)
        if task is None:
            self._set_status(f"you have rated every clip ({len(source.ratings)}); thank you", seconds=6)
            return
        self._clear_staged()
        clip = task.clip
        self.repeat = clip.repeat
        self.prompt_id = clip.prompt_id
        self.app.current_prompt_id = clip.prompt_id
        columns = [model for model, _views in source.board.clips_for(clip.prompt_id)]
        self.model_index = columns.index(clip.model) if clip.model in columns else 0
        self._load_current()

    def action_toggle_blind(self) -> None:
        if self.source is None:
            return
        if self.blind:
            self.blind = False
            self.pair, self.revealed = None, None
            self._clear_staged()
            self._set_status("blind A/B off", seconds=3)
            self._show()
            return
        self.blind = True
        self._clear_staged()
        self._pick_pair(keep=False)
        if self.pair is None and self.source.pairs:
            self._set_status("no two models' clips of this prompt to compare; j finds a pair", seconds=6)
        self._show()

    def _pick_pair(self, keep: bool) -> None:
        """The least compared pair of the current prompt (the same one after a reload if ``keep``)."""
        source = self.source
        if source is None:
            self.pair = None
            return
        if keep and self.pair is not None:
            same = [t for t in source.pairs if t.key == self.pair.key]
            if same:
                self.pair = same[0]
                return
        pair = pair_for_prompt(source.pairs, self._pair_counts, self.prompt_id)
        if pair != self.pair and self.revealed is not None:
            self._set_status("")  # the last reveal is about another pair
        self.pair, self.revealed = pair, None

    def _show_blind(self) -> None:
        pair = self.pair
        if pair is None or pair.prompt_id != self.prompt_id:
            if self.source is not None and not self.source.pairs:
                text = ("Blind A/B needs clips of the same prompt from two models.\n"
                        "Press v to leave blind mode.")
            else:
                text = (f"No two models' clips of {self.prompt_id} to compare.\n"
                        "j: the next pair to compare  ·  v: leave blind mode")
            show_text(self.query_one("#detail-empty", Static), text)
            self.query_one("#stage", ContentSwitcher).current = "detail-empty"
            return
        self.query_one("#stage", ContentSwitcher).current = "blind"
        for side_id, clip in (("#side-left", pair.left), ("#side-right", pair.right)):
            side = self.query_one(side_id, BlindSide)
            reveal = None
            if self.revealed is not None:
                reveal = self._reveal_text(clip)
            side.show(clip, self.thumbnails_of(clip.video, clip.thumbnails), self.thumb_note(clip.video),
                      reveal)
        videos = [c.video for c in (pair.left, pair.right) if not c.thumbnails]
        self._want_thumbnails(videos)

    def _reveal_text(self, clip: Clip) -> str:
        detail = self.detail
        model = detail.model(clip.model) if detail is not None else None
        found = model.clip(clip.repeat) if model is not None else None
        if found is None:
            return ""
        passes = found.passes_all
        if passes is None:
            return "no thresholds apply"
        return "passes every threshold" if passes else "fails " + "; ".join(found.failures)

"""The Thresholds screen: live moves checked against the evaluator, the live gate, saving through the
diff, conflicts, revert, people's agreement, small terminals."""

from __future__ import annotations

import difflib
import subprocess
import threading
from dataclasses import dataclass, field, fields, replace

import pytest

from workbench.benchmark.config import Bounds, Threshold
from workbench.benchmark.folder import Benchmark
from workbench.decide.gate_inputs import evaluate_inputs, gather_gate_inputs
from workbench.decide.thresholds import ThresholdEvaluator, passed_column
from workbench.gate_preview import GatePreview
from workbench.judgments.alignment import scorer_alignment
from workbench.judgments.ratings import record_rating
from workbench.tables.score_table import load_table
from workbench.tui.app import WorkbenchApp
from workbench.tui.screens.threshold_diff import ThresholdDiffScreen
from workbench.tui.screens.thresholds import FlipList, ThresholdsScreen
from workbench.tui.widgets.screen_tabs import ScreenTabs

SIZE = (120, 40)


async def open_screen(app: WorkbenchApp, pilot) -> ThresholdsScreen:
    for _ in range(20):  # the benchmark loads first, then the screen reads the scores
        await app.workers.wait_for_complete()
        await pilot.pause()
        if isinstance(app.screen, ThresholdsScreen) and app.screen.session is not None:
            break
    screen = app.screen
    assert isinstance(screen, ThresholdsScreen)
    assert screen.session is not None
    return screen


async def select(pilot, screen: ThresholdsScreen, scorer: str) -> None:
    order = list(screen.session.scorers)
    for _ in range(len(order)):
        if screen.selected == scorer:
            return
        await pilot.press("down" if order.index(scorer) > order.index(screen.selected) else "up")
    assert screen.selected == scorer


async def settle(app: WorkbenchApp, pilot, screen: ThresholdsScreen) -> None:
    """Wait until the gate's verdict is for the thresholds on screen."""
    for _ in range(50):
        await app.workers.wait_for_complete()
        await pilot.pause()
        if not screen.gate_pending():
            return
    raise AssertionError("the gate never caught up with the thresholds")


async def save_through_the_diff(app: WorkbenchApp, pilot, answer: str = "y") -> str:
    """ctrl+s, then answer the diff; returns the diff as it was shown."""
    await pilot.press("ctrl+s")
    await app.workers.wait_for_complete()
    await pilot.pause()
    modal = app.screen
    assert isinstance(modal, ThresholdDiffScreen)
    shown = f"{text_of(modal, '#diff-title')}\n{text_of(modal, '#diff-text')}"
    await pilot.press(answer)
    await app.workers.wait_for_complete()
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()
    return shown


@dataclass(frozen=True)
class SlowGate(GatePreview):
    """The real gate, held back until the test releases it (as a long bootstrap would be)."""

    state: dict = field(default_factory=lambda: {"calls": 0, "now": 0, "most": 0,
                                                 "release": threading.Event()})

    def release(self) -> None:
        self.state["release"].set()

    @property
    def running(self) -> int:
        return self.state["now"]

    @property
    def calls(self) -> int:
        return self.state["calls"]

    @property
    def most_at_once(self) -> int:
        return self.state["most"]

    def evaluate(self, thresholds):
        self.state["calls"] += 1
        self.state["now"] += 1
        self.state["most"] = max(self.state["most"], self.state["now"])
        try:
            self.state["release"].wait(timeout=20)
            return super().evaluate(thresholds)
        finally:
            self.state["now"] -= 1


def text_of(screen, selector: str) -> str:
    return str(screen.query_one(selector).render())


def cell_text(table, row, column) -> str:
    return str(table.get_cell(row, column))


def shown_flips(screen: ThresholdsScreen) -> dict[tuple[str, str], str]:
    flips = screen.query_one("#thr-flips", FlipList)
    if not flips.display:
        return {}
    return {(row.model, row.prompt): row.now for row in flips.rows}


def reference(root) -> ThresholdEvaluator:
    bench = Benchmark.load(root)
    return ThresholdEvaluator(load_table(bench), bench.prompt_tags(), bench.config.thresholds,
                              models=["old", "new"])


def changed_lines(before: str, after: str) -> list[str]:
    return [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


async def test_moving_a_bound_updates_rates_and_flips_as_the_evaluator_says(scored_bench):
    app = WorkbenchApp(scored_bench, start="thresholds")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(app, pilot)
        assert isinstance(screen.children[1], ScreenTabs) and screen.query_one(ScreenTabs).current == "thresholds"
        assert list(screen.session.scorers) == ["decodes", "sharpness", "temporal_flicker", "frozen_frames"]
        await select(pilot, screen, "sharpness")
        expected = reference(scored_bench)
        rates = screen.query_one("#thr-rates")
        flipped_before: set = set()
        for press in range(12):
            await pilot.press("right")
            bound = screen.session.threshold("sharpness").min
            change = expected.move("sharpness", min=bound)
            flipped_before ^= set(change.flipped)
            flips = shown_flips(screen)
            assert set(flips) == flipped_before
            assert all(flips[k] == "✗ fails" for k in change.now_failing)
            overall = text_of(screen, "#thr-overall")
            for model in ("old", "new"):
                passed = change.pass_rates.passed[model]
                assert f"{model} {passed}/3" in overall
                assert cell_text(rates, "\x00all", model).startswith(f"{passed}/3")
                for tag in ("hands", "smoke", "text"):
                    tag_passed = change.pass_rates.tag_passed[model][tag]
                    size = change.pass_rates.tag_sizes[tag]
                    assert cell_text(rates, tag, model).startswith(f"{tag_passed}/{size}")
        assert flipped_before, "twelve steps up should fail some prompt"
        assert "now fail" in text_of(screen, "#thr-flips-title")
        scorers = screen.query_one("#thr-scorers")
        assert cell_text(scorers, "sharpness", "scorer").startswith("●")
        assert cell_text(scorers, "sharpness", "bounds") == f">= {bound:g}"
        # shift moves ten steps; b switches to max, x clears it again
        await pilot.press("shift+left")
        assert screen.session.threshold("sharpness").min == round(bound - 10 * screen.session.facts["sharpness"].step, 6)
        await pilot.press("b", "left")
        assert screen.session.threshold("sharpness").max is not None
        await pilot.press("x")
        assert screen.session.threshold("sharpness").max is None


async def test_the_gate_verdict_follows_the_thresholds_in_a_worker(scored_bench):
    bench = Benchmark.load(scored_bench)
    inputs = gather_gate_inputs(bench)
    app = WorkbenchApp(scored_bench, start="thresholds")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(app, pilot)
        assert not screen.gate_pending() and screen.gate_result == evaluate_inputs(inputs)
        assert "Gate new vs old: SHIP" in text_of(screen, "#thr-gate")
        # a sharpness min between the least sharp 'new' clip and the least sharp 'old' one
        values = screen.session.values("sharpness")
        lowest = {m: float(min(values[i])) for i, m in enumerate(screen.session.models)}
        assert lowest["new"] < lowest["old"]
        await select(pilot, screen, "sharpness")
        await pilot.press("e")
        await pilot.pause()
        await pilot.press("ctrl+a", "backspace", *f"{(lowest['new'] + lowest['old']) / 2:.4f}", "enter")
        await settle(app, pilot, screen)
        expected = evaluate_inputs(replace(inputs, thresholds=screen.session.thresholds))
        assert screen.gate_result == expected and expected.verdict == "hold"
        shown = text_of(screen, "#thr-gate")
        assert "HOLD" in shown and "saved thresholds: SHIP" in shown and "pass rate falls" in shown
        # quick presses while the gate is slow (as at 2,000 prompts): keys never wait for it, one
        # evaluation runs at a time, and the last thresholds are the ones evaluated
        slow = SlowGate(**{f.name: getattr(screen.gate, f.name) for f in fields(screen.gate)})
        screen.gate = slow
        for _ in range(6):
            await pilot.press("left")
            await pilot.pause()
            # the key was handled, and the pass rates redrawn, while the gate is still held back
            assert "updating" in text_of(screen, "#thr-gate")
        assert slow.calls >= 1 and slow.running == 1
        slow.release()
        await settle(app, pilot, screen)
        assert 2 <= slow.calls < 6 and slow.most_at_once == 1  # fewer evaluations than presses
        assert screen.gate_result == evaluate_inputs(replace(inputs, thresholds=screen.session.thresholds))
        assert "updating" not in text_of(screen, "#thr-gate")


async def test_move_save_and_see_a_one_line_diff(scored_bench):
    """The issue's flow: move a threshold, save (the diff shows first), one line of benchmark.toml changes."""
    config = scored_bench / "benchmark.toml"
    original = scored_bench.parent / "benchmark.before.toml"
    original.write_text(config.read_text())
    before = config.read_text()
    app = WorkbenchApp(scored_bench, start="thresholds")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(app, pilot)
        await select(pilot, screen, "temporal_flicker")
        await pilot.press("shift+right", "shift+right", "right")
        new_min = screen.session.threshold("temporal_flicker").min
        assert new_min != 0.9 and screen.session.is_edited("temporal_flicker")
        # the diff first; going back writes nothing and keeps the edit
        shown = await save_through_the_diff(app, pilot, answer="n")
        assert config.read_text() == before and screen.session.is_edited("temporal_flicker")
        assert "Save to benchmark.toml?" in shown
        number = before.splitlines().index("min = 0.9  # keep this comment") + 1
        assert f"{number} -min = 0.9  # keep this comment" in shown
        assert f"{number} +min = {new_min}  # keep this comment" in shown
        version = app.bench_version
        await save_through_the_diff(app, pilot, answer="y")
        after = config.read_text()
        assert changed_lines(before, after) == ["-min = 0.9  # keep this comment",
                                                f"+min = {new_min}  # keep this comment"]
        numstat = subprocess.run(["git", "diff", "--no-index", "--numstat", str(original), str(config)],
                                 capture_output=True, text=True).stdout
        assert numstat.split()[:2] == ["1", "1"]
        assert app.bench_version > version
        assert app.bench.config.thresholds["temporal_flicker"] == Threshold(min=new_min)
        assert screen.session.edits() == {} and not screen.session.is_edited("temporal_flicker")
        status = text_of(screen, "#thr-status")
        assert "wrote benchmark.toml" in status and f"{number}: +min = {new_min}" in status
        assert screen.last_saved is not None and screen.last_saved.changes == (
            f"temporal_flicker: min 0.9 -> {new_min:g}",)
        await pilot.press("ctrl+s")  # nothing left to save: no diff to show
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, ThresholdsScreen) and config.read_text() == after
        # e: type an exact value (a bad one is explained, not applied)
        await pilot.press("e")
        await pilot.pause()
        await pilot.press(*"abc", "enter")  # the current value is selected: typing replaces it
        assert "not a number" in text_of(app.screen, "#value-error")
        await pilot.press("backspace", "backspace", "backspace", *"0.97", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ThresholdsScreen)
        assert screen.session.threshold("temporal_flicker") == Threshold(min=0.97)
        # enter on the scorer opens the same box
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen.query_one("#value-input").value == "0.97"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ThresholdsScreen)


async def test_a_conflicting_edit_on_disk_is_refused_and_the_edits_are_kept(scored_bench):
    config = scored_bench / "benchmark.toml"
    app = WorkbenchApp(scored_bench, start="thresholds")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(app, pilot)
        await select(pilot, screen, "sharpness")
        await pilot.press("right", "right", "right")
        edits = screen.session.edits()
        assert set(edits) == {"sharpness"}
        theirs = config.read_text().replace("margin = 0.01", "margin = 0.02  # changed by a colleague")
        config.write_text(theirs)
        await save_through_the_diff(app, pilot)
        assert config.read_text() == theirs
        assert screen.session.edits() == edits
        status = text_of(screen, "#thr-status")
        assert "not saved" in status and "changed on disk" in status
        # reloading keeps the edits; saving then applies them on top of the colleague's change
        await pilot.press("ctrl+r")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await settle(app, pilot, screen)
        assert screen.session.edits() == edits
        await save_through_the_diff(app, pilot)
        saved = Benchmark.load(scored_bench)
        assert saved.config.thresholds["sharpness"] == edits["sharpness"]
        assert "margin = 0.02  # changed by a colleague" in config.read_text()
        # the refusal is history now: the left column says what the save did, not what failed before
        status = text_of(screen, "#thr-status")
        assert "wrote benchmark.toml" in status
        assert "not saved" not in status and "changed on disk" not in status and "kept 1" not in status


async def test_revert_and_tag_overrides(scored_bench):
    config = scored_bench / "benchmark.toml"
    before = config.read_text()
    app = WorkbenchApp(scored_bench, start="thresholds")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(app, pilot)
        await select(pilot, screen, "temporal_flicker")
        saved_rates = screen.session.saved_rates
        await pilot.press("shift+right", "shift+right")
        await select(pilot, screen, "sharpness")
        await pilot.press("right", "right")
        assert set(screen.session.edits()) == {"temporal_flicker", "sharpness"}
        await pilot.press("u")  # this scorer only
        assert set(screen.session.edits()) == {"temporal_flicker"}
        await pilot.press("escape")  # escape is not a revert
        assert set(screen.session.edits()) == {"temporal_flicker"}
        await pilot.press("right", "U")  # every edit
        assert screen.session.edits() == {} and screen.session.pass_rates() == saved_rates
        assert shown_flips(screen) == {}
        assert not cell_text(screen.query_one("#thr-scorers"), "sharpness", "scorer").startswith("●")

        # a per-tag override: pick the tag "hands", raise its min, save
        await select(pilot, screen, "temporal_flicker")
        await pilot.press("o")
        await pilot.pause()
        picker = app.screen
        assert type(picker).__name__ == "ChoiceScreen"
        await pilot.press("down", "enter")  # (all prompts), hands, smoke, text
        await pilot.pause()
        assert screen.tag == "hands"
        await pilot.press("right")
        threshold = screen.session.threshold("temporal_flicker")
        assert threshold.min == 0.9 and set(threshold.tags) == {"hands"}
        assert "tag 'hands'" in text_of(screen, "#thr-editing")
        assert cell_text(screen.query_one("#thr-scorers"), "temporal_flicker", "bounds") == ">= 0.9 +1"
        expected = reference(scored_bench).set_threshold("temporal_flicker", threshold)
        assert screen.session.pass_rates() == expected.pass_rates
        await save_through_the_diff(app, pilot)
        saved = Benchmark.load(scored_bench).config.thresholds["temporal_flicker"]
        assert saved == Threshold(min=0.9, tags={"hands": Bounds(min=threshold.tags["hands"].min)})
        assert all(line.startswith("+") for line in changed_lines(before, config.read_text()))


async def test_people_suggested_thresholds_and_which_scorers_agree(scored_bench):
    bench = Benchmark.load(scored_bench)
    for prompt, (old_score, new_score) in zip(("hands-1", "smoke-1", "text-1"), ((2, 5), (1, 4), (3, 4))):
        record_rating(bench, prompt, "old", rater="ann", score=old_score, passed=False)
        record_rating(bench, prompt, "new", rater="ann", score=new_score, passed=True)
    app = WorkbenchApp(scored_bench, start="thresholds")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(app, pilot)
        table = load_table(Benchmark.load(scored_bench), include_human=True)
        is_human = table.get_column("scorer").str.starts_with("human.")
        auto, human = table.filter(~is_human), table.filter(is_human)
        directions = {"decodes": "higher", "sharpness": "higher", "temporal_flicker": "higher",
                      "frozen_frames": "lower"}
        expected = {r.scorer: r for r in scorer_alignment(auto, human, bench.config.thresholds, directions)}
        align = screen.query_one("#thr-align")
        assert [row.key.value for row in align.ordered_rows] == list(screen.session.scorers)
        for scorer, row in expected.items():
            assert cell_text(align, scorer, "n") == str(row.n_rated) == "6"
            assert cell_text(align, scorer, "spearman") == ("-" if row.spearman is None else f"{row.spearman:+.2f}")
            assert cell_text(align, scorer, "kendall") == ("-" if row.kendall is None else f"{row.kendall:+.2f}")
        assert "6 rated clips, 6 with pass/fail" in text_of(screen, "#thr-align-title")
        flicker = expected["temporal_flicker"]
        assert cell_text(align, "temporal_flicker", "agree") == f"{flicker.pass_agreement:.0%} of 6"

        await select(pilot, screen, "temporal_flicker")
        suggestion = screen.session.facts["temporal_flicker"].suggestion
        assert suggestion is not None and suggestion.bound == "min" and suggestion.informative
        people = text_of(screen, "#thr-people")
        assert f"suggested {suggestion.describe()}" in people and f"spearman {flicker.spearman:+.2f}" in people
        assert cell_text(align, "temporal_flicker", "suggested") == \
            f">= {suggestion.threshold:g} ({suggestion.agreement:.0%})"
        await pilot.press("a")
        assert screen.session.threshold("temporal_flicker").min == suggestion.threshold
        assert set(shown_flips(screen)) == {("old", p) for p in ("hands-1", "smoke-1", "text-1")}
        # pass agreement follows the edited threshold, as workbench align would compute it
        thresholds = screen.session.thresholds
        judged = auto.drop("passed").with_columns(
            passed_column(auto, bench.prompt_tags(), thresholds).alias("passed"))
        edited = {r.scorer: r for r in scorer_alignment(judged, human, thresholds, directions)}
        assert edited["temporal_flicker"].pass_agreement == 1.0
        assert cell_text(align, "temporal_flicker", "agree") == "100% of 6"
        assert "pass agreement 100% of 6" in text_of(screen, "#thr-people")
        # l scrolls the details to the table
        right = screen.query_one("#thr-right")
        await pilot.press("l")
        await pilot.pause()
        assert right.scroll_y > 0


async def test_small_terminal_and_no_scores(scored_bench, fresh_bench):
    app = WorkbenchApp(scored_bench, start="thresholds")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_screen(app, pilot)
        assert screen.has_class("-narrow")
        for key in ("down", "right", "shift+right", "b", "left", "x", "a", "pagedown", "pageup", "l", "escape",
                    "down", "down", "right", "right"):
            await pilot.press(key)
        await pilot.press("o")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ThresholdsScreen)
        assert screen.session.edits()
        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, ThresholdDiffScreen)
        await pilot.press("escape")
        await pilot.pause()
        await settle(app, pilot, screen)
        assert isinstance(app.screen, ThresholdsScreen) and screen.session.edits()
    app = WorkbenchApp(fresh_bench, start="thresholds")
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert "No scores yet" in text_of(screen, "#thr-empty")
        await pilot.press("right", "ctrl+s", "escape", "o", "a", "l", "U")
        assert not (fresh_bench / "runs").exists()


def test_keys_and_palette():
    keys = {key for binding in ThresholdsScreen.BINDINGS for key in binding.key.split(",")}
    assert not any(key.isdigit() for key in keys)
    assert not keys & {"q", "question_mark", "ctrl+r", "ctrl+p"}
    assert all(binding.description for binding in ThresholdsScreen.BINDINGS)
    names = {name for name, _help, _callback in ThresholdsScreen().palette_commands()}
    for fragment in ("raise", "lower", "min/max", "type a value", "clear", "suggested", "tag", "agree",
                     "save", "revert this", "revert all"):
        assert any(fragment in name for name in names), fragment


async def test_an_edit_clears_what_an_earlier_refused_edit_said(scored_bench):
    app = WorkbenchApp(scored_bench, start="thresholds")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(app, pilot)
        await select(pilot, screen, "sharpness")
        await pilot.press("a")  # no human labels: nothing to apply
        assert "no suggested bound" in text_of(screen, "#thr-status")
        await pilot.press("right")
        assert "no suggested bound" not in text_of(screen, "#thr-status")
        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("n")  # back to editing
        await pilot.pause()
        assert "not saved: still editing" in text_of(screen, "#thr-status")
        await pilot.press("U")  # the edits it was about are gone
        status = text_of(screen, "#thr-status")
        assert "still editing" not in status and "reverted 1" in status


LONG_ID = "a-long-prompt-id-about-a-hand-waving-slowly-in-the-evening-1"


@pytest.fixture
def long_id_bench(tmp_path):
    """The scored benchmark with a prompt id near the longest allowed (64 characters)."""
    from tests.conftest import MINIMAL_PROMPTS, build_scored_benchmark

    return build_scored_benchmark(tmp_path / "long", prompts=MINIMAL_PROMPTS.replace("hands-1", LONG_ID))


async def test_long_prompt_ids_are_cut_so_the_failed_bound_stays_in_view(long_id_bench):
    root = long_id_bench
    for size in (SIZE, (80, 24)):
        app = WorkbenchApp(root, start="thresholds")
        async with app.run_test(size=size) as pilot:
            screen = await open_screen(app, pilot)
            await select(pilot, screen, "temporal_flicker")
            await pilot.press("e")
            await pilot.pause()
            await pilot.press(*"0.9999", "enter")  # the current value is selected: typing replaces it
            await pilot.pause()
            flips = screen.query_one("#thr-flips", FlipList)
            assert {(row.model, row.prompt) for row in flips.rows} == {
                (m, p) for m in ("old", "new") for p in (LONG_ID, "smoke-1", "text-1")}
            width = flips.content_size.width
            right = screen.query_one("#thr-right")
            assert 0 < width and flips.region.right <= right.region.right  # nothing drawn past the edge
            shown = str(flips.render()).splitlines()
            assert all(len(line) <= width for line in shown)
            assert not any(LONG_ID in line for line in shown)  # cut, with …
            for row in flips.rows:
                assert row.why.startswith("temporal_flicker ") and row.why.endswith("< 0.9999")
                assert any(row.why in line for line in shown), (row.why, shown)  # scorer, value, bound
            cut = [line for line in shown if LONG_ID[:10] in line]
            assert len(cut) == 2 and all("…" in line for line in cut)
            if size == SIZE:  # wide: each row on one line, the bound beside the cut id
                assert all("temporal_flicker" in line for line in cut)

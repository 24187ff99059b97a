"""`workbench open` and a bare `workbench` inside a benchmark folder start the TUI."""

from __future__ import annotations

from pathlib import Path

import pytest

import workbench.tui.app as tui_app
from workbench.cli.main import main


@pytest.fixture
def opened(monkeypatch):
    calls: list[tuple[Path, str]] = []
    monkeypatch.setattr(tui_app, "run_app", lambda root, start="results": calls.append((Path(root), start)))
    return calls


def test_bare_workbench_inside_a_benchmark_opens_it(fresh_bench, monkeypatch, opened):
    monkeypatch.chdir(fresh_bench)
    assert main([]) == 0
    assert opened == [(Path("."), "results")]


def test_bare_workbench_elsewhere_prints_help(tmp_path, monkeypatch, opened, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as stopped:
        main([])
    assert stopped.value.code == 0 and opened == []
    assert "usage: workbench" in capsys.readouterr().out


def test_open_names_the_screen_to_start_on(fresh_bench, opened):
    assert main(["open", str(fresh_bench), "--screen", "gate"]) == 0
    assert opened == [(fresh_bench, "gate")]


def test_open_a_folder_without_a_benchmark_says_so(tmp_path, opened, capsys):
    assert main(["open", str(tmp_path)]) == 2
    assert f"{tmp_path}: no benchmark.toml here" in capsys.readouterr().err
    assert opened == []


def test_every_command_is_found_where_it_is_registered():
    """The CLI imports only the module of the command given; this keeps that map true."""
    from workbench.cli.main import COMMAND_MODULES, MODULE_OF_COMMAND, build_parser

    full = build_parser()
    commands = next(a for a in full._actions if a.dest == "command").choices
    assert set(commands) == set(MODULE_OF_COMMAND)
    assert set(MODULE_OF_COMMAND.values()) == set(COMMAND_MODULES)
    for command, module in MODULE_OF_COMMAND.items():
        only = build_parser((module,))
        assert command in next(a for a in only._actions if a.dest == "command").choices

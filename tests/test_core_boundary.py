"""The core never imports textual: the TUI is one front end among others."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import workbench
from conftest import REPO


def core_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(workbench.__path__, "workbench."):
        if info.name.startswith("workbench.tui") or info.name == "workbench.__main__":
            continue
        names.append(info.name)
    return names


def test_importing_every_core_module_does_not_import_textual():
    modules = core_modules()
    assert "workbench.benchmark.folder" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print('TEXTUAL' if bad else 'CLEAN', bad[:3])\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("CLEAN"), result.stdout

"""``python -m tests.engine_support.driver ARGS``: the workbench CLI with the fake providers known."""

from __future__ import annotations

import sys

from tests.engine_support.bench_folder import register_fakes
from workbench.cli.main import main

if __name__ == "__main__":
    register_fakes()
    sys.exit(main(sys.argv[1:]))

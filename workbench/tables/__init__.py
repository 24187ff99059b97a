"""Score tables: every run's scores and the human judgments as one polars frame, and its output formats."""

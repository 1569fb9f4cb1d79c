"""Dagster metadata helpers shared by the stages' definitions."""

from __future__ import annotations


def md_table(header: tuple[str, ...], rows: list[tuple]) -> str:
    """A markdown table (shown by the Dagster UI); cell text has its pipes escaped and newlines flattened."""
    def cell(value) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows])

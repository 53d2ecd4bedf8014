"""Charts as PNG files (matplotlib, no display): a student's progress, a group's standings.

Every chart is FIGSIZE at DPI, so its pixel size is fixed (800 x 600) and adapters can rely on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

from bot.types import ExamProgress, LeaderboardRow
from knowledge.catalog import EXAMS

FIGSIZE = (8.0, 6.0)
DPI = 100


def _pyplot():  # type: ignore[no-untyped-def]
    from knowledge.heavy import HEAVY_IMPORTS

    with HEAVY_IMPORTS:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

    return plt


def progress_chart(
    exams: Sequence[ExamProgress], trend: Sequence[tuple[date, float | None]], path: Path
) -> Path:
    """Accuracy per exam domain (bars) and weekly accuracy over the last weeks (line)."""
    plt = _pyplot()
    fig, (bars, line) = plt.subplots(2, 1, figsize=FIGSIZE, dpi=DPI)
    labels, values, notes = [], [], []
    for progress in exams:
        keys = {d.name: d.key for d in EXAMS[progress.exam].domains}
        for score in progress.domains:
            labels.append(f"{progress.exam.split('-')[0]} {keys[score.domain]}")
            values.append(score.correct / score.total if score.total else 0.0)
            notes.append(f"{score.correct}/{score.total}" if score.total else "no answers yet")
    bars.barh(labels or ["no answers yet"], values or [0.0], color="#3b7dd8")
    for row, note in enumerate(notes):
        bars.text(values[row] + 0.01, row, note, va="center", fontsize=8, color="#444444")
    bars.set_xlim(0, 1.15)
    bars.set_title("Accuracy per exam domain")
    bars.invert_yaxis()
    positions = list(range(len(trend)))
    accuracy = [value if value is not None else float("nan") for _, value in trend]
    line.plot(positions, accuracy, marker="o", color="#d8743b")
    line.set_xticks(positions, [start.strftime("%d %b") for start, _ in trend], fontsize=8)
    line.set_ylim(0, 1.05)
    line.set_title("Weekly accuracy (weeks starting Monday; gaps: no answers)")
    fig.tight_layout()
    return _save(fig, plt, path)


def standings_chart(rows: Sequence[LeaderboardRow], title: str, path: Path) -> Path:
    """Correct answers per member, best first."""
    plt = _pyplot()
    fig, axis = plt.subplots(figsize=FIGSIZE, dpi=DPI)
    names = [row.name for row in rows] or ["no answers yet"]
    axis.barh(names, [row.correct for row in rows] or [0], color="#3b7dd8")
    axis.invert_yaxis()
    axis.set_title(title)
    axis.set_xlabel("correct answers")
    fig.tight_layout()
    return _save(fig, plt, path)


def _save(fig, plt, path: Path) -> Path:  # type: ignore[no-untyped-def]
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, format="png")
    plt.close(fig)
    return path

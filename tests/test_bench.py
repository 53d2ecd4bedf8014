"""`studybot bench core|challenge|quizzes` at tiny sizes: every field a reader looks for is
there, and `lost` / `counted_twice` come from the database, so a core that acknowledges an
answer without storing it, or counts one twice, shows up in the figures. No timing asserts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from bot.benchmarks import Sizes, run_bench
from bot.core import Core
from bot.storage.models import ReviewCard, User
from bot.types import AnswerChoice, Event, Reply, TextReply
from knowledge.bank import Bank
from tests.conftest import POSTGRES_URL

TINY = Sizes(
    answers=7,
    members=12,
    double_taps=3,
    sequential=4,
    students=3,
    questions=3,
    chart_students=2,
    chart_period=0.05,
    chart_lead=0.1,
)
LATENCY = {"p50", "p95", "p99", "max"}
EXPECTED = {
    "core": {"answers", "handle_ms", "answers_per_s", "errors", "lost", "counted_twice"},
    "challenge": {
        "members",
        "answers_per_s",
        "handle_ms",
        "reply_ms",
        "one_at_a_time_ms",
        "errors",
        "lost",
        "counted_twice",
        "loop_stall_ms",
    },
    "quizzes": {
        "answers",
        "answers_per_s",
        "handle_ms",
        "errors",
        "lost",
        "counted_twice",
        "loop_stall_ms",
        "slow_chart",
    },
}


def engines() -> list[str]:
    return ["sqlite", "postgresql"] if POSTGRES_URL else ["sqlite"]


@pytest.mark.parametrize("scenario", ["core", "challenge", "quizzes"])
def test_every_scenario_reports_its_figures_with_nothing_lost(scenario: str, bank: Bank) -> None:
    figures = run_bench(scenario, bank, runs=2, sizes=TINY, postgres_url=POSTGRES_URL)
    json.dumps(figures)  # printable as JSON as it stands
    for engine in engines():
        result = figures[engine]
        assert EXPECTED[scenario] <= set(result), sorted(result)
        assert set(result["handle_ms"]) == LATENCY
        assert (result["lost"], result["counted_twice"], result["errors"]) == (0, 0, 0)
        assert result["answers_per_s"] > 0
    if scenario == "challenge":
        assert figures["sqlite"]["events"] == TINY.members + TINY.double_taps
    if scenario == "quizzes":
        assert figures["sqlite"]["answers"] == TINY.students * TINY.questions
        assert figures["sqlite"]["unfinished_quizzes"] == 0
        chart = figures["sqlite"]["slow_chart"]
        assert chart["chart_drawn"] is True
        assert {"chart_ms", "others_during_chart_ms", "others_before_chart_ms"} <= set(chart)


class ForgetfulCore(Core):
    """Says "Got it" to every fourth answer without passing it on: an answer lost."""

    seen = 0

    async def handle(self, event: Event, progress: Any = None) -> list[Reply]:
        if isinstance(event, AnswerChoice):
            ForgetfulCore.seen += 1
            if ForgetfulCore.seen % 4 == 0:
                return [TextReply(text="Got it!")]
        return await super().handle(event, progress)


class DoubleCountingCore(Core):
    """Moves a member's review cards a second time after each answer: counted twice."""

    async def handle(self, event: Event, progress: Any = None) -> list[Reply]:
        replies = await super().handle(event, progress)
        if isinstance(event, AnswerChoice):
            with self.database.session() as db:
                cards = db.exec(
                    select(ReviewCard)
                    .join(User, col(User.id) == ReviewCard.user_id)
                    .where(User.platform_user_id == event.user_id)
                ).all()
                for card in cards:
                    card.reviews += 1
                    db.add(card)
                db.commit()
        return replies


@pytest.mark.parametrize("scenario", ["challenge", "quizzes"])
def test_an_answer_acknowledged_but_not_stored_counts_as_lost(scenario: str, bank: Bank) -> None:
    ForgetfulCore.seen = 0
    result = run_bench(scenario, bank, runs=1, sizes=TINY, core_factory=ForgetfulCore)["sqlite"]
    assert result["lost"] > 0 and result["counted_twice"] == 0


@pytest.mark.parametrize("scenario", ["core", "challenge"])
def test_an_answer_counted_twice_shows(scenario: str, bank: Bank) -> None:
    result = run_bench(scenario, bank, runs=1, sizes=TINY, core_factory=DoubleCountingCore)
    assert result["sqlite"]["counted_twice"] > 0 and result["sqlite"]["lost"] == 0


def test_the_command_prints_json_with_the_same_fields_when_quick(tmp_path: Path) -> None:
    """`studybot bench core --quick` on the shipped bank: the fields of a full run."""
    environment = {**os.environ, "STUDYBOT_DATA_DIR": str(tmp_path)}
    environment.pop("DATABASE_URL", None)
    outcome = subprocess.run(
        [sys.executable, "-m", "bot", "bench", "core", "--quick", "--runs", "1"],
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
    )
    assert outcome.returncode == 0, outcome.stderr
    figures = json.loads(outcome.stdout)
    assert figures["quick"] is True and EXPECTED["core"] <= set(figures["sqlite"])
    assert figures["sqlite"]["lost"] == 0 and "postgresql" not in figures

"""The terminal chat starts like a command-line tool: nothing heavy loads before the first
question (models, vector store, LLM client, charts, chat platforms, decks, migrations)."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.cli.chat import TerminalChat
from bot.core import Core
from knowledge.duplicates import pairs_within

# Loaded when first needed (a follow-up, /stats, /export, `studybot run`), or in the
# background after the first question; never on the way to it.
HEAVY = (
    "torch",
    "sentence_transformers",
    "chromadb",
    "openai",
    "matplotlib",
    "telegram",
    "discord",
    "genanki",
    "bm25s",
    "datasketch",
    "scipy",
    "numpy",
)

# Runs the real `studybot chat` and prints the loaded modules the moment the first question
# has been shown (before any background warm-up can start).
DRIVER = """
import json, sys
from adapters.cli import chat
from bot.types import QuestionReply

shown = chat.TerminalChat.show

def show(self, reply):
    shown(self, reply)
    if isinstance(reply, QuestionReply) and not getattr(sys, "first_question_seen", False):
        sys.first_question_seen = True
        print("LOADED " + json.dumps(sorted(sys.modules)), file=sys.stderr, flush=True)

chat.TerminalChat.show = show
from adapters.cli.app import main
sys.argv = ["studybot", "chat", "--user", sys.argv[1], "--seed", "1"]
main()
"""


def loaded_at_first_question(home: Path, user: str) -> set[str]:
    """The top-level packages loaded when `studybot chat` shows `user` a first question."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("STUDYBOT_", "DATABASE_URL", "OPENAI_", "CHROMA_"))
    }
    env.update(HOME=str(home), STUDYBOT_DATA_DIR=str(home / "data"), PYTHONUNBUFFERED="1")
    result = subprocess.run(
        [sys.executable, "-c", DRIVER, user],
        input="/quiz DVA-C02 2\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Question 1/2" in result.stdout
    line = next(x for x in result.stderr.splitlines() if x.startswith("LOADED "))
    return {name.split(".")[0] for name in json.loads(line.removeprefix("LOADED "))}


def test_the_chat_reaches_its_first_question_without_any_heavy_library(tmp_path: Path) -> None:
    first = loaded_at_first_question(tmp_path, "ada")  # a new data dir: the schema is created
    assert first.isdisjoint(HEAVY), sorted(first & set(HEAVY))
    again = loaded_at_first_question(tmp_path, "grace")  # at head: no migration machinery
    assert again.isdisjoint({*HEAVY, "alembic"}), sorted(again & {*HEAVY, "alembic"})


async def test_the_first_question_starts_readying_follow_up_answers_in_the_background(
    core: Core, capsys: pytest.CaptureFixture[str]
) -> None:
    chat = TerminalChat(core, "ada", rich=False)
    await chat.send("/help")
    assert chat.warming is None  # nothing to read yet: nothing loads
    assert not core.answers_ready()
    await chat.send("/quiz DVA-C02 2")
    assert "Question 1/2" in capsys.readouterr().out
    assert chat.warming is not None
    chat.warming.join(timeout=60)
    assert core.answers_ready()  # the first follow-up will not build the index
    warming = chat.warming
    await chat.send("A")
    assert chat.warming is warming  # once per chat


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_small_banks_find_exactly_the_near_duplicates_every_pair_check_finds(seed: int) -> None:
    """Banks small enough to be checked without the MinHash index still find every pair."""
    rng = random.Random(seed)
    vocabulary = [f"w{n}" for n in range(25)]
    questions = [" ".join(rng.sample(vocabulary, rng.randint(3, 12))) for _ in range(150)]
    questions += [" ".join(q.split()[:-1] + ["new"]) for q in questions[:60]]
    questions += ["", "the a of", questions[0]]  # no words at all; only stop words; a copy

    def share(a: str, b: str) -> float:
        mine, theirs = set(a.split()) - {"the", "a", "of"}, set(b.split()) - {"the", "a", "of"}
        return len(mine & theirs) / len(mine | theirs) if mine and theirs else 0.0

    exhaustive = [
        (i, j, share(questions[i], questions[j]))
        for i in range(len(questions))
        for j in range(i)
        if share(questions[i], questions[j]) >= 0.75
    ]
    assert len(exhaustive) > 20
    assert pairs_within(questions) == exhaustive


def test_bench_startup_prints_every_figure_as_json(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STUDYBOT_", "OPENAI_"))}
    env.update(HOME=str(tmp_path), STUDYBOT_DATA_DIR=str(tmp_path / "none-built"))
    result = subprocess.run(
        [sys.executable, "-m", "bot", "bench", "startup", "--runs", "1"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    for name in ("chat_first_question_s", "chat_first_question_new_data_dir_s", "help_s"):
        assert figures[name] > 0, name
    assert figures["chat_import_s"] > 0 and figures["ask_lexical_s"] > 0
    assert figures["chat_first_question_peak_mib"] > 0
    assert figures["ask_s"] is None and "run the setup" in figures["ask_index"]

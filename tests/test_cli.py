"""The terminal chat as a user scripts it: a subprocess with piped standard input."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

FIXTURE_BANK = Path(__file__).parent / "fixtures" / "bank"
STUDYBOT = Path(sys.executable).parent / "studybot"


def environment(data_dir: Path, **extra: str) -> dict[str, str]:
    """A clean environment: no model keys, lexical answers unless a test asks for more."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("STUDYBOT_", "DATABASE_URL", "OPENAI_", "CHROMA_"))
    }
    env.update(STUDYBOT_DATA_DIR=str(data_dir), PYTHONUNBUFFERED="1", STUDYBOT_EMBEDDINGS="none")
    env.update(extra)
    return env


def studybot(
    data_dir: Path, *args: str, stdin: str = "", timeout: float = 60, **extra: str
) -> subprocess.CompletedProcess[str]:
    """`python -m bot ARGS` in a clean environment on `data_dir`, as a user would run it."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=environment(data_dir, **extra),
        timeout=timeout,
    )


def chat(data_dir: Path, script: str, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return studybot(data_dir, "chat", *args, stdin=script, **extra)


def test_the_readme_example_prints_three_questions_verdicts_and_the_score(tmp_path: Path) -> None:
    assert STUDYBOT.exists(), "the console script is installed with the package"
    result = subprocess.run(
        [str(STUDYBOT), "chat", "--user", "alice", "--seed", "1"],
        input="/quiz DVA-C02 3\nA\nB\nC\n",
        capture_output=True,
        text=True,
        env=environment(tmp_path),
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split(" · ")[0] for line in lines if line.startswith("Question ")] == [
        "Question 1/3",
        "Question 2/3",
        "Question 3/3",
    ]
    verdicts = [line for line in lines if re.match(r"^(Correct!|Not quite\.|Partly right)", line)]
    assert len(verdicts) == 3
    correct = sum(v.startswith("Correct!") for v in verdicts)
    assert lines[-1] == f"Score: {correct}/3"
    assert "Traceback" not in result.stdout + result.stderr


def test_nonsense_gets_hints_and_exits_cleanly(tmp_path: Path) -> None:
    script = "hello\n/quiz DVA-C02 security 1\n???\nF\n/bogus\n"
    result = chat(tmp_path, script, "--seed", "2", STUDYBOT_BANKS=str(FIXTURE_BANK))
    assert result.returncode == 0
    assert "The study material doesn't cover that" in result.stdout  # "hello" is no AWS topic
    assert result.stdout.count("doesn't look like an answer") == 1
    assert "There are only" in result.stdout
    assert "I don't know /bogus" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def _read_until(process: subprocess.Popen[str], marker: str, count: int) -> str:
    """Read stdout until `marker` has appeared `count` times (with a time limit)."""
    assert process.stdout is not None
    seen, text, deadline = 0, [], time.monotonic() + 60
    while seen < count and time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        text.append(line)
        seen += line.startswith(marker)
    assert seen == count, "".join(text)
    return "".join(text)


def _question_block(text: str, header: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    block = [lines[start].split(" · ")[0], lines[start + 1]]
    for line in lines[start + 2 :]:
        if not re.match(r"^  [A-F]\) ", line):
            break
        block.append(line)
    assert len(block) >= 6, block  # header, question, at least four options
    return block


def test_killed_mid_quiz_a_new_process_resumes_the_same_question(tmp_path: Path) -> None:
    env = environment(tmp_path, STUDYBOT_BANKS=str(FIXTURE_BANK))
    first = subprocess.Popen(
        [sys.executable, "-m", "bot", "chat", "--user", "bob", "--seed", "4"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert first.stdin is not None
    first.stdin.write("/quiz DVA-C02 3\nA\n/resume\n")
    first.stdin.flush()
    # "Question 2/3" shows after the answer and again for /resume: the first is complete.
    before = _read_until(first, "Question 2/3", 2)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    assert first.returncode == -signal.SIGKILL

    second = chat(tmp_path, "/resume\nA\nA\n", "--user", "bob", STUDYBOT_BANKS=str(FIXTURE_BANK))
    assert second.returncode == 0, second.stderr
    assert _question_block(second.stdout, "Question 2/3") == _question_block(before, "Question 2/3")
    assert second.stdout.splitlines()[-1].startswith("Score: ")
    assert second.stdout.splitlines()[-1].endswith("/3")

    database = sqlite3.connect(tmp_path / "studybot.sqlite3")
    positions = [row[0] for row in database.execute("SELECT position FROM answers ORDER BY id")]
    database.close()
    assert positions == [0, 1, 2]


@pytest.mark.parametrize(
    ("defect", "expected"),
    [
        (lambda text: text.replace("    tags: [sqs]\n", "    tags: [sqs\n", 1), "not valid YAML"),
        (lambda text: text.replace("    trap: Confusing canary with linear.\n", ""), "trap"),
        (
            lambda text: text.replace(
                "text: Canary\n        correct: true", "text: Canary\n        correct: false"
            ),
            "names no option",
        ),
    ],
)
def test_a_malformed_bank_stops_the_chat_and_leaves_the_database_untouched(
    tmp_path: Path,
    defect,
    expected: str,  # type: ignore[no-untyped-def]
) -> None:
    bank = tmp_path / "banks" / "mine.yaml"
    bank.parent.mkdir()
    bank.write_text(defect((FIXTURE_BANK / "sample.yaml").read_text()))
    data = tmp_path / "data"
    result = chat(data, "/quiz\n", STUDYBOT_BANKS=str(bank.parent))
    assert result.returncode == 2
    assert re.search(rf"{re.escape(str(bank))}:\d+: .*{expected}", result.stderr), result.stderr
    assert "Traceback" not in result.stderr
    assert not (data / "studybot.sqlite3").exists()


def test_bank_validate_passes_on_what_we_ship_and_fails_on_a_defect(tmp_path: Path) -> None:
    ok = studybot(tmp_path, "bank", "validate")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("OK: ")
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        (FIXTURE_BANK / "sample.yaml").read_text().replace("domain: Security", "domain: Secure")
    )
    failed = studybot(tmp_path, "bank", "validate", str(bad))
    assert failed.returncode == 1
    assert f"{bad}:" in failed.stderr and "items[2].domain" in failed.stderr


def test_bank_validate_on_a_folder_checks_its_notes_too(tmp_path: Path) -> None:
    def validate(path: Path) -> subprocess.CompletedProcess[str]:
        return studybot(tmp_path, "bank", "validate", str(path))

    shipped = validate(Path(__file__).resolve().parents[1] / "knowledge")
    assert shipped.returncode == 0, shipped.stderr
    assert re.fullmatch(r"OK: \d+ items, \d+ notes\n", shipped.stdout)
    assert not shipped.stdout.startswith("OK: 0 items") and ", 0 notes" not in shipped.stdout
    folder = tmp_path / "content"
    (folder / "notes").mkdir(parents=True)
    note = folder / "notes" / "short.md"
    note.write_text("---\nid: note-short\ntitle: Short\nexams: [DVA-C02]\n---\nToo short.\n")
    failed = validate(folder)
    assert failed.returncode == 1
    assert f"{note}:" in failed.stderr and "150-400" in failed.stderr

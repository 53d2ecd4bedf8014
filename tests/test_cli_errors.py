"""No `studybot` command shows a traceback: one line says what to do, the log has the details."""

from __future__ import annotations

from pathlib import Path

from tests.test_cli import FIXTURE_BANK, studybot


def test_an_invalid_setting_is_one_line_naming_it(tmp_path: Path) -> None:
    result = studybot(tmp_path, "ask", "What is jitter?", STUDYBOT_LLM_TIMEOUT="soon")
    assert result.returncode == 2
    assert "Traceback" not in result.stdout + result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert "STUDYBOT_LLM_TIMEOUT" in line and "Fix it in the environment or in .env" in line
    assert "soon" not in line  # a setting's value may be a key: never echoed


def test_a_damaged_database_says_what_to_check_and_logs_the_details(tmp_path: Path) -> None:
    (tmp_path / "studybot.sqlite3").write_bytes(b"this is not a database" * 100)
    result = studybot(tmp_path, "bank", "list", STUDYBOT_BANKS=str(FIXTURE_BANK))
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert "cannot use its database" in line and "DATABASE_URL" in line
    debug = studybot(
        tmp_path, "bank", "list", STUDYBOT_BANKS=str(FIXTURE_BANK), STUDYBOT_LOG_LEVEL="DEBUG"
    )
    assert debug.returncode == 1
    assert (
        "Traceback" in debug.stderr and "DatabaseError" in debug.stderr
    )  # logged for the operator

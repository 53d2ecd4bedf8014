"""The README's setup builds the study index: afterwards questions embed nothing, and a changed
note re-embeds only its own passages."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from pathlib import Path

from tests.fake_openai import FakeOpenAI
from tests.test_cli import FIXTURE_BANK, environment

ROOT = Path(__file__).parent.parent
FIXTURE_NOTES = Path(__file__).parent / "fixtures" / "notes"


def embedded_texts(server: FakeOpenAI) -> list[str]:
    """Every text sent to the embeddings endpoint so far, and forget them."""
    texts = [t for r in server.requests if "input" in r for t in r["input"]]
    server.requests.clear()
    return texts


async def run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        subprocess.run, command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )


async def test_setup_builds_the_index_and_later_runs_embed_only_what_changed(
    tmp_path: Path,
) -> None:
    notes = tmp_path / "notes"
    shutil.copytree(FIXTURE_NOTES, notes)
    server = await FakeOpenAI().start()
    try:
        env = environment(
            tmp_path / "data",
            STUDYBOT_EMBEDDINGS="openai",
            OPENAI_BASE_URL=server.base_url,
            OPENAI_API_KEY="sk-test",
            STUDYBOT_BANKS=str(FIXTURE_BANK),
            STUDYBOT_NOTES=str(notes),
        )
        setup = await run(["bash", "scripts/setup"], env)
        assert setup.returncode == 0, setup.stderr
        passages = set(embedded_texts(server))
        assert len(passages) > 20  # every passage, once

        ask = await run([sys.executable, "-m", "bot", "ask", "What is jitter?"], env)
        assert ask.returncode == 0, ask.stderr
        asked = embedded_texts(server)
        assert "What is jitter?" in asked and not passages & set(asked)

        again = await run(["bash", "scripts/setup"], env)
        assert again.returncode == 0 and embedded_texts(server) == []

        note = notes / "backoff.md"
        note.write_text(note.read_text().replace("Jitter adds randomness", "Jitter adds chance"))
        changed = await run(["bash", "scripts/setup"], env)
        assert changed.returncode == 0, changed.stderr
        (text,) = embedded_texts(server)
        assert "Jitter adds chance" in text
    finally:
        await server.stop()

"""The built wheel, installed the ordinary way (not editable), answers through a model.

The wheel is built from a copy of the sources and installed into a fresh virtualenv without
dependencies; a .pth file lends it the dependencies already in this test's environment (not
the editable install's finder, which would map `bot` back to the checkout). It runs from an
empty folder, so nothing from the checkout can be imported by accident.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fake_openai import FakeOpenAI, Step
from tests.test_ask_and_eval import FIXTURE_NOTES
from tests.test_cli import FIXTURE_BANK, environment

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ["pyproject.toml", "README.md", "bot", "knowledge", "adapters", "prompts"]


def _run(*command: str | Path, cwd: Path | None = None) -> None:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def build_and_install(workdir: Path) -> Path:
    """A wheel of this checkout installed into a new virtualenv; returns its python."""
    source, dist, venv = workdir / "source", workdir / "dist", workdir / "venv"
    source.mkdir(parents=True)
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            ignored = shutil.ignore_patterns("__pycache__", "*.egg-info")
            shutil.copytree(path, source / name, ignore=ignored)
        else:
            shutil.copy(path, source / name)
    pip = (sys.executable, "-m", "pip", "--disable-pip-version-check")
    _run(*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", dist, source)
    (wheel,) = dist.glob("studybot-*.whl")
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    _run(*pip, "--python", python, "install", "--no-deps", "--no-index", wheel)
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    dependencies = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(purelib) / "studybot-test-dependencies.pth").write_text("\n".join(dependencies) + "\n")
    return python


@pytest.fixture
async def server() -> AsyncIterator[FakeOpenAI]:
    fake = await FakeOpenAI().start()
    yield fake
    await fake.stop()


async def test_the_installed_wheel_answers_with_the_model(
    tmp_path: Path, server: FakeOpenAI
) -> None:
    python = await asyncio.to_thread(build_and_install, tmp_path / "build")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = environment(
        tmp_path / "data",
        STUDYBOT_BANKS=str(FIXTURE_BANK),
        STUDYBOT_NOTES=str(FIXTURE_NOTES),
        OPENAI_BASE_URL=server.base_url,
        OPENAI_API_KEY="sk-test",
    )
    env.pop("PYTHONPATH", None)
    where = await asyncio.to_thread(
        subprocess.run,
        [python, "-c", "import bot; print(bot.__file__)"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
    )
    assert where.returncode == 0, where.stderr
    assert all(str(python.parents[1]) in line for line in where.stdout.splitlines()), where.stdout

    server.script.append(Step(text="Jitter randomises each retry wait [note-test-backoff#2]."))
    studybot = python.parent / "studybot"  # the console script the wheel installed
    process = await asyncio.create_subprocess_exec(
        studybot,
        "ask",
        "--json",
        "What is jitter?",
        cwd=elsewhere,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, err.decode()
    reply = json.loads(out.decode())
    assert reply["mode"] == "llm", reply
    assert reply["answer"].startswith("Jitter randomises each retry wait")
    assert not reply["note"]
    assert len(server.requests) == 1

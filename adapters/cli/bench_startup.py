"""`studybot bench startup`: how long the commands take to start, measured from outside.

Each figure spawns the real command in a fresh process with its own data dir and HOME (no
keys, offline) and takes the median of several runs: the chat until its first question is on
standard output, `studybot --help`, `studybot ask "What is jitter?"` from start to answer, and
the import of the chat's modules. Only the standard library (and platformdirs) is imported
here, so the file also runs by path against another checkout, for before/after figures:
`PYTHONPATH=OLD_CHECKOUT python adapters/cli/bench_startup.py --runs 5`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

QUESTION = "What is jitter?"
FIRST_QUESTION = "Question 1/"
LIMIT_S = 300.0  # one run that takes longer is stopped (a hang, or an index being built)
TARGETS = {"chat_first_question_s": 1.5}
CLEARED = ("STUDYBOT_", "DATABASE_URL", "OPENAI_", "CHROMA_", "TELEGRAM_", "DISCORD_")
Log = Callable[[str], None]


def command() -> list[str]:
    """The installed `studybot` next to this Python, else `python -m bot`."""
    script = Path(sys.executable).parent / "studybot"
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot"]


def environment(home: Path, **extra: str) -> dict[str, str]:
    """A user with no settings and no keys: a new HOME and data dir, offline. Commands run
    in HOME, so that no `.env` and no checkout in the current folder is picked up."""
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(CLEARED)}
    env.update(HOME=str(home), STUDYBOT_DATA_DIR=str(home / "data"), PYTHONUNBUFFERED="1")
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    env.update(extra)
    return env


def peak_mib(pid: int) -> float | None:
    """The process's peak resident memory so far (Linux), in MiB."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return None


def first_question(home: Path) -> tuple[float, float | None]:
    """Seconds from spawning `studybot chat` (stdin piped, `/quiz` typed) until the first
    question's text is on its standard output, and its peak memory at that moment."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [*command(), "chat", "--user", "bench"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=environment(home),
        cwd=home,
    )
    watchdog = threading.Timer(LIMIT_S, process.kill)
    watchdog.start()
    try:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write("/stop\n/quiz\n")  # /stop: a quiz left by an earlier run ends
        process.stdin.flush()
        for line in process.stdout:
            if line.startswith(FIRST_QUESTION):
                return time.perf_counter() - started, peak_mib(process.pid)
        raise RuntimeError("studybot chat ended without showing a question")
    finally:
        watchdog.cancel()
        process.kill()
        process.wait()


def timed(args: list[str], home: Path, **extra: str) -> float:
    """Seconds a whole command takes, start to exit; it must succeed."""
    started = time.perf_counter()
    subprocess.run(
        args,
        env=environment(home, **extra),
        cwd=home,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=LIMIT_S,
        check=True,
    )
    return time.perf_counter() - started


# What `studybot chat` imports before its first question (the same list before and after).
CHAT_MODULES = (
    "adapters.cli.app, adapters.cli.chat, adapters.cli.knowledge_commands, "
    "adapters.cli.run_commands, bot.core, bot.followups, bot.storage.database, knowledge.notes"
)
IMPORTS = (
    f"import time; t = time.perf_counter(); import {CHAT_MODULES}; print(time.perf_counter() - t)"
)


def chat_import(home: Path) -> float:
    """Seconds to import the modules the chat runs (inside a fresh interpreter)."""
    result = subprocess.run(
        [sys.executable, "-c", IMPORTS],
        env=environment(home),
        cwd=home,
        capture_output=True,
        text=True,
        timeout=LIMIT_S,
        check=True,
    )
    return float(result.stdout.strip().splitlines()[-1])


def built_index() -> Path | None:
    """The study index the README's setup built in the user's data dir, if there is one."""
    configured = os.environ.get("STUDYBOT_DATA_DIR")
    if configured:
        folder = Path(configured)
    else:
        from platformdirs import user_data_dir

        folder = Path(user_data_dir("studybot"))
    return folder / "chroma" if (folder / "chroma").is_dir() else None


def median(samples: list[float | None]) -> float | None:
    values = [s for s in samples if s is not None]
    return round(statistics.median(values), 3) if values else None


def bench_startup(
    runs: int = 5, quick: bool = False, log: Log = lambda _: None
) -> dict[str, object]:
    """Every figure a median of `runs` (with `quick` 3, `ask_s` 2); the same fields."""
    runs = min(runs, 3) if quick else runs
    samples: dict[str, list[float | None]] = {}

    def record(name: str, value: float | None) -> None:
        samples.setdefault(name, []).append(value)
        log(f"{name}: {value}")

    index = built_index()
    ask = [*command(), "ask", QUESTION]
    with tempfile.TemporaryDirectory(prefix="studybot-bench-") as scratch:
        home = Path(scratch) / "home"
        first_question(home)  # not counted: creates the schema, as a first ever start does
        if index is not None:  # the state after setup: the index built, nothing to embed
            shutil.copytree(index, home / "data" / "chroma")
        for run in range(runs):
            record(
                "chat_first_question_new_data_dir_s", first_question(Path(scratch) / str(run))[0]
            )
            seconds, peak = first_question(home)
            record("chat_first_question_s", seconds)
            record("chat_first_question_peak_mib", peak)
            record("help_s", timed([*command(), "--help"], home))
            record("chat_import_s", chat_import(home))
            record("ask_lexical_s", timed(ask, home, STUDYBOT_EMBEDDINGS="none"))
            if index is not None and not (quick and run == 2):  # the slow one: twice if quick
                record("ask_s", timed(ask, home))
    figures: dict[str, object] = {name: median(values) for name, values in samples.items()}
    figures.setdefault("ask_s", None)
    figures["ask_index"] = (
        f"copied from {index} (built by setup)"
        if index is not None
        else "no built index in the data dir: run the setup (studybot index) first"
    )
    return {"runs": runs, "quick": quick, **figures, "targets": TARGETS, "samples": samples}


def main() -> None:
    """By path, for another checkout: `PYTHONPATH=DIR python bench_startup.py`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true")
    options = parser.parse_args()
    figures = bench_startup(options.runs, options.quick, lambda line: print(line, file=sys.stderr))
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()

"""Prompt templates (the `prompts` package's `*.txt`, shipped in the wheel) and the messages
built from them.

Retrieved passages can be text anyone imported, so they are data, never instructions: the
rules sit in the system message; passages and the question sit in the user message inside
blocks marked with a random code per request. Runs of `<<<` or `>>>` inside the data are
replaced before it goes in, so no passage or question can close its block or open another,
even if it guesses the code.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from functools import cache
from importlib.resources import files

FENCE_OPEN = re.compile(r"<{3,}")
FENCE_CLOSE = re.compile(r">{3,}")


@cache
def load_prompt(name: str) -> str:
    """The template `prompts/<name>.txt`, from the installed package or the checkout."""
    resource = files("prompts") / f"{name}.txt"
    if not resource.is_file():
        raise FileNotFoundError(f"no prompt template named {name!r} in the prompts package")
    return resource.read_text(encoding="utf-8")


def defuse(text: str) -> str:
    """`text` with every run of three or more angle brackets turned into look-alikes."""
    text = FENCE_OPEN.sub(lambda match: "‹" * len(match.group(0)), text)
    return FENCE_CLOSE.sub(lambda match: "›" * len(match.group(0)), text)


def new_nonce() -> str:
    """The code that marks this request's blocks: unguessable, fresh every time."""
    return secrets.token_hex(8)


def answer_messages(
    question: str, passages: Iterable[tuple[str, str]], nonce: str | None = None
) -> list[dict[str, str]]:
    """The system rules and the user message with the (id, text) passages and the question."""
    nonce = nonce or new_nonce()
    block = "\n".join(f"[{defuse(pid)}] {defuse(text)}" for pid, text in passages)
    user = load_prompt("answer_user").format(nonce=nonce, passages=block, question=defuse(question))
    return [
        {"role": "system", "content": load_prompt("answer_system").format(nonce=nonce)},
        {"role": "user", "content": user},
    ]

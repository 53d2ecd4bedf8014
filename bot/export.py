"""`/export`: a user's missed items as an Anki deck (genanki), to keep studying in Anki."""

from __future__ import annotations

import html
import zlib
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlmodel import Session, select

from bot.storage.models import Answer, ReviewCard
from knowledge.bank import Bank
from knowledge.schema import Item

if TYPE_CHECKING:  # genanki loads with the first /export, not with every start
    import genanki


@cache
def note_model() -> genanki.Model:
    """The note type of every exported card."""
    import genanki

    return genanki.Model(
        1607392319,  # stable ids: re-imports update the same note type and deck in Anki
        "studybot question",
        fields=[{"name": "Question"}, {"name": "Answer"}, {"name": "ItemId"}],
        templates=[
            {
                "name": "Card 1",
                "qfmt": "{{Question}}",
                "afmt": "{{FrontSide}}<hr id=answer>{{Answer}}",
            }
        ],
    )


def missed_item_ids(db: Session, user_id: int) -> list[str]:
    """Items the user got wrong at least once (quizzes, reviews, daily challenges)."""
    wrong = db.exec(
        select(Answer.item_id).where(Answer.user_id == user_id, Answer.correct == False)  # noqa: E712
    ).all()
    lapsed = db.exec(
        select(ReviewCard.item_id).where(ReviewCard.user_id == user_id, ReviewCard.lapses > 0)
    ).all()
    return sorted(set(wrong) | set(lapsed))


def _front(item: Item) -> str:
    options = "".join(f"<li>{html.escape(o.text)}</li>" for o in item.options)
    return f"{html.escape(item.question)}<ol type='A'>{options}</ol>"


def _back(item: Item) -> str:
    right = "".join(f"<li>{html.escape(o.text)}</li>" for o in item.options if o.correct)
    parts = [f"<b>Correct:</b><ul>{right}</ul>", html.escape(item.explanation)]
    if item.takeaway:
        parts.append(f"<b>Takeaway:</b> {html.escape(item.takeaway)}")
    parts += [f"<a href='{html.escape(r)}'>{html.escape(r)}</a>" for r in item.references]
    return "<br>".join(parts)


def export_deck(item_ids: list[str], bank: Bank, name: str, path: Path) -> int:
    """Write the deck; returns how many notes it holds."""
    import genanki

    deck = genanki.Deck(zlib.crc32(name.encode()) & 0x7FFFFFFF, name)
    count = 0
    for item_id in item_ids:
        item = bank.get(item_id)
        if item is None:
            continue
        deck.add_note(
            genanki.Note(
                model=note_model(),
                fields=[_front(item), _back(item), item.id],
                guid=genanki.guid_for(item.id),
            )
        )
        count += 1
    path.parent.mkdir(parents=True, exist_ok=True)
    genanki.Package(deck).write_to_file(str(path))
    return count

"""Quiz sessions: choosing items, presenting them shuffled, recording answers, ending tests.

Everything is read from and written to the database on each step, so any process can pick
up a session where another left it.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import replace
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session

from bot.answers import letter
from bot.clock import Clock
from bot.commands import QuizRequest
from bot.grading import build_result, grade
from bot.imports import scope_of_chat
from bot.refs import FollowUpRef, QuizRef, encode
from bot.review import record_review
from bot.storage import repository
from bot.storage.models import Answer, Chat, QuizSession, User
from bot.types import (
    EndReason,
    ExplanationReply,
    FollowUp,
    FollowUpsReply,
    HintReply,
    Mode,
    OptionFeedback,
    QuestionReply,
    Reply,
    TextReply,
    Verdict,
)
from knowledge.bank import Bank
from knowledge.schema import Item

ANSWERED_AND_ENDED = (
    "That quiz has ended; that question was already answered. /quiz starts a new one."
)
VERDICT_WORDS = {
    Verdict.correct: "Correct",
    Verdict.partial: "Partly right",
    Verdict.wrong: "Not quite",
    Verdict.skipped: "Skipped",
}


def follow_up_data(item_id: str, index: int) -> str:
    """Short button data (see bot.refs): never the question text itself."""
    return encode(FollowUpRef(item_id, index))


def native_quiz(item: Item, order: list[int], mode: Mode) -> dict[str, Any]:
    """The answer key a platform's native quiz needs (practice only: exams give no feedback
    until the end): right positions as presented and the takeaway shown after the vote."""
    if mode is not Mode.practice:
        return {}
    correct = tuple(p for p, i in enumerate(order) if item.options[i].correct)
    takeaway = item.takeaway or next((o.why for o in item.options if o.correct), "")
    return {"correct": correct, "takeaway": takeaway}


def explanation_of(
    item: Item, order: list[int], chosen: list[int], verdict: Verdict | None
) -> ExplanationReply:
    """Every option, in the order shown, with why it is right or wrong; `verdict` None for a
    reveal to a whole group."""
    options = tuple(
        OptionFeedback(
            text=item.options[i].text,
            correct=item.options[i].correct,
            chosen=i in chosen,
            why=item.options[i].why,
        )
        for i in order
    )
    return ExplanationReply(
        item_id=item.id,
        verdict=verdict,
        options=options,
        explanation=item.explanation,
        trap=item.trap,
        takeaway=item.takeaway,
        references=tuple(item.references),
    )


def shuffled_order(seed: str, position: int, item: Item) -> list[int]:
    """The order question `position` of a session shows its options in, fixed by the seed."""
    order = list(range(len(item.options)))
    random.Random(f"order:{seed}:{position}").shuffle(order)
    return order


# Built once: the hottest statement of all (every answer), bound per call.
_sessions = QuizSession.__table__  # type: ignore[attr-defined]
ADVANCE = (
    update(_sessions)
    .where(
        _sessions.c.id == bindparam("session_id"),
        _sessions.c.position == bindparam("at_position"),
        _sessions.c.status == "active",
    )
    .values(
        position=bindparam("next_position"),
        current_order=bindparam("next_order", type_=_sessions.c.current_order.type),
        presented_at=bindparam("shown_at", type_=_sessions.c.presented_at.type),
    )
)

INSERT_ANSWER = insert(Answer.__table__)  # type: ignore[attr-defined]


class Quizzes:
    def __init__(self, bank: Bank, clock: Clock, seed: int | None = None) -> None:
        self.bank = bank
        self.clock = clock
        self.seed = seed

    # ------------------------------------------------------------ starting

    def start(self, db: Session, user: User, chat: Chat, request: QuizRequest) -> list[Reply]:
        # shipped, shared and this chat's own imports; never another group's
        pool = self.bank.select(request.exam, request.domains, scope_of_chat(chat))
        if not pool:
            where = f" in {', '.join(request.domains)}" if request.domains else ""
            return [HintReply(text=f"There are no {request.exam} questions{where} yet.")]
        assert user.id is not None
        seed = self._session_seed(db, user.id)
        chosen = random.Random(f"select:{seed}").sample(pool, min(request.count, len(pool)))
        intro = self._intro(len(chosen), request, len(pool))
        return self.start_items(db, user, chat, chosen, request, intro, seed)

    def _session_seed(self, db: Session, user_id: int) -> str:
        ordinal = repository.count_sessions(db, user_id)
        return f"{self.seed}:{user_id}:{ordinal}" if self.seed is not None else secrets.token_hex(8)

    def start_items(
        self,
        db: Session,
        user: User,
        chat: Chat,
        items: list[Item],
        request: QuizRequest,
        intro: str,
        seed: str | None = None,
    ) -> list[Reply]:
        """Start a session on exactly these items (a quiz, or the reviews that are due)."""
        assert user.id is not None and chat.id is not None
        now = self.clock()
        session = QuizSession(
            user_id=user.id,
            chat_id=chat.id,
            exam=request.exam,
            domains=list(request.domains),
            mode=request.mode.value,
            item_ids=[item.id for item in items],
            seed=seed or self._session_seed(db, user.id),
            started_at=now,
            deadline=now + timedelta(minutes=request.minutes) if request.minutes else None,
        )
        db.add(session)
        try:
            db.flush()
        except IntegrityError:  # another process started one for this user a moment ago
            db.rollback()
            return [HintReply(text="A quiz is already in progress here. /resume shows it.")]
        replies: list[Reply] = [TextReply(text=intro), *self.present(db, session)]
        db.commit()  # the session and its first question's order, in one transaction
        return replies

    def _intro(self, count: int, request: QuizRequest, available: int) -> str:
        scope = ", ".join(request.domains) if request.domains else "all domains"
        mode = (
            "Exam mode: no feedback until the end."
            if request.mode is Mode.exam
            else "Practice mode: feedback after each answer."
        )
        parts = [f"{request.exam} quiz, {count} questions from {scope}. {mode}"]
        if request.count > available:
            parts.append(f"(Only {available} questions match, so the quiz has {available}.)")
        if request.minutes:
            parts.append(f"Time limit: {request.minutes} minutes.")
        return " ".join(parts)

    # ------------------------------------------------------------ presenting

    def present(self, db: Session, session: QuizSession) -> list[Reply]:
        """The current question; its shuffled order is fixed in the database on first show
        (by the caller's commit: the event's one transaction)."""
        item = self._current_item(db, session)
        if item is None:
            return self.finish(db, session, EndReason.finished)
        if session.current_order is None:
            session.current_order = shuffled_order(session.seed, session.position, item)
            session.presented_at = self.clock()
            db.add(session)
        return [self.question_reply(session, item)]

    def question_reply(self, session: QuizSession, item: Item) -> QuestionReply:
        order = session.current_order or list(range(len(item.options)))
        assert session.id is not None
        return QuestionReply(
            ref=encode(QuizRef(session.id, session.position)),
            item_id=item.id,
            number=session.position + 1,
            total=len(session.item_ids),
            exam=session.exam,
            domain=item.domain,
            mode=Mode(session.mode),
            question=item.question,
            options=tuple(item.options[i].text for i in order),
            choose=item.choose,
            deadline=session.deadline,
            **native_quiz(item, order, Mode(session.mode)),
        )

    def current(self, db: Session, session: QuizSession) -> tuple[Item, QuestionReply] | None:
        item = self._current_item(db, session)
        if item is None or session.current_order is None:
            return None
        return item, self.question_reply(session, item)

    def _current_item(self, db: Session, session: QuizSession) -> Item | None:
        """The item at `position`, dropping ids that left the bank since the quiz began."""
        while session.position < len(session.item_ids):
            item = self.bank.get(session.item_ids[session.position])
            if item is not None:
                return item
            session.item_ids = [i for n, i in enumerate(session.item_ids) if n != session.position]
            session.current_order = None
            db.add(session)
        return None

    def recap(self, db: Session, session: QuizSession) -> list[Reply]:
        """What is recorded for the last answered question, so that a student whose verdict was
        lost (a crash right after the answer was stored) knows where they stand on /resume."""
        assert session.id is not None
        last = repository.last_answer(db, session.id)
        item = self.bank.get(last.item_id) if last else None
        if last is None or item is None:
            return []
        number = f"question {last.position + 1} of {len(session.item_ids)}"
        if last.skipped:
            return [TextReply(text=f"Recorded so far: {number} was skipped.")]
        shown = ", ".join(
            f"{letter(last.presented_order.index(i))}) {item.options[i].text}"
            for i in last.chosen
            if i in last.presented_order
        )
        if session.mode != Mode.practice:
            outcome = "graded at the end"
        else:
            verdict = (
                Verdict.correct
                if last.correct
                else Verdict.partial
                if last.partial
                else (Verdict.wrong)
            )
            outcome = f"{VERDICT_WORDS[verdict].lower()}; /why explains it"
        return [TextReply(text=f"Recorded so far: for {number} you chose {shown} ({outcome}).")]

    # ------------------------------------------------------------ answering

    def answer(
        self, db: Session, session: QuizSession, item: Item, positions: tuple[int, ...] | None
    ) -> list[Reply]:
        """Record an answer (None: a skip) to the current question and move on, in one
        transaction. The session moves on only from the position this event read, so when two
        processes answer the same question at once the database lets exactly one through."""
        assert session.id is not None and session.current_order is not None
        order = session.current_order
        chosen = sorted(order[p] for p in positions) if positions is not None else []
        verdict = grade(item, chosen) if positions is not None else Verdict.skipped
        now = self.clock()
        presented_at = session.presented_at or now
        position = session.position
        if not self._advance(db, session, position):  # another device or process was first
            return self._already_answered(db, session, position)
        answer = {
            "session_id": session.id,
            "user_id": session.user_id,
            "item_id": item.id,
            "item_version": item.version,
            "position": position,
            "chosen": chosen,
            "presented_order": order,
            "correct": verdict is Verdict.correct,
            "partial": verdict is Verdict.partial,
            "skipped": verdict is Verdict.skipped,
            "answered_at": now,
            "time_taken_ms": int((now - presented_at).total_seconds() * 1000),
        }
        try:  # the answer first: its unique (session, position) is the last word
            db.exec(INSERT_ANSWER, params=answer)
            record_review(db, session.user_id, item.id, verdict is Verdict.correct, now)
            replies = self._after_answer(db, session, item, order, chosen, verdict)
            db.commit()
        except IntegrityError:  # an answer stored at this position by an older version
            db.rollback()
            return self._already_answered(db, session, position)
        return replies

    def _advance(self, db: Session, session: QuizSession, position: int) -> bool:
        """Move the session past `position` if it is still there and active (a conditional
        UPDATE: it waits for, then sees, any other transaction's move); False if not. The next
        question's order is fixed in the same statement when that question is still in the
        bank (else `present` sees to it)."""
        following = position + 1
        item = (
            self.bank.get(session.item_ids[following])
            if following < len(session.item_ids)
            else None
        )
        order = shuffled_order(session.seed, following, item) if item else None
        shown = self.clock() if item else None
        moved = db.exec(
            ADVANCE,
            params={
                "session_id": session.id,
                "at_position": position,
                "next_position": following,
                "next_order": order,
                "shown_at": shown,
            },
        )
        if not moved.rowcount:
            return False
        set_committed_value(session, "position", following)
        set_committed_value(session, "current_order", order)
        set_committed_value(session, "presented_at", shown)
        return True

    def _after_answer(
        self,
        db: Session,
        session: QuizSession,
        item: Item,
        order: list[int],
        chosen: list[int],
        verdict: Verdict,
    ) -> list[Reply]:
        replies: list[Reply] = []
        if session.mode == Mode.practice:
            replies.extend(self.feedback(item, order, chosen, verdict))
        else:
            word = "Skipped" if verdict is Verdict.skipped else "Answer recorded"
            replies.append(TextReply(text=f"{word} ({session.position}/{len(session.item_ids)})."))
        replies.extend(self.present(db, session))
        return replies

    def _already_answered(self, db: Session, session: QuizSession, position: int) -> list[Reply]:
        """The reply to the loser of a race: the question counted once, here is where it is."""
        db.refresh(session)
        hint = HintReply(text="That question was already answered; here is the next one.")
        if session.status != "active" and session.position <= position:  # stopped first
            return [replace(hint, text="That quiz has ended. Start a new one with /quiz.")]
        if session.status != "active":
            return [replace(hint, text=ANSWERED_AND_ENDED)]
        if session.current_order is None:
            return [replace(hint, text="That question was already answered.")]
        return [hint, *self.present(db, session)]

    def feedback(
        self, item: Item, order: list[int], chosen: list[int], verdict: Verdict
    ) -> list[Reply]:
        explanation = explanation_of(item, order, chosen, verdict)
        suggestions = tuple(
            FollowUp(text=text, data=follow_up_data(item.id, n))
            for n, text in enumerate(item.follow_ups)
        )
        if not suggestions:  # an imported question without suggested follow-ups
            return [explanation]
        return [explanation, FollowUpsReply(suggestions=suggestions)]

    # ------------------------------------------------------------ ending

    def finish(self, db: Session, session: QuizSession, reason: EndReason) -> list[Reply]:
        assert session.id is not None
        session.status = "finished" if reason is EndReason.finished else reason.value
        session.end_reason = reason.value
        session.finished_at = self.clock()
        session.current_order = None
        db.add(session)
        db.commit()
        answers = repository.answers_of(db, session.id)
        return [build_result(session, answers, self.bank, reason)]

    def expired(self, session: QuizSession) -> bool:
        return session.deadline is not None and self.clock() >= session.deadline

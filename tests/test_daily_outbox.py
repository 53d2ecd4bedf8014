"""Daily challenge posts and results reach the group at least once and never twice: a failed
send is retried on a later tick, a crashed process's claim is taken over once its lease runs
out, racing processes never send the same one together, and a challenge nobody saw is neither
revealed nor counted. The clock is a test clock: no test sleeps."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta

from alembic import command
from alembic.config import Config
from sqlmodel import select

from bot.clock import ManualClock
from bot.core import Core
from bot.daily_outbox import LEASE, RESULTS_RETRY
from bot.storage.database import MIGRATIONS, Database
from bot.storage.models import DailyChallenge
from bot.study import StudyIndex
from bot.types import Delivery, ExplanationReply, LeaderboardReply, QuestionReply, TextReply
from knowledge.bank import Bank
from tests.student import hints, of_type, only
from tests.test_groups_and_progress import at, member, set_up_daily

POST_TIME = datetime(2026, 6, 1, 7, 0, tzinfo=UTC)  # 09:00 in Berlin (CEST)


class Group:
    """What an adapter does with `Core.tick`: send each delivery, then record it as delivered;
    while the group is unreachable (`outage` sends left to fail) hand it back for later."""

    def __init__(self) -> None:
        self.outage = 0
        self.received: list[Delivery] = []

    async def tick(self, core: Core) -> list[Delivery]:
        arrived = []
        for delivery in await core.tick("test"):
            if self.outage:
                self.outage -= 1
                await core.retry_later(delivery)
                continue
            arrived.append(delivery)
            await core.delivered(delivery)
        self.received.extend(arrived)
        return arrived

    def posts(self) -> list[QuestionReply]:
        return [r for d in self.received for r in of_type(list(d.replies), QuestionReply)]

    def reveals(self) -> list[LeaderboardReply]:
        return [r for d in self.received for r in of_type(list(d.replies), LeaderboardReply)]


async def test_a_failed_post_is_sent_again_on_the_next_tick_and_arrives_once(
    core: Core, clock: ManualClock
) -> None:
    await set_up_daily(core)
    group = Group()
    at(clock, POST_TIME)
    group.outage = 1  # a 2-second outage: the adapter's three attempts all fail
    assert await group.tick(core) == []
    clock.advance(minutes=1)
    (post,) = await group.tick(core)
    assert "Daily challenge for 2026-06-01" in only(list(post.replies), TextReply).text
    for _ in range(10):
        clock.advance(minutes=1)
        assert await group.tick(core) == []
    at(clock, POST_TIME + timedelta(hours=8))
    (results,) = await group.tick(core)
    assert only(list(results.replies), ExplanationReply).verdict is None
    assert len(group.posts()) == 1 and len(group.reveals()) == 1


async def test_a_post_claimed_by_a_process_that_crashed_goes_out_from_the_next_one(
    database: Database, bank: Bank, clock: ManualClock, study: StudyIndex
) -> None:
    crashed = Core(database, bank, clock=clock, study=study)
    await set_up_daily(crashed)
    at(clock, POST_TIME)
    (claimed,) = await crashed.tick("test")  # claimed, then the process dies before sending
    restarted = Core(database, bank, clock=clock, study=study)
    group = Group()
    clock.advance(minutes=1)
    assert await group.tick(restarted) == []  # the claim still holds: it may yet be sent
    clock.advance(seconds=LEASE.total_seconds())
    (post,) = await group.tick(restarted)
    assert post.key == claimed.key and post.replies == claimed.replies
    clock.advance(seconds=LEASE.total_seconds() * 2)
    assert await group.tick(restarted) == []
    assert len(group.posts()) == 1


async def test_processes_ticking_at_the_same_moment_never_send_the_same_post_together(
    database_url: str, bank: Bank, clock: ManualClock, study: StudyIndex
) -> None:
    processes = [Database(database_url) for _ in range(3)]
    processes[0].migrate()
    cores = [Core(db, bank, clock=clock, study=study) for db in processes]
    await set_up_daily(cores[0])

    async def all_at_once() -> list[Delivery]:
        barrier = threading.Barrier(len(cores))

        def tick(core: Core) -> list[Delivery]:
            barrier.wait()
            return asyncio.run(core.tick("test"))

        batches = await asyncio.gather(*(asyncio.to_thread(tick, core) for core in cores))
        return [delivery for batch in batches for delivery in batch]

    at(clock, POST_TIME)
    try:
        (first,) = await all_at_once()
        for _ in range(8):  # nobody records it: each time the lease runs out, one takes it over
            clock.advance(seconds=LEASE.total_seconds() + 1)
            (again,) = await all_at_once()
            assert again.key == first.key and again.lease != first.lease
        await cores[1].delivered(again)
        clock.advance(seconds=LEASE.total_seconds() + 1)
        assert await all_at_once() == []
        at(clock, POST_TIME + timedelta(hours=8))
        (results,) = await all_at_once()
        assert only(list(results.replies), LeaderboardReply)
    finally:
        for db in processes:
            db.dispose()


async def test_a_challenge_that_never_reached_the_group_is_not_revealed_or_counted(
    core: Core, clock: ManualClock
) -> None:
    await set_up_daily(core, "on 09:00 Europe/Berlin 1 2h")
    group, bob = Group(), member(core, "bob")

    async def day(number: int, reachable: bool) -> None:
        at(clock, POST_TIME.replace(day=number))
        group.outage = 0 if reachable else 10**6
        for _ in range(12):  # every ten minutes through the two-hour window
            if posted := await group.tick(core):
                bob.question = only(list(posted[0].replies), QuestionReply)
                assert "Got it" in only(await bob.choose(0), TextReply).text
            elif not reachable:
                assert hints(await bob.say("A"))  # nothing to answer: nobody saw a question
            clock.advance(minutes=10)
        group.outage = 0  # back just as the window closes
        closing = await group.tick(core)
        assert len(closing) == (1 if reachable else 0)

    await day(1, reachable=True)
    await day(2, reachable=False)
    status = only(await bob.command("daily"), TextReply).text
    assert "could not be posted" in status
    await day(3, reachable=True)
    assert len(group.posts()) == 2 and len(group.reveals()) == 2
    board = only(await bob.command("leaderboard", "all"), LeaderboardReply)
    assert board.rows[0].streak == 2 and board.rows[0].answered == 2  # day 2 never happened


async def test_results_that_fail_are_retried_for_a_while_then_given_up(
    core: Core, clock: ManualClock
) -> None:
    await set_up_daily(core, "on 09:00 Europe/Berlin 1 2h")
    group = Group()
    for number in (1, 2):
        at(clock, POST_TIME.replace(day=number))
        assert await group.tick(core)
    # day 1's close fell in day 2's tick above; its results arrived then
    assert [r.title for r in group.reveals()] == ["Leaderboard for 2026-06-01"]
    at(clock, POST_TIME.replace(day=2) + timedelta(hours=2))
    group.outage = 2
    assert await group.tick(core) == []
    clock.advance(minutes=1)
    assert await group.tick(core) == []
    clock.advance(minutes=2)
    (late,) = await group.tick(core)
    assert only(list(late.replies), LeaderboardReply).title == "Leaderboard for 2026-06-02"
    at(clock, POST_TIME.replace(day=3))
    assert await group.tick(core)
    at(clock, POST_TIME.replace(day=3) + timedelta(hours=2))
    group.outage = 10**6
    while clock.now < POST_TIME.replace(day=3) + timedelta(hours=2) + RESULTS_RETRY:
        assert await group.tick(core) == []
        clock.advance(minutes=30)
    group.outage = 0
    assert await group.tick(core) == []  # too late now: given up, not sent hours after
    assert len(group.reveals()) == 2


async def test_daily_now_queues_the_post_for_the_next_tick(core: Core, clock: ManualClock) -> None:
    await set_up_daily(core, "on 09:00 Europe/Berlin 1 2h")
    at(clock, POST_TIME - timedelta(hours=1))
    ada = member(core, "ada", admin=True)
    assert "within a minute" in only(await ada.command("daily", "now"), TextReply).text
    assert "already out" in hints(await ada.command("daily", "now"))[0].text
    group = Group()
    (post,) = await group.tick(core)
    assert only(list(post.replies), QuestionReply).deadline == clock.now + timedelta(hours=2)
    at(clock, POST_TIME)  # the scheduled time: today's is already out
    assert await group.tick(core) == []


def migrate(database: Database, revision: str, down: bool = False) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


async def test_a_challenge_posted_before_the_upgrade_is_still_revealed_after_it(
    database: Database, bank: Bank, clock: ManualClock, study: StudyIndex
) -> None:
    core = Core(database, bank, clock=clock, study=study)
    await set_up_daily(core)
    at(clock, POST_TIME)
    assert await Group().tick(core)
    migrate(database, "0005", down=True)  # as if posted by the version before the outbox
    migrate(database, "head")
    with database.session() as db:
        assert db.exec(select(DailyChallenge)).one().shown_at == POST_TIME
    group = Group()
    assert await group.tick(Core(database, bank, clock=clock, study=study)) == []
    at(clock, POST_TIME + timedelta(hours=8))
    assert await group.tick(Core(database, bank, clock=clock, study=study))
    assert len(group.reveals()) == 1 and group.posts() == []

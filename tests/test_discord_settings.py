"""Discord settings: each mistake an operator can make is one line naming the variable."""

from __future__ import annotations

import pytest

from adapters.discord.settings import DiscordSettings


def settings(**env: str) -> DiscordSettings:
    return DiscordSettings(_env_file=None, **({"DISCORD_BOT_TOKEN": "MTAw.x"} | env))  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"DISCORD_BOT_TOKEN": " "}, "DISCORD_BOT_TOKEN is not set"),
        ({"DISCORD_SHARDS": "0"}, "DISCORD_SHARDS"),
        ({"DISCORD_SHARDS": "many"}, "DISCORD_SHARDS"),
        ({"DISCORD_SHARD_IDS": "0"}, "DISCORD_SHARD_IDS"),  # without a total
        ({"DISCORD_SHARDS": "2", "DISCORD_SHARD_IDS": "1,2"}, "DISCORD_SHARD_IDS"),
        ({"DISCORD_SHARDS": "2", "DISCORD_SHARD_IDS": "one"}, "DISCORD_SHARD_IDS"),
        ({"DISCORD_ADMIN_IDS": "alice"}, "DISCORD_ADMIN_IDS"),
        ({"DISCORD_GUILD_IDS": "12,x"}, "DISCORD_GUILD_IDS"),
    ],
)
def test_a_mistake_is_one_line_naming_the_variable(env: dict[str, str], named: str) -> None:
    problem = settings(**env).problem()
    assert problem is not None and named in problem and "\n" not in problem


def test_shards_ids_and_admins_are_read() -> None:
    ready = settings(
        DISCORD_SHARDS="4",
        DISCORD_SHARD_IDS="2, 3",
        DISCORD_ADMIN_IDS="11,22",
        DISCORD_GUILD_IDS="7",
    )
    assert ready.problem() is None
    assert (ready.sharded(), ready.shard_count(), ready.own_shards()) == (True, 4, [2, 3])
    assert ready.admins() == {"11", "22"} and ready.guilds() == (7,)
    auto = settings(DISCORD_SHARDS="auto")
    assert auto.problem() is None and auto.sharded() and auto.shard_count() is None
    assert not settings().sharded() and settings().own_shards() is None

"""A fake Discord on 127.0.0.1: REST API (`/api/v10/...`) and gateway websocket (`/gw/`) in one
aiohttp server, for the real discord.py 2.7 client. Nothing reaches the internet.

Use: `fake = await FakeDiscord().start()`, then `with fake.pointed_at():` (sets and restores
`discord.http.Route.BASE` and `DiscordWebSocket.DEFAULT_GATEWAY`) and
`async with fake.running(client):` (starts the client, waits for READY, closes it). Every REST
call is recorded in `calls` under its route template (`"POST /channels/{channel_id}/messages"`);
gateway IDENTIFY and RESUME are recorded as `"WS IDENTIFY"` / `"WS RESUME"`. Unknown routes answer
404 and are recorded as `"UNKNOWN"` (look there first when the client misbehaves).

Learned by trying (beyond ../shared/PITFALLS.md):
- Start-up REST order: `GET /users/@me`, `GET /oauth2/applications/@me` (not
  `/applications/@me`), then `setup_hook` (command sync), then the gateway. `GET /gateway/bot` is
  never called by a plain `Client`: it goes straight to `DEFAULT_GATEWAY`.
- The gateway URL carries `?compress=zlib-stream`, but plain text frames are accepted: no zlib.
- READY's `resume_gateway_url` is where discord.py RESUMEs after a drop: point it at this server.
  A server-side close with any code but 4004/4010-4014 (4000 here), or opcode 7, makes the client
  RESUME at once; the fake replays the events it missed, then sends RESUMED. A re-IDENTIFY
  that is not the client's first (after INVALID_SESSION, or `resumable = False`) waits 5 s in
  `Client.before_identify_hook`: override that hook in tests that exercise it.
- The interaction callback asks `?with_response=1` and parses `{"interaction": {...},
  "resource": {"type": N, "message": {...}}}`. Follow-ups ask `?wait=true` and want the message.
- Every member payload needs `flags`, the bot's own member in GUILD_CREATE included: without it
  `client.start()` dies with KeyError('flags') at GUILD_CREATE (`running` re-raises it).
- Like Discord, the fake blanks a guild message's content unless IDENTIFY asked for the
  message_content intent (1 << 15); DMs keep it. Slash commands need no intent.
- A 429 is retried only with a `Via` header and a JSON body with `retry_after` (seconds, float);
  the webhook/interaction routes follow the same rule (read in `discord.webhook.async_`).
- A persistent view (`timeout=None`, fixed custom_ids, `client.add_view(view)` without a message
  id) receives a button press on any message, so a press after a restart reaches the new client.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import discord
import yarl
from aiohttp import WSMsgType, web
from discord.gateway import DiscordWebSocket

JSON = dict[str, Any]
TOKEN = "MTAw.fake.discord-bot-token"
APP_ID = 900_000_000_000_000_001
GUILD_ID = 910_000_000_000_000_001
CHANNEL_ID = 920_000_000_000_000_001
BOT_USER: JSON = {
    "id": str(APP_ID),
    "username": "StudyBot",
    "discriminator": "0",
    "global_name": "Study Bot",
    "avatar": None,
    "bot": True,
    "flags": 0,
}
ALICE: JSON = {
    "id": "930000000000000001",
    "username": "alice",
    "discriminator": "0",
    "global_name": "Alice",
    "avatar": None,
}
BOB: JSON = ALICE | {"id": "930000000000000002", "username": "bob", "global_name": "Bob"}
EPHEMERAL = 64  # message flag
LOADING = 128  # message flag of a deferred ("thinking") response
ALL_PERMISSIONS = str((1 << 51) - 1)
MESSAGE_CONTENT_INTENT = 1 << 15

# Gateway opcodes.
DISPATCH, HEARTBEAT, IDENTIFY, RESUME = 0, 1, 2, 6
RECONNECT, INVALID_SESSION, HELLO, HEARTBEAT_ACK = 7, 9, 10, 11
# Interaction types and callback types.
PING, APP_COMMAND, COMPONENT, AUTOCOMPLETE = 1, 2, 3, 4
REPLY, DEFERRED_REPLY, DEFERRED_UPDATE, UPDATE, CHOICES, MODAL = 4, 5, 6, 7, 8, 9

ROUTES = [
    ("GET", "/gateway"),
    ("GET", "/gateway/bot"),
    ("GET", "/users/@me"),
    ("GET", "/oauth2/applications/@me"),
    ("GET", "/applications/@me"),
    ("POST", "/users/@me/channels"),
    ("GET", "/users/{user_id}"),
    ("GET", "/applications/{application_id}/commands"),
    ("PUT", "/applications/{application_id}/commands"),
    ("GET", "/applications/{application_id}/guilds/{guild_id}/commands"),
    ("PUT", "/applications/{application_id}/guilds/{guild_id}/commands"),
    ("GET", "/channels/{channel_id}"),
    ("POST", "/channels/{channel_id}/typing"),
    ("GET", "/channels/{channel_id}/messages/{message_id}"),
    ("POST", "/channels/{channel_id}/messages"),
    ("PATCH", "/channels/{channel_id}/messages/{message_id}"),
    ("DELETE", "/channels/{channel_id}/messages/{message_id}"),
    ("GET", "/guilds/{guild_id}/members/{user_id}"),
    ("POST", "/interactions/{interaction_id}/{token}/callback"),
    ("POST", "/webhooks/{application_id}/{token}"),
    ("GET", "/webhooks/{application_id}/{token}/messages/@original"),
    ("PATCH", "/webhooks/{application_id}/{token}/messages/@original"),
    ("DELETE", "/webhooks/{application_id}/{token}/messages/@original"),
    ("PATCH", "/webhooks/{application_id}/{token}/messages/{message_id}"),
    ("DELETE", "/webhooks/{application_id}/{token}/messages/{message_id}"),
]
UNAUTHENTICATED = ("/interactions/", "/webhooks/")  # these routes carry the token in the path


def _pattern(template: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "$")


COMPILED = [(method, path, _pattern(path)) for method, path in ROUTES]


@dataclass
class Upload:
    name: str  # form field, e.g. "files[0]"
    filename: str
    content: bytes


@dataclass
class Call:
    route: str  # "POST /channels/{channel_id}/messages", "WS IDENTIFY" or "UNKNOWN"
    path: str
    params: dict[str, str]
    query: dict[str, str]
    json: Any
    files: list[Upload]
    at: float  # time.monotonic() when it arrived
    status: int = 0  # 0 while the fake is still answering it
    result: Any = None


@dataclass
class Failure:
    status: int
    body: JSON
    headers: dict[str, str]


@dataclass
class Session:
    """One gateway session: its dispatches are numbered and kept, so a RESUME can replay them."""

    id: str
    intents: int = 0  # as sent in IDENTIFY
    events: list[JSON] = field(default_factory=list)
    socket: web.WebSocketResponse | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """discord.py decodes JSON only when Content-Type is exactly `application/json`."""
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    return web.Response(body=json.dumps(body).encode(), status=status, headers=all_headers)


def option_type(value: Any) -> int:
    """The application-command option type Discord would send for a Python value."""
    if isinstance(value, bool):
        return 5
    if isinstance(value, int):
        return 4
    if isinstance(value, float):
        return 10
    return 3


@dataclass
class FakeDiscord:
    token: str = TOKEN
    port: int = 0
    heartbeat_interval_ms: int = 41_250
    resumable: bool = True  # False: a RESUME gets INVALID_SESSION, as after a long outage
    calls: list[Call] = field(default_factory=list)
    failures: dict[str, list[Failure]] = field(default_factory=dict)
    commands: dict[int | None, list[JSON]] = field(default_factory=dict)  # guild (None: global)
    users: dict[int, JSON] = field(default_factory=dict)
    channels: dict[int, JSON] = field(default_factory=dict)
    messages: dict[int, JSON] = field(default_factory=dict)
    interactions: dict[str, JSON] = field(default_factory=dict)  # by token
    originals: dict[str, int] = field(default_factory=dict)  # token -> original response id
    sessions: dict[str, Session] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)  # user attachments, by id
    roles: list[JSON] = field(default_factory=list)  # the guild's roles besides @everyone
    heartbeats: int = 0
    _current: Session | None = None
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1_000_000_000_001))
    _runner: web.AppRunner | None = None
    _sockets: set[web.WebSocketResponse] = field(default_factory=set)

    # ------------------------------------------------------------ lifecycle

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gw/"

    async def start(self) -> FakeDiscord:
        for user in (BOT_USER, ALICE, BOB):
            self.users[int(user["id"])] = user
        self.channels[CHANNEL_ID] = self.text_channel(CHANNEL_ID, "study")
        app = web.Application()
        app.router.add_get("/gw/", self._gateway)
        app.router.add_route("*", "/api/v10/{path:.+}", self._api)
        app.router.add_get("/files/{attachment_id}/{filename}", self._file)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        for socket in list(self._sockets):
            await socket.close(code=1001)
        if self._runner:
            await self._runner.cleanup()

    @contextlib.contextmanager
    def pointed_at(self) -> Iterator[None]:
        """discord.py's REST base and gateway URL point here for the block, then are restored."""
        base, gateway = discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
        discord.http.Route.BASE = self.api_base  # type: ignore[misc]
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)
        try:
            yield
        finally:
            discord.http.Route.BASE = base  # type: ignore[misc]
            DiscordWebSocket.DEFAULT_GATEWAY = gateway

    @contextlib.asynccontextmanager
    async def running(self, client: discord.Client, timeout: float = 10.0) -> AsyncIterator[None]:
        """Run `client.start(token)` until READY; close it after (a restart is a new client)."""
        task = asyncio.create_task(client.start(self.token))

        def ready() -> bool:
            if task.done():
                task.result()  # raises the client's start-up error
                raise AssertionError("the client stopped before READY")
            return client.is_ready()

        try:
            await self.wait_for(ready, timeout, "the client to be ready")
            yield
        finally:
            await client.close()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, timeout)

    # ------------------------------------------------------------ scripting

    def fail(
        self,
        route: str,
        status: int = 429,
        *,
        retry_after: float = 0.05,
        via: bool = True,
        is_global: bool = False,
        times: int = 1,
    ) -> None:
        """Answer the next `times` calls of `route` (a template from ROUTES, e.g. `"POST
        /channels/{channel_id}/messages"`) with an error. A 429 carries `retry_after` and, with
        `via`, the `Via` header that makes discord.py retry (without it: a Cloudflare ban)."""
        body: JSON = {"message": f"Error {status}", "code": 0}
        headers: dict[str, str] = {}
        if status == 429:
            body = {"message": "You are being rate limited.", "retry_after": retry_after}
            body["global"] = is_global
            headers = {"X-RateLimit-Scope": "global" if is_global else "user"}
            if via:
                headers["Via"] = "1.1 google"
        failure = Failure(status, body, headers)
        self.failures.setdefault(route, []).extend(failure for _ in range(times))

    def of(self, route: str) -> list[Call]:
        return [c for c in self.calls if c.route == route]

    def succeeded(self, route: str) -> list[Call]:
        return [c for c in self.of(route) if 200 <= c.status < 300]

    async def wait_for(
        self, condition: Callable[[], Any], timeout: float = 10.0, what: str = ""
    ) -> Any:
        """Poll `condition` until it is truthy (bounded): no fixed sleeps in the tests."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = condition()
            if result:
                return result
            await asyncio.sleep(0.01)
        routes = [c.route if c.route != "UNKNOWN" else f"UNKNOWN {c.path}" for c in self.calls]
        raise AssertionError(f"timed out waiting for {what or condition}; calls: {routes}")

    async def wait_calls(self, route: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        """The first `count` successful calls of `route`, once they have arrived."""
        await self.wait_for(
            lambda: len(self.succeeded(route)) >= count, timeout, f"{count} {route}"
        )
        return self.succeeded(route)[:count]

    async def wait_callback(self, interaction: JSON, timeout: float = 10.0) -> Call:
        """The client's callback (reply, defer, update, choices) to `interaction`."""
        route = "POST /interactions/{interaction_id}/{token}/callback"

        def answered() -> Call | None:
            found = [c for c in self.succeeded(route) if c.params["token"] == interaction["token"]]
            return found[0] if found else None

        return await self.wait_for(answered, timeout, f"a callback to {interaction['id']}")

    def command_names(self, guild_id: int | None = None) -> list[str]:
        """Names of the application commands last registered (globally, or for `guild_id`)."""
        return [c["name"] for c in self.commands.get(guild_id, [])]

    def messages_in(self, channel_id: int) -> list[JSON]:
        """Messages currently in a channel, oldest first (edits applied, deletions gone)."""
        return [m for m in self.messages.values() if int(m["channel_id"]) == channel_id]

    def original(self, interaction: JSON) -> JSON | None:
        """The interaction's original response message, as last edited."""
        message_id = self.originals.get(interaction["token"])
        return self.messages.get(message_id) if message_id is not None else None

    # ------------------------------------------------------------ gateway scripting

    async def dispatch(self, event: str, data: JSON) -> None:
        """Send a DISPATCH to the current session; while it is disconnected the event waits for
        the RESUME (as on Discord)."""
        session = self._current
        if session is None:
            raise AssertionError("no gateway session: start a client first")
        frame = {"op": DISPATCH, "t": event, "s": len(session.events) + 1, "d": data}
        session.events.append(frame)
        if session.socket is not None and not session.socket.closed:
            await self._send(session, frame)

    async def interact(self, interaction: JSON) -> JSON:
        """Push an INTERACTION_CREATE built by `slash`, `button`, `select` or `autocomplete`."""
        self.interactions[interaction["token"]] = interaction
        await self.dispatch("INTERACTION_CREATE", interaction)
        return interaction

    async def say(
        self,
        content: str,
        user: JSON = ALICE,
        channel_id: int = CHANNEL_ID,
        *,
        reply_to: JSON | None = None,
        attachments: list[JSON] | None = None,
    ) -> JSON:
        """A user's MESSAGE_CREATE. As on Discord, a guild message's content is empty unless the
        client IDENTIFYed with the privileged message_content intent (DMs always carry it), or
        the message mentions the bot or replies to one of its messages (`reply_to`)."""
        channel = self.channels.get(channel_id, {})
        intents = self._current.intents if self._current else 0
        to_bot = f"<@{APP_ID}>" in content or f"<@!{APP_ID}>" in content
        to_bot = to_bot or (reply_to is not None and reply_to["author"]["id"] == str(APP_ID))
        if "guild_id" in channel and not intents & MESSAGE_CONTENT_INTENT and not to_bot:
            content = ""
        message = self.message(channel_id, user, content, attachments=attachments or [])
        if f"<@{APP_ID}>" in content or f"<@!{APP_ID}>" in content:
            message["mentions"] = [BOT_USER]
        if reply_to is not None:
            message["message_reference"] = {
                "message_id": reply_to["id"],
                "channel_id": str(channel_id),
            }
            message["referenced_message"] = reply_to
            message["type"] = 19  # a reply
        if "guild_id" in channel:
            message["guild_id"] = channel["guild_id"]
            member = self.member(user)
            member.pop("user")
            message["member"] = member
        await self.dispatch("MESSAGE_CREATE", message)
        return message

    def attachment(self, filename: str, content: bytes) -> JSON:
        """A file a user attached (to a message or a command option), downloadable from here."""
        attachment_id = str(next(self._ids))
        self.files[attachment_id] = content
        url = f"http://127.0.0.1:{self.port}/files/{attachment_id}/{filename}"
        return {
            "id": attachment_id,
            "filename": filename,
            "size": len(content),
            "url": url,
            "proxy_url": url,
        }

    async def drop_gateway(self, code: int = 4000) -> None:
        """Close the gateway socket as a network failure would; discord.py RESUMEs (code 4000) or
        gives up (4004 bad token, 4014 disallowed intents)."""
        session = self._current
        if session and session.socket is not None:
            socket, session.socket = session.socket, None
            await socket.close(code=code)

    async def request_reconnect(self) -> None:
        """Opcode 7 RECONNECT: the client closes and RESUMEs."""
        if self._current and self._current.socket is not None:
            await self._send(self._current, {"op": RECONNECT, "d": None})

    # ------------------------------------------------------------ payload builders

    def text_channel(self, channel_id: int, name: str, guild_id: int = GUILD_ID) -> JSON:
        return {
            "id": str(channel_id),
            "type": 0,
            "guild_id": str(guild_id),
            "name": name,
            "position": 0,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
            "topic": None,
            "last_message_id": None,
            "rate_limit_per_user": 0,
        }

    def dm_channel(self, user: JSON) -> JSON:
        """The DM channel with `user` (one per user, as on Discord)."""
        for channel in self.channels.values():
            if channel["type"] == 1 and channel["recipients"][0]["id"] == user["id"]:
                return channel
        channel_id = next(self._ids)
        channel = {"id": str(channel_id), "type": 1, "recipients": [user], "last_message_id": None}
        self.channels[channel_id] = channel
        return channel

    def role(self, name: str) -> JSON:
        """A role without permissions (add it before the client starts: GUILD_CREATE has it)."""
        role = {
            "id": str(next(self._ids)),
            "name": name,
            "permissions": "0",
            "position": len(self.roles) + 1,
            "color": 0,
            "hoist": False,
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }
        self.roles.append(role)
        return role

    def member(self, user: JSON, roles: list[str] | None = None) -> JSON:
        return {
            "user": user,
            "roles": roles or [],
            "joined_at": "2024-01-01T00:00:00+00:00",
            "deaf": False,
            "mute": False,
            "flags": 0,
            "nick": None,
            "avatar": None,
            "pending": False,
            "permissions": ALL_PERMISSIONS,
        }

    def guild(self) -> JSON:
        """The GUILD_CREATE payload: one guild, one text channel, the bot as its only member."""
        everyone = {
            "id": str(GUILD_ID),
            "name": "@everyone",
            "permissions": ALL_PERMISSIONS,
            "position": 0,
            "color": 0,
            "hoist": False,
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }
        channels = [c for c in self.channels.values() if c.get("guild_id") == str(GUILD_ID)]
        return {
            "id": str(GUILD_ID),
            "name": "Study group",
            "icon": None,
            "owner_id": ALICE["id"],
            "roles": [everyone, *self.roles],
            "emojis": [],
            "stickers": [],
            "features": [],
            "member_count": 1,
            "members": [self.member(BOT_USER)],
            "channels": channels,
            "threads": [],
            "presences": [],
            "voice_states": [],
            "unavailable": False,
            "large": False,
            "joined_at": "2024-01-01T00:00:00+00:00",
            "preferred_locale": "en-US",
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "system_channel_flags": 0,
            "afk_timeout": 300,
        }

    def message(self, channel_id: int, author: JSON, content: str = "", **extra: Any) -> JSON:
        return {
            "id": str(next(self._ids)),
            "channel_id": str(channel_id),
            "author": author,
            "content": content,
            "timestamp": now_iso(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "components": [],
            "pinned": False,
            "type": 0,
            "flags": 0,
            **extra,
        }

    def _interaction(
        self, kind: int, data: JSON, user: JSON, channel_id: int | None, **extra: Any
    ) -> JSON:
        """The fields every interaction has; `channel_id=None` means the user's DMs."""
        interaction_id = next(self._ids)
        payload: JSON = {
            "id": str(interaction_id),
            "application_id": str(APP_ID),
            "type": kind,
            "data": data,
            "token": f"itoken-{interaction_id}",
            "version": 1,
            "locale": "en-US",
            "app_permissions": ALL_PERMISSIONS,
            "attachment_size_limit": 10 * 1024 * 1024,
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(GUILD_ID)},
            **extra,
        }
        if channel_id is None:
            channel = self.dm_channel(user)
            payload |= {"user": user, "context": 1}
        else:
            channel = self.channels[channel_id]
            payload |= {"guild_id": channel["guild_id"], "member": self.member(user)}
            payload |= {"guild_locale": "en-US", "context": 0}
        payload |= {"channel": channel, "channel_id": channel["id"]}
        return payload

    def _command_data(self, name: str, options: JSON | list[JSON] | None) -> JSON:
        registered = [c for cs in self.commands.values() for c in cs if c["name"] == name]
        data: JSON = {"id": registered[0]["id"] if registered else str(next(self._ids))}
        data |= {"name": name, "type": 1}
        if registered and registered[0].get("guild_id"):
            data["guild_id"] = registered[0]["guild_id"]
        if isinstance(options, dict):
            options = [{"name": k, "type": option_type(v), "value": v} for k, v in options.items()]
        if options:
            data["options"] = options
        return data

    def slash(
        self,
        name: str,
        options: JSON | list[JSON] | None = None,
        *,
        user: JSON = ALICE,
        channel_id: int | None = CHANNEL_ID,
    ) -> JSON:
        """A slash-command interaction; `options` as {"topic": "s3"} (types inferred) or raw."""
        return self._interaction(APP_COMMAND, self._command_data(name, options), user, channel_id)

    def autocomplete(
        self,
        name: str,
        options: JSON,
        focused: str,
        *,
        user: JSON = ALICE,
        channel_id: int | None = CHANNEL_ID,
    ) -> JSON:
        """An autocomplete interaction for `name` while the user types option `focused`."""
        data = self._command_data(name, options)
        for option in data.get("options", []):
            if option["name"] == focused:
                option["focused"] = True
        return self._interaction(AUTOCOMPLETE, data, user, channel_id)

    def _component(
        self, data: JSON, message: JSON | None, user: JSON, channel_id: int | None
    ) -> JSON:
        if message is None:  # a message the bot sent before this server started
            target = self.dm_channel(user)["id"] if channel_id is None else channel_id
            message = self.message(int(target), BOT_USER, "(earlier message)")
        message = self.messages.get(int(message["id"]), message)
        return self._interaction(COMPONENT, data, user, channel_id, message=message)

    def button(
        self,
        custom_id: str,
        message: JSON | None = None,
        *,
        user: JSON = ALICE,
        channel_id: int | None = CHANNEL_ID,
    ) -> JSON:
        """A press on the button `custom_id` of `message` (the bot's message as last edited)."""
        data = {"custom_id": custom_id, "component_type": 2}
        return self._component(data, message, user, channel_id)

    def select(
        self,
        custom_id: str,
        values: list[str],
        message: JSON | None = None,
        *,
        user: JSON = ALICE,
        channel_id: int | None = CHANNEL_ID,
    ) -> JSON:
        """A choice in the string select menu `custom_id`."""
        data = {"custom_id": custom_id, "component_type": 3, "values": values}
        return self._component(data, message, user, channel_id)

    async def _file(self, request: web.Request) -> web.Response:
        content = self.files.get(request.match_info["attachment_id"])
        return web.Response(body=content) if content is not None else web.Response(status=404)

    # ------------------------------------------------------------ gateway

    async def _send(self, session: Session, frame: JSON) -> None:
        socket = session.socket
        if socket is None or socket.closed:
            return
        async with session.lock:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await socket.send_str(json.dumps(frame))

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._sockets.add(socket)
        session = Session(id="")  # replaced at IDENTIFY or RESUME
        session.socket = socket
        try:
            await self._send(
                session, {"op": HELLO, "d": {"heartbeat_interval": self.heartbeat_interval_ms}}
            )
            async for frame in socket:
                if frame.type is not WSMsgType.TEXT:
                    break
                session = await self._gateway_op(session, json.loads(frame.data))
        finally:
            self._sockets.discard(socket)
        return socket

    async def _gateway_op(self, session: Session, frame: JSON) -> Session:
        """Answer one client frame; returns the session this socket now belongs to."""
        op, data = frame.get("op"), frame.get("d")
        if op == HEARTBEAT:
            self.heartbeats += 1
            await self._send(session, {"op": HEARTBEAT_ACK})
        elif op == IDENTIFY:
            self._record_ws("WS IDENTIFY", data)
            if data.get("token") != self.token:
                assert session.socket is not None
                await session.socket.close(code=4004)  # Authentication failed
                return session
            intents = int(data.get("intents") or 0)
            return await self._identify(session.socket, intents, data.get("shard"))
        elif op == RESUME:
            self._record_ws("WS RESUME", data)
            return await self._resume(session.socket, data)
        return session

    async def _identify(
        self, socket: web.WebSocketResponse | None, intents: int, shard: list[int] | None = None
    ) -> Session:
        """READY then the guild; a sharded client's READY names its shard, as on Discord."""
        session = Session(id=f"session-{next(self._ids)}", intents=intents, socket=socket)
        self.sessions[session.id] = session
        self._current = session
        ready = {
            "v": 10,
            "user": BOT_USER,
            "guilds": [{"id": str(GUILD_ID), "unavailable": True}],
            "session_id": session.id,
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(APP_ID), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
        }
        if shard is not None:
            ready["shard"] = shard
        await self.dispatch("READY", ready)
        await self.dispatch("GUILD_CREATE", self.guild())
        return session

    async def _resume(self, socket: web.WebSocketResponse | None, data: JSON) -> Session:
        session = self.sessions.get(data.get("session_id") or "")
        if not self.resumable or session is None or data.get("token") != self.token:
            fresh = Session(id="", socket=socket)
            await self._send(fresh, {"op": INVALID_SESSION, "d": False})
            return fresh
        session.socket = socket
        self._current = session
        for frame in session.events[int(data.get("seq") or 0) :]:
            await self._send(session, frame)
        await self.dispatch("RESUMED", {})
        return session

    def _record_ws(self, route: str, data: JSON) -> None:
        self.calls.append(Call(route, "/gw/", {}, {}, data, [], time.monotonic(), status=200))

    # ------------------------------------------------------------ REST

    async def _api(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["path"]
        route, params = _match(request.method, path)
        body, files = await _body(request)
        call = Call(route, path, params, dict(request.query), body, files, time.monotonic())
        self.calls.append(call)
        if not path.startswith(UNAUTHENTICATED) and request.headers.get("Authorization") != (
            f"Bot {self.token}"
        ):
            call.status = 401
            return json_response({"message": "401: Unauthorized", "code": 0}, 401)
        if self.failures.get(route):
            failure = self.failures[route].pop(0)
            call.status = failure.status
            return json_response(failure.body, failure.status, failure.headers)
        handler = getattr(self, _handler_name(route), None)
        if handler is None:
            call.status = 404
            return json_response({"message": "404: Not Found", "code": 0}, 404)
        status, result = handler(call)
        call.status, call.result = status, result
        return web.Response(status=204) if status == 204 else json_response(result, status)

    # Handlers are named after their route: "POST /channels/{channel_id}/messages" is
    # `_post_channels_channel_id_messages`. Each returns (status, JSON body).

    def _get_gateway(self, call: Call) -> tuple[int, Any]:
        return 200, {"url": self.gateway_url}

    def _get_gateway_bot(self, call: Call) -> tuple[int, Any]:
        limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        return 200, {"url": self.gateway_url, "shards": 1, "session_start_limit": limit}

    def _get_users_me(self, call: Call) -> tuple[int, Any]:
        return 200, BOT_USER

    def _get_oauth2_applications_me(self, call: Call) -> tuple[int, Any]:
        return 200, {
            "id": str(APP_ID),
            "name": "StudyBot",
            "description": "",
            "icon": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": ALICE,
            "verify_key": "0" * 64,
            "flags": 0,
            "summary": "",
        }

    _get_applications_me = _get_oauth2_applications_me

    def _get_users_user_id(self, call: Call) -> tuple[int, Any]:
        user = self.users.get(int(call.params["user_id"]))
        return (200, user) if user else (404, {"message": "Unknown User", "code": 10013})

    def _post_users_me_channels(self, call: Call) -> tuple[int, Any]:
        user_id = int(call.json["recipient_id"])
        user = self.users.get(user_id) or ALICE | {"id": str(user_id), "username": f"u{user_id}"}
        return 200, self.dm_channel(user)

    def _put_commands(self, call: Call, guild_id: int | None) -> tuple[int, Any]:
        registered = []
        for command in call.json:
            entry = {"type": 1, "options": [], "nsfw": False, **command}
            entry |= {"id": str(next(self._ids)), "application_id": str(APP_ID), "version": "1"}
            entry.setdefault("default_member_permissions", None)
            if guild_id is not None:
                entry["guild_id"] = str(guild_id)
            registered.append(entry)
        self.commands[guild_id] = registered
        return 200, registered

    def _put_applications_application_id_commands(self, call: Call) -> tuple[int, Any]:
        return self._put_commands(call, None)

    def _put_applications_application_id_guilds_guild_id_commands(
        self, call: Call
    ) -> tuple[int, Any]:
        return self._put_commands(call, int(call.params["guild_id"]))

    def _get_applications_application_id_commands(self, call: Call) -> tuple[int, Any]:
        return 200, self.commands.get(None, [])

    def _get_applications_application_id_guilds_guild_id_commands(
        self, call: Call
    ) -> tuple[int, Any]:
        return 200, self.commands.get(int(call.params["guild_id"]), [])

    def _get_channels_channel_id(self, call: Call) -> tuple[int, Any]:
        channel = self.channels.get(int(call.params["channel_id"]))
        return (200, channel) if channel else (404, {"message": "Unknown Channel", "code": 10003})

    def _post_channels_channel_id_typing(self, call: Call) -> tuple[int, Any]:
        return 204, None

    def _get_channels_channel_id_messages_message_id(self, call: Call) -> tuple[int, Any]:
        return self._existing(call.params["message_id"], lambda m: m)

    def _post_channels_channel_id_messages(self, call: Call) -> tuple[int, Any]:
        channel_id = int(call.params["channel_id"])
        if channel_id not in self.channels:
            return 404, {"message": "Unknown Channel", "code": 10003}
        return 200, self._create(channel_id, call)

    def _patch_channels_channel_id_messages_message_id(self, call: Call) -> tuple[int, Any]:
        return self._existing(call.params["message_id"], lambda m: self._edit(m, call))

    def _delete_channels_channel_id_messages_message_id(self, call: Call) -> tuple[int, Any]:
        status, result = self._existing(call.params["message_id"], self._delete)
        return (204, None) if status == 200 else (status, result)

    def _get_guilds_guild_id_members_user_id(self, call: Call) -> tuple[int, Any]:
        user = self.users.get(int(call.params["user_id"]))
        return (
            (200, self.member(user))
            if user
            else (404, {"message": "Unknown Member", "code": 10007})
        )

    # ------------------------------------------------------------ interactions and webhooks

    def _post_interactions_interaction_id_token_callback(self, call: Call) -> tuple[int, Any]:
        interaction = self.interactions.get(call.params["token"])
        if interaction is None or interaction["id"] != call.params["interaction_id"]:
            return 404, {"message": "Unknown interaction", "code": 10062}
        earlier = [c for c in self.succeeded(call.route) if c is not call]
        if any(c.params["token"] == interaction["token"] for c in earlier):
            return 400, {"message": "Interaction has already been acknowledged.", "code": 40060}
        kind, data = call.json["type"], call.json.get("data") or {}
        message = self._callback_message(interaction, kind, data, call)
        if message is not None:
            self.originals[interaction["token"]] = int(message["id"])
        if call.query.get("with_response") not in ("1", "true", "True"):
            return 204, None
        flags = int(data.get("flags") or 0)
        response: JSON = {"id": interaction["id"], "type": interaction["type"]}
        if message is not None:
            response |= {"response_message_id": message["id"]}
            response |= {"response_message_loading": kind == DEFERRED_REPLY}
            response |= {"response_message_ephemeral": bool(flags & EPHEMERAL)}
        result: JSON = {"interaction": response}
        if message is not None and kind in (REPLY, UPDATE):
            result["resource"] = {"type": kind, "message": message}
        return 200, result

    def _callback_message(
        self, interaction: JSON, kind: int, data: JSON, call: Call
    ) -> JSON | None:
        """The message a callback creates or touches (None for choices and modals)."""
        channel_id = int(interaction["channel_id"])
        flags = int(data.get("flags") or 0)
        if kind == REPLY:
            return self._create(channel_id, call, data, interaction)
        if kind == DEFERRED_REPLY:
            placeholder = self._create(channel_id, call, {"flags": flags | LOADING}, interaction)
            return placeholder
        if kind in (DEFERRED_UPDATE, UPDATE) and "message" in interaction:
            message = self.messages.setdefault(
                int(interaction["message"]["id"]), interaction["message"]
            )
            return self._edit(message, call, data) if kind == UPDATE else message
        return None

    def _post_webhooks_application_id_token(self, call: Call) -> tuple[int, Any]:
        interaction = self.interactions.get(call.params["token"])
        if interaction is None:
            return 404, {"message": "Unknown Webhook", "code": 10015}
        message = self._create(int(interaction["channel_id"]), call, None, interaction)
        return (200, message) if call.query.get("wait") in ("true", "1") else (204, None)

    def _original(self, call: Call) -> str:
        return str(self.originals.get(call.params["token"], "missing"))

    def _get_webhooks_application_id_token_messages_original(self, call: Call) -> tuple[int, Any]:
        return self._existing(self._original(call), lambda m: m)

    def _patch_webhooks_application_id_token_messages_original(self, call: Call) -> tuple[int, Any]:
        return self._existing(self._original(call), lambda m: self._edit(m, call, loaded=True))

    def _delete_webhooks_application_id_token_messages_original(
        self, call: Call
    ) -> tuple[int, Any]:
        status, result = self._existing(self._original(call), self._delete)
        return (204, None) if status == 200 else (status, result)

    def _patch_webhooks_application_id_token_messages_message_id(
        self, call: Call
    ) -> tuple[int, Any]:
        return self._existing(call.params["message_id"], lambda m: self._edit(m, call))

    def _delete_webhooks_application_id_token_messages_message_id(
        self, call: Call
    ) -> tuple[int, Any]:
        status, result = self._existing(call.params["message_id"], self._delete)
        return (204, None) if status == 200 else (status, result)

    # ------------------------------------------------------------ message store

    def _existing(self, message_id: str, action: Callable[[JSON], Any]) -> tuple[int, Any]:
        message = self.messages.get(int(message_id)) if message_id.isdigit() else None
        if message is None:
            return 404, {"message": "Unknown Message", "code": 10008}
        return 200, action(message)

    def _create(
        self,
        channel_id: int,
        call: Call,
        data: JSON | None = None,
        interaction: JSON | None = None,
    ) -> JSON:
        """A bot message from a request body (JSON or multipart `payload_json` + files)."""
        data = call.json if data is None else data
        message = self.message(channel_id, BOT_USER, data.get("content") or "")
        self._apply(message, data, call.files)
        message["flags"] = int(data.get("flags") or 0)
        channel = self.channels.get(channel_id, {})
        if "guild_id" in channel:
            message["guild_id"] = channel["guild_id"]
        if interaction is not None:
            message["webhook_id"] = str(APP_ID)
            message["application_id"] = str(APP_ID)
            message["interaction_metadata"] = {
                "id": interaction["id"],
                "type": interaction["type"],
                "user": interaction.get("user") or interaction["member"]["user"],
                "authorizing_integration_owners": {},
            }
        self.messages[int(message["id"])] = message
        return message

    def _edit(
        self, message: JSON, call: Call, data: JSON | None = None, loaded: bool = False
    ) -> JSON:
        """Apply an edit; `loaded` ends a deferred response's "thinking" state."""
        self._apply(message, call.json if data is None else data, call.files)
        message["edited_timestamp"] = now_iso()
        if loaded:
            message["flags"] = int(message.get("flags", 0)) & ~LOADING
        return message

    def _apply(self, message: JSON, data: JSON, files: list[Upload]) -> None:
        for key in ("content", "embeds", "components", "poll"):
            if key in data and data[key] is not None:
                message[key] = data[key]
        if "attachments" in data or files:
            message["attachments"] = self._attachments(
                data.get("attachments") or [], files, message
            )

    def _attachments(self, wanted: list[JSON], files: list[Upload], message: JSON) -> list[JSON]:
        """Kept attachments (by id) plus uploaded files, with the fields discord.py parses."""
        kept = {a["id"]: a for a in message.get("attachments", [])}
        result = [kept[str(a["id"])] for a in wanted if str(a.get("id")) in kept]
        for upload in files:
            attachment_id = str(next(self._ids))
            url = f"http://127.0.0.1:{self.port}/attachments/{attachment_id}/{upload.filename}"
            result.append(
                {
                    "id": attachment_id,
                    "filename": upload.filename,
                    "size": len(upload.content),
                    "url": url,
                    "proxy_url": url,
                }
            )
        return result

    def _delete(self, message: JSON) -> None:
        self.messages.pop(int(message["id"]), None)

    def uploads(self, message: JSON) -> list[Upload]:
        """The files uploaded with the call that created or last edited `message`."""
        for call in reversed(self.calls):
            if call.files and call.result is not None and _mentions(call.result, message["id"]):
                return call.files
        return []


def _mentions(result: Any, message_id: str) -> bool:
    if not isinstance(result, dict):
        return False
    if result.get("id") == message_id:
        return True
    resource = result.get("resource") or {}
    return (resource.get("message") or {}).get("id") == message_id


def _match(method: str, path: str) -> tuple[str, dict[str, str]]:
    for route_method, template, pattern in COMPILED:
        found = pattern.match(path)
        if route_method == method and found:
            return f"{method} {template}", found.groupdict()
    return "UNKNOWN", {}


def _handler_name(route: str) -> str:
    """ "POST /channels/{channel_id}/messages" -> "_post_channels_channel_id_messages"."""
    return "_" + re.sub(r"[^a-z0-9]+", "_", route.lower()).strip("_")


async def _body(request: web.Request) -> tuple[Any, list[Upload]]:
    """JSON body, or multipart: `payload_json` decoded, each file part as an Upload."""
    if not request.can_read_body:
        return None, []
    if not request.content_type.startswith("multipart/"):
        text = await request.text()
        return (json.loads(text) if text else None), []
    payload: Any = None
    files: list[Upload] = []
    async for part in await request.multipart():
        content = await part.read()  # type: ignore[union-attr]
        filename = part.filename  # type: ignore[union-attr]
        if filename:
            files.append(Upload(part.name or "", filename, bytes(content)))
        elif part.name == "payload_json":
            payload = json.loads(content)
    return payload, files

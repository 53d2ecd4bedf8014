"""A fake Bot API server on 127.0.0.1 for the real python-telegram-bot Application.

It serves scripted updates through getUpdates and records every other call with its decoded
form fields (nested values such as `reply_markup` or `options` arrive as JSON strings and are
decoded). Shapes follow the real API as python-telegram-bot 22.8 parses them: a Poll has
`allows_revoting`, `members_only` and options with `persistent_id`; an error is
`{"ok": false, "error_code": ..., "parameters": {"retry_after": N}}`. Unknown methods answer
400 (a 404 would surface as InvalidToken). A wrong token answers 401.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TOKEN = "123456:TEST-token"
BOT = {"id": 123456, "is_bot": True, "first_name": "Study", "username": "StudyTestBot"}
JSON = dict[str, Any]


@dataclass
class Call:
    method: str
    fields: JSON
    at: float  # time.monotonic() when it arrived
    result: Any = None


@dataclass
class Failure:
    status: int
    body: JSON


@dataclass
class FakeTelegram:
    token: str = TOKEN
    port: int = 0
    calls: list[Call] = field(default_factory=list)
    updates: list[JSON] = field(default_factory=list)
    failures: dict[str, list[Failure]] = field(default_factory=dict)
    members: dict[tuple[int, int], str] = field(default_factory=dict)  # (chat, user) -> status
    chats: dict[int, JSON] = field(default_factory=dict)
    messages: dict[tuple[int, int], JSON] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    get_updates_calls: int = 0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))
    _update_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _runner: web.AppRunner | None = None

    # ------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    async def start(self) -> FakeTelegram:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    # ------------------------------------------------------------ scripting

    def push(self, **update: Any) -> int:
        """Queue an update (`message=...`, `callback_query=...`, ...); returns its id."""
        update_id = next(self._update_ids)
        self.updates.append({"update_id": update_id, **update})
        self._arrived.set()
        return update_id

    def fail(
        self, method: str, status: int = 429, retry_after: int | None = None, times: int = 1
    ) -> None:
        """Answer the next `times` calls of `method` with an error (a 429 carries retry_after);
        e.g. `fail("sendMessage", 500, times=3)` is a short outage the client's retries span."""
        body: JSON = {"ok": False, "error_code": status, "description": f"Error {status}"}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
            body["description"] = f"Too Many Requests: retry after {retry_after}"
        self.failures.setdefault(method, []).extend(Failure(status, body) for _ in range(times))

    def of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

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
        methods = [c.method for c in self.calls]
        raise AssertionError(f"timed out waiting for {what or condition}; calls: {methods}")

    async def wait_calls(self, method: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        """The first `count` calls of `method`, once they have arrived."""
        await self.wait_for(lambda: len(self.of(method)) >= count, timeout, f"{count} {method}")
        return self.of(method)[:count]

    # ------------------------------------------------------------ update builders

    def chat(self, chat_id: int, kind: str = "private", **extra: Any) -> JSON:
        chat: JSON = {"id": chat_id, "type": kind, **extra}
        if kind == "private":
            chat.setdefault("first_name", "Student")
        else:
            chat.setdefault("title", "Study group")
        self.chats[chat_id] = chat
        return chat

    def message(
        self,
        chat: JSON,
        user: JSON,
        text: str,
        *,
        reply_to: JSON | None = None,
        thread: int | None = None,
        **extra: Any,
    ) -> JSON:
        """A user's message; a leading /command gets its bot_command entity, as Telegram does."""
        message: JSON = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": chat,
            "from": user,
            **extra,
        }
        if text:
            message["text"] = text
        if text.startswith("/"):
            length = len(text.split()[0])
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        if thread is not None:
            message |= {"message_thread_id": thread, "is_topic_message": True}
        return message

    def say(self, chat: JSON, user: JSON, text: str, **kwargs: Any) -> JSON:
        message = self.message(chat, user, text, **kwargs)
        self.push(message=message)
        return message

    def press(self, user: JSON, message: JSON, data: str) -> None:
        """A tap on an inline button of `message` (as the bot last left it)."""
        query = {
            "id": str(next(self._ids)),
            "from": user,
            "chat_instance": "ci-1",
            "message": self.messages.get((message["chat"]["id"], message["message_id"]), message),
            "data": data,
        }
        self.push(callback_query=query)

    def vote(self, user: JSON, poll: JSON, option_ids: list[int]) -> None:
        """A poll_answer as 22.8 parses it: option_ids and their persistent ids."""
        persistent = [poll["options"][i]["persistent_id"] for i in option_ids]
        self.push(
            poll_answer={
                "poll_id": poll["id"],
                "user": user,
                "option_ids": option_ids,
                "option_persistent_ids": persistent,
            }
        )

    # ------------------------------------------------------------ the API

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        fields = await _fields(request)
        if method == "getUpdates":
            return await self._get_updates(fields)
        self.calls.append(Call(method, fields, time.monotonic()))
        if self.failures.get(method):
            failure = self.failures[method].pop(0)
            return web.json_response(failure.body, status=failure.status)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return _error(400, f"Bad Request: method {method} not found")
        self.calls[-1].result = handler(fields)
        return web.json_response({"ok": True, "result": self.calls[-1].result})

    async def _get_updates(self, fields: JSON) -> web.Response:
        """Confirm updates below `offset`, then hand out the rest, holding the request briefly
        when there are none (like long polling, so the client does not spin)."""
        self.get_updates_calls += 1
        offset = int(fields.get("offset") or 0)
        self.updates = [u for u in self.updates if u["update_id"] >= offset]
        if not self.updates:
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), 0.1)
        return web.json_response({"ok": True, "result": self.updates[:100]})

    async def _file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        content = self.files.get(request.match_info["path"])
        return web.Response(body=content) if content is not None else web.Response(status=404)

    # ------------------------------------------------------------ methods

    def _m_getMe(self, fields: JSON) -> JSON:
        return BOT | {"can_join_groups": True, "can_read_all_group_messages": False}

    def _m_deleteWebhook(self, fields: JSON) -> bool:
        return True

    def _m_setWebhook(self, fields: JSON) -> bool:
        return True

    def _m_setMyCommands(self, fields: JSON) -> bool:
        return True

    def _m_answerCallbackQuery(self, fields: JSON) -> bool:
        return True

    def _m_sendChatAction(self, fields: JSON) -> bool:
        return True

    def _m_getChatMember(self, fields: JSON) -> JSON:
        chat_id, user_id = int(fields["chat_id"]), int(fields["user_id"])
        status = self.members.get((chat_id, user_id), "member")
        user = {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"}
        if status == "creator":
            return {"status": "creator", "user": user, "is_anonymous": False}
        if status == "administrator":
            rights = (
                "can_be_edited is_anonymous can_manage_chat can_delete_messages "
                "can_manage_video_chats can_restrict_members can_promote_members can_change_info "
                "can_invite_users can_post_stories can_edit_stories can_delete_stories"
            )
            return {"status": "administrator", "user": user} | dict.fromkeys(rights.split(), False)
        return {"status": "member", "user": user}

    def _sent(self, fields: JSON, **content: Any) -> JSON:
        """A Message from the bot, stored so that button presses can quote it."""
        chat_id = int(fields["chat_id"])
        message: JSON = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": self.chats.get(chat_id) or self.chat(chat_id),
            "from": BOT,
            **content,
        }
        if "message_thread_id" in fields:
            message |= {"message_thread_id": int(fields["message_thread_id"])}
            message["is_topic_message"] = True
        if fields.get("reply_markup"):
            message["reply_markup"] = fields["reply_markup"]
        self.messages[(chat_id, message["message_id"])] = message
        return message

    def _m_sendMessage(self, fields: JSON) -> JSON:
        return self._sent(fields, text=fields["text"])

    def _m_sendPhoto(self, fields: JSON) -> JSON:
        photo = [{"file_id": "photo-1", "file_unique_id": "p1", "width": 1, "height": 1}]
        return self._sent(fields, photo=photo)

    def _m_sendDocument(self, fields: JSON) -> JSON:
        return self._sent(fields, document={"file_id": "doc-1", "file_unique_id": "d1"})

    def _m_sendPoll(self, fields: JSON) -> JSON:
        texts = [
            o["text"] if isinstance(o, dict) else o for o in fields["options"]
        ]  # InputPollOption
        options = [
            {"text": text, "voter_count": 0, "persistent_id": f"o{n}"}
            for n, text in enumerate(texts)
        ]
        poll: JSON = {
            "id": f"poll-{next(self._ids)}",
            "question": fields["question"],
            "options": options,
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": fields.get("is_anonymous") in ("true", "True"),
            "type": fields.get("type", "regular"),
            "allows_multiple_answers": False,
            "allows_revoting": False,
            "members_only": False,
        }
        if "correct_option_ids" in fields:
            poll["correct_option_ids"] = fields["correct_option_ids"]
        if "explanation" in fields:
            poll["explanation"] = fields["explanation"]
        return self._sent(fields, poll=poll)

    def _edited(self, fields: JSON, **changes: Any) -> JSON:
        key = (int(fields["chat_id"]), int(fields["message_id"]))
        message = self.messages[key]
        message.update(changes)
        message["edit_date"] = int(time.time())
        if "reply_markup" in fields:
            message["reply_markup"] = fields["reply_markup"]
        else:
            message.pop("reply_markup", None)
        return message

    def _m_editMessageText(self, fields: JSON) -> JSON:
        return self._edited(fields, text=fields["text"])

    def _m_editMessageReplyMarkup(self, fields: JSON) -> JSON:
        return self._edited(fields)

    def _m_getFile(self, fields: JSON) -> JSON:
        file_id = fields["file_id"]
        return {"file_id": file_id, "file_unique_id": file_id, "file_path": f"documents/{file_id}"}


async def _fields(request: web.Request) -> JSON:
    """Form fields (urlencoded or multipart), nested JSON values decoded."""
    if not request.can_read_body:
        return {}
    if request.content_type.startswith("multipart/"):
        data: JSON = {}
        async for part in await request.multipart():
            if part.filename:  # type: ignore[union-attr]
                data[part.name or ""] = await part.read()  # type: ignore[union-attr]
            else:
                data[part.name or ""] = await part.text()  # type: ignore[union-attr]
    else:
        data = dict(await request.post())
    return {key: _decode(value) for key, value in data.items()}


def _decode(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _error(status: int, description: str) -> web.Response:
    body = {"ok": False, "error_code": status, "description": description}
    return web.json_response(body, status=status)

"""A WeChat gateway on loopback for tests: npm wechaty-puppet-service serving wechaty-puppet-mock, no TLS.

`Gateway` starts tests/wechat_gateway/server.cjs, makes mocked contacts speak through its control interface,
reads what the bot sent, and can be killed and started again on the same port.
"""
from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp

from tests.npm import node_modules

SERVER = Path(__file__).with_name("wechat_gateway") / "server.cjs"
PACKAGES = ("wechaty-puppet-service@1.19.9", "wechaty-puppet-mock@1.19.4", "wechaty-puppet@1.21.3")
BOT = {"id": "wxid_doorstep", "name": "家门口"}
AUNT = {"id": "wxid_wang", "name": "王阿姨"}
LI = {"id": "wxid_li", "name": "李建国"}
CHEN = {"id": "wxid_chen", "name": "陈志远"}
ZHAO = {"id": "wxid_zhao", "name": "赵红梅"}
STRANGER = {"id": "wxid_stranger", "name": "路人"}
ROOM = {"id": "b3@chatroom", "topic": "3号楼业主群"}


class Gateway:
    """One gateway process and its control interface."""

    def __init__(self) -> None:
        self.modules = node_modules("npm-wechaty", *PACKAGES)
        self.token = f"doorstep-test-{uuid.uuid4().hex[:8]}"
        self.grpc_port = self.control_port = 0  # chosen by the server at its first start, kept after
        self.process: subprocess.Popen | None = None
        self.run = 0
        self.seen = 0  # messages sent before this, by an earlier test, are not shown
        handle, name = tempfile.mkstemp(prefix="wechat-gateway-", suffix=".log")
        os.close(handle)
        self._stderr = Path(name)  # what node says, for the reason a start failed

    @property
    def endpoint(self) -> str:
        """host:port of the gRPC puppet service."""
        return f"127.0.0.1:{self.grpc_port}"

    def start(self) -> None:
        """Start the server and wait for its ready line (the port opens before the service is ready).

        The first start lets the server choose its ports; a restart keeps them, and if one is still held (a port
        freed by the kill can be drawn by an outbound connection meanwhile) waits and tries again, a few times,
        before failing with what node said."""
        self.run += 1
        said = ""
        for _ in range(5):
            if self._spawn():
                return
            said = self._stderr.read_text(errors="replace")
            self.process = None
            if "EADDRINUSE" not in said:
                break
            if self.run > 1:
                time.sleep(0.5)  # a restart must keep its endpoint: give whoever holds the port a moment
        raise AssertionError(f"the WeChat test gateway did not start: {said[-2000:]}")

    def _spawn(self) -> bool:
        """One attempt to run the server; True once it says READY."""
        contacts = [AUNT, LI, CHEN, ZHAO, STRANGER]
        world = {"token": self.token, "grpcPort": self.grpc_port, "controlPort": self.control_port,
                 "run": f"r{self.run}", "user": BOT, "contacts": contacts,
                 "rooms": [{**ROOM, "members": [c["id"] for c in contacts]}]}
        with self._stderr.open("w") as stderr:
            self.process = subprocess.Popen(["node", str(SERVER), json.dumps(world, ensure_ascii=False)],
                                            stdout=subprocess.PIPE, stderr=stderr, text=True,
                                            env={**os.environ, "NODE_PATH": str(self.modules)})
        self.seen = 0
        line = self.process.stdout.readline()
        if line.startswith("READY"):
            ports = json.loads(line.removeprefix("READY"))
            self.grpc_port, self.control_port = ports["grpc"], ports["control"]
            return True
        self.process.wait(10)
        return False

    def kill(self) -> None:
        """Kill the server outright, as a crash would."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None

    async def _call(self, method: str, path: str, payload: dict | None = None):
        async with aiohttp.ClientSession() as client:
            async with client.request(method, f"http://127.0.0.1:{self.control_port}{path}", json=payload) as answer:
                return await answer.json()

    async def say(self, who: dict, text: str, *, room: dict | None = None, mentions: tuple[dict, ...] = (),
                  message_id: str | None = None, kind: str = "text", image: bytes | None = None) -> str:
        """A mocked contact writes (or sends an "image", with its bytes, or a "voice" message), in the room or
        privately to the bot; returns the message id."""
        payload = {"talker": who["id"], "text": text, "mentions": [m["id"] for m in mentions], "type": kind}
        if image is not None:
            payload["image"] = base64.b64encode(image).decode()
        if room is not None:
            payload["room"] = room["id"]
        if message_id is not None:
            payload["id"] = message_id
        return (await self._call("POST", "/say", payload))["id"]

    async def redeliver(self, message_id: str) -> None:
        """The gateway announces a message it announced before."""
        await self._call("POST", "/redeliver", {"id": message_id})

    async def befriend(self, who: dict, hello: str = "") -> str:
        """A mocked contact asks to be the bot's friend; returns the request's id."""
        return (await self._call("POST", "/befriend", {"contact": who["id"], "hello": hello}))["id"]

    async def accepted(self) -> list[str]:
        """The friend requests the bot accepted."""
        return await self._call("GET", "/accepted")

    async def sent(self) -> list[dict]:
        """What the bot sent through this server since forget(): conversationId, text, mentionIds."""
        return (await self._call("GET", "/sent"))[self.seen:]

    async def forget(self) -> None:
        """Start a new test: what was sent so far is no longer shown."""
        self.seen += len(await self.sent())

    async def sent_to(self, chat: dict) -> list[dict]:
        """What the bot sent to one room or contact."""
        return [m for m in await self.sent() if m["conversationId"] == chat["id"]]

    async def wait_for(self, chat: dict, contains: str, timeout: float = 10) -> dict:
        """The first message to `chat` containing `contains`, waiting for it to arrive."""
        async def find() -> dict:
            while True:
                found = [m for m in await self.sent_to(chat) if contains in m["text"]]
                if found:
                    return found[0]
                await asyncio.sleep(0.05)
        return await asyncio.wait_for(find(), timeout)

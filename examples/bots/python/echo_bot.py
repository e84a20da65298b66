#!/usr/bin/env python3
"""An example chat bot in Python, on the raw WebSocket gateway (docs/PROTOCOL.md, "Raw WebSocket gateway").

It signs in over HTTP, connects to /gateway with its access token, and in every room it is a member of
answers "!echo <text>" with "echo: <text>" (as a reply to that message) and marks what it read. After a lost
connection it reconnects with jittered back-off and catches up with `sync` from the last seq it saw, so it
neither misses nor answers a message twice. Needs Python 3.9+ and `pip install websockets` (15 or later).

    CHAT_URL=http://127.0.0.1:3000 CHAT_USERNAME=echo_bot CHAT_PASSWORD='…' python3 echo_bot.py

It prints one line per thing it does ("ready …" once connected and synced), for people and for the test
that runs it (apps/server/test/gateway.bot.test.ts).
"""
import asyncio
import itertools
import json
import os
import random
import sys
import urllib.request
import uuid

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

CHAT_URL = os.environ.get("CHAT_URL", "http://127.0.0.1:3000").rstrip("/")
GATEWAY_URL = CHAT_URL.replace("http", "ws", 1) + "/gateway"


def log(*parts):
    print(*parts, flush=True)


def sign_in():
    body = json.dumps({"username": os.environ["CHAT_USERNAME"], "password": os.environ["CHAT_PASSWORD"]}).encode()
    request = urllib.request.Request(CHAT_URL + "/api/auth/login", data=body, headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        answer = json.load(response)
    return answer["accessToken"], answer["user"]["id"]


class Bot:
    def __init__(self):
        self.ids = itertools.count(1)
        self.pending = {}  # request id -> future of its answer frame
        self.last_seq = {}  # room id -> the last seq this bot has handled

    async def request(self, ws, event, data):
        request_id = next(self.ids)
        answer = asyncio.get_running_loop().create_future()
        self.pending[request_id] = answer
        await ws.send(json.dumps({"id": request_id, "event": event, "data": data}))
        return await asyncio.wait_for(answer, 30)

    async def handle(self, ws, message, me):
        room, seq = message["roomId"], message["seq"]
        if seq <= self.last_seq.get(room, 0):
            return  # seen already (a live copy and the same message from sync)
        self.last_seq[room] = seq
        if message["senderId"] != me and message["content"].startswith("!echo "):
            text = message["content"][len("!echo "):]
            frame = await self.request(ws, "message:send", {"id": str(uuid.uuid4()), "roomId": room, "content": f"echo: {text}", "replyTo": message["id"]})
            log("answered", seq, "ok" if frame.get("ack", {}).get("ok") else json.dumps(frame))
        # Receipts need no answer: no id.
        await ws.send(json.dumps({"event": "message:read", "data": {"roomId": room, "seq": seq}}))

    async def session(self, token, me):
        async with connect(GATEWAY_URL, additional_headers={"Authorization": f"Bearer {token}"}) as ws:
            reader = asyncio.create_task(self.read(ws, me))
            try:
                await reader
            finally:
                reader.cancel()

    async def read(self, ws, me):
        async for raw in ws:
            frame = json.loads(raw)
            if "id" in frame and frame["id"] in self.pending:
                self.pending.pop(frame["id"]).set_result(frame)
            elif frame.get("event") == "hello":
                asyncio.create_task(self.catch_up(ws, frame["data"], me))
            elif frame.get("event") == "message:new":
                asyncio.create_task(self.handle(ws, frame["data"], me))
            elif frame.get("event") == "error":
                log("refused", json.dumps(frame["data"]))

    async def catch_up(self, ws, hello, me):
        # First start: begin at each room's end (no answers to old messages); after a reconnect: from the last seen.
        rooms = []
        for room in hello["rooms"]:
            self.last_seq.setdefault(room["roomId"], room["lastSeq"])
            rooms.append({"roomId": room["roomId"], "afterSeq": self.last_seq[room["roomId"]]})
        frame = await self.request(ws, "sync", {"rooms": rooms})
        for room in frame["ack"]["rooms"]:
            for message in room["messages"]:
                await self.handle(ws, message, me)
        log("ready", hello["node"], len(rooms), "room(s)")


async def main():
    bot = Bot()
    failures = 0
    while True:
        try:
            token, me = sign_in()
            await bot.session(token, me)
            failures = 0
        except ConnectionClosed as closed:
            code = closed.rcvd.code if closed.rcvd else 1006
            log("closed", code, closed.rcvd.reason if closed.rcvd else "")
            if code in (4401, 4403):
                return 1  # fix the credentials; retrying will not help
        except OSError as error:
            log("cannot connect", error)
        failures += 1
        # Full jitter, capped at 5 s (the SDK's rule); a node that is going away asks for the same.
        await asyncio.sleep(random.uniform(0, min(5.0, 0.5 * 2 ** min(failures, 4))))


if __name__ == "__main__":
    try:
        sys.exit(asyncio.run(main()))
    except KeyboardInterrupt:
        sys.exit(0)

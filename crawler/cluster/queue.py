"""The reliable queue from the workers to the ingester.

Workers push messages on the left of ``items``. The ingester moves them, oldest first,
to ``processing`` (BLMOVE, then a Lua script for the rest of a batch: atomic moves, so a
message is always in one list or the other), writes them to SQLite, commits, and only then
removes them from ``processing`` (LREM). If the ingester dies before that, the next one
starts by moving everything left in ``processing`` back to the consuming end of ``items``
(``recover``): a message is lost by no crash, and is written twice only if the ingester
died between its commit and its LREM, which the recorder's idempotent writes absorb
(an article is one URL; a second copy is an unchanged re-check).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from redis import Redis

from crawler.cluster.keys import Keys

# Move up to ARGV[1] more messages from the consuming end of items to processing.
CLAIM = """
local taken = {}
for i = 1, tonumber(ARGV[1]) do
  local message = redis.call('LMOVE', KEYS[1], KEYS[2], 'RIGHT', 'LEFT')
  if not message then break end
  taken[#taken + 1] = message
end
return taken
"""

# Everything in processing back to the consuming end of items, in its original order.
RECOVER = """
local n = 0
while redis.call('LMOVE', KEYS[2], KEYS[1], 'LEFT', 'RIGHT') do n = n + 1 end
return n
"""


class ItemQueue:
    def __init__(self, server: Redis, keys: Keys) -> None:
        self.server, self.keys = server, keys

    # -- the workers' side --------------------------------------------------------------

    def push(self, message: str) -> None:
        self.server.lpush(self.keys.items, message)

    # -- the ingester's side ------------------------------------------------------------

    def recover(self) -> int:
        """Requeue what a previous ingester took and never committed."""
        return int(self.server.eval(RECOVER, 2, self.keys.items, self.keys.processing))

    def claim(self, most: int, wait: float) -> list[bytes]:
        """Take up to ``most`` messages, oldest first, waiting up to ``wait`` s for one."""
        first = self.server.blmove(self.keys.items, self.keys.processing, wait, "RIGHT", "LEFT")
        if first is None:
            return []
        rest = self.server.eval(CLAIM, 2, self.keys.items, self.keys.processing, most - 1)
        return [first, *rest]

    def ack(self, messages: Sequence[bytes], stored_urls: Iterable[str] = ()) -> None:
        """The messages are committed: drop them, and publish the URLs now stored."""
        urls = list(stored_urls)
        with self.server.pipeline(transaction=True) as pipe:
            for message in messages:
                pipe.lrem(self.keys.processing, -1, message)
            if urls:
                pipe.sadd(self.keys.stored, *urls)
            pipe.execute()

    def dead_letter(self, message: bytes, reason: str, at: str) -> None:
        """Set a message that fails its checks aside, out of the way of the others, as
        ``{"at": ..., "reason": ..., "message": the message as it came}``."""
        record = json.dumps(
            {"at": at, "reason": reason, "message": message.decode("utf-8", "replace")},
            ensure_ascii=False,
        )
        with self.server.pipeline(transaction=True) as pipe:
            pipe.lpush(self.keys.dead_letters, record)
            pipe.lrem(self.keys.processing, -1, message)
            pipe.execute()

    def dead_letters(self, most: int = 1) -> tuple[int, list[dict[str, str]]]:
        """How many messages are set aside, and the newest ``most`` of them."""
        count = int(self.server.llen(self.keys.dead_letters))
        newest = []
        for raw in self.server.lrange(self.keys.dead_letters, 0, most - 1):
            try:
                newest.append(json.loads(raw))
            except ValueError:  # set aside by an older presswatch: the message alone
                newest.append(
                    {"at": "", "reason": "unreadable", "message": raw.decode("utf-8", "replace")}
                )
        return count, newest

    def __len__(self) -> int:
        return int(self.server.llen(self.keys.items))

"""Rasa's ``RedisLockStore``, with each change of a conversation's lock made atomic.

Rasa keeps a conversation's ticket lock as one Redis value that it reads, changes and writes
back (``issue_ticket``, ``update_lock``, ``cleanup``). One process at a time that is safe; with
several Rasa processes (replicas), two of them can read the same lock at once and both take
ticket 1, or one can write back a lock without the ticket the other just added. Then two
messages of one conversation are handled at the same time, and their events interleave. Here
each of those read-change-write steps is one Lua script, which Redis runs atomically, on the
lock in Rasa's own format (``TicketLock.dumps``): one round trip each, where Rasa takes two to
four, and a message three in all. And a waiting ticket does not expire while it waits (see
``update_lock``).

It also pings Redis when it starts, so a Redis that is down stops ``rasa run`` at once with
an error naming it, rather than failing each message later.

``endpoints.yml``::

    lock_store:
      type: bot.serving.lock_store.AtomicRedisLockStore
      url: 127.0.0.1
      port: ${REDIS_PORT}
"""

from __future__ import annotations

import time
from contextlib import AbstractAsyncContextManager, AbstractContextManager

import redis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from bot.serving.store_errors import naming_the_store

# KEYS[1]: the lock; ARGV[1]: the time now. The lock's tickets that have not expired, decoded
# (Rasa stores each ticket as a JSON string inside the lock's JSON), and the lock itself.
_LIVE_TICKETS = """
local now = tonumber(ARGV[1])
local raw = redis.call('GET', KEYS[1])
local lock = raw and cjson.decode(raw) or nil
local tickets = {}
if lock then
  for _, dump in ipairs(lock.tickets) do
    local ticket = cjson.decode(dump)
    if ticket.expires >= now then table.insert(tickets, ticket) end
  end
end
local function save(conversation_id, kept)
  local dumps = {}
  for _, ticket in ipairs(kept) do table.insert(dumps, cjson.encode(ticket)) end
  if #kept == 0 then
    redis.call('SET', KEYS[1], cjson.encode({conversation_id = conversation_id}))
  else
    redis.call('SET', KEYS[1], cjson.encode({conversation_id = conversation_id, tickets = dumps}))
  end
end
"""

# ARGV[2]: the conversation, ARGV[3]: the ticket's lifetime. Returns the new ticket's number.
ISSUE_TICKET = (
    _LIVE_TICKETS
    + """
local number = #tickets > 0 and tickets[#tickets].number + 1 or 0
table.insert(tickets, {number = number, expires = now + tonumber(ARGV[3])})
save(ARGV[2], tickets)
return number
"""
)

# ARGV[2]: the lifetime a waiting ticket gets again.
UPDATE_LOCK = (
    _LIVE_TICKETS
    + """
if not lock then return end
for index = 2, #tickets do tickets[index].expires = now + tonumber(ARGV[2]) end
save(lock.conversation_id, tickets)
"""
)

# ARGV[2]: the ticket served. The lock goes once no live ticket is left.
CLEANUP = (
    _LIVE_TICKETS
    + """
if not lock then return end
local kept = {}
for _, ticket in ipairs(tickets) do
  if ticket.number ~= tonumber(ARGV[2]) then table.insert(kept, ticket) end
end
if #kept == 0 then redis.call('DEL', KEYS[1]) else save(lock.conversation_id, kept) end
"""
)


# How often a message waiting for its conversation's lock looks again. Rasa's default, 1 s, made
# the same person's second message wait a second, and with it its process (bot/channels/rest.py).
LOCK_POLL_S = 0.05


class LockStoreUnavailable(LockError):
    """Redis does not answer; the message names the server."""


class AtomicRedisLockStore(RedisLockStore):
    """``RedisLockStore`` whose ticket changes cannot interleave (see the module docstring)."""

    def __init__(self, endpoint_config: EndpointConfig) -> None:
        super().__init__(host=endpoint_config.url or "localhost", **endpoint_config.kwargs)
        address = self.red.connection_pool.connection_kwargs
        self.address = f"{address['host']}:{address['port']}"
        with self._naming_the_server():
            self.red.ping()
        self._issue_ticket = self.red.register_script(ISSUE_TICKET)
        self._update_lock = self.red.register_script(UPDATE_LOCK)
        self._cleanup = self.red.register_script(CLEANUP)

    def _naming_the_server(self) -> AbstractContextManager[None]:
        failure = f"The Redis lock store at {self.address} does not answer"
        return naming_the_store(failure, redis.exceptions.RedisError, LockStoreUnavailable)

    def _key(self, conversation_id: str) -> str:
        return f"{self.key_prefix}{conversation_id}"

    def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = LOCK_POLL_S,
    ) -> AbstractAsyncContextManager[TicketLock]:
        """Rasa's, polling every ``LOCK_POLL_S`` rather than every second by default."""
        lock: AbstractAsyncContextManager[TicketLock] = super().lock(
            conversation_id, lock_lifetime, wait_time_in_seconds
        )
        return lock

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        with self._naming_the_server():
            arguments = [time.time(), conversation_id, lock_lifetime]
            return int(self._issue_ticket(keys=[self._key(conversation_id)], args=arguments))

    def update_lock(self, conversation_id: str) -> None:
        """Drop expired tickets, as Rasa does, and renew the waiting ones.

        Rasa counts a ticket's lifetime from when it was issued, waiting included. If the
        process being served crashes, a ticket issued just after its own expires with it, and
        Rasa then waits forever for a ticket that no longer exists. Waiting tickets belong to
        processes that are polling, so they are renewed; only the served one can expire.
        """
        with self._naming_the_server():
            arguments = [time.time(), LOCK_LIFETIME]
            self._update_lock(keys=[self._key(conversation_id)], args=arguments)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        with self._naming_the_server():
            arguments = [time.time(), ticket_number]
            self._cleanup(keys=[self._key(conversation_id)], args=arguments)

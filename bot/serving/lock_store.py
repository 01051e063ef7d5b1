"""Rasa's ``RedisLockStore``, with each change of a conversation's lock made atomic.

Rasa keeps a conversation's ticket lock as one Redis value that it reads, changes and writes
back (``issue_ticket``, ``update_lock``, ``cleanup``). One process at a time that is safe; with
several Sanic workers or replicas, two of them can read the same lock at once and both take
ticket 1, or one can write back a lock without the ticket the other just added. Then two
messages of one conversation are handled at the same time, and their events interleave. Here
each of those read-change-write steps holds a short Redis mutex of its own conversation. And
a waiting ticket does not expire while it waits (see ``update_lock``).

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
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

import redis
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from bot.serving.store_errors import naming_the_store

# Longer than any read-change-write of a lock takes; a process that dies holding the mutex
# delays the conversation by this much at most.
MUTEX_TIMEOUT_S = 5.0


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

    def _naming_the_server(self) -> AbstractContextManager[None]:
        failure = f"The Redis lock store at {self.address} does not answer"
        return naming_the_store(failure, redis.exceptions.RedisError, LockStoreUnavailable)

    @contextmanager
    def _mutex(self, conversation_id: str) -> Iterator[None]:
        name = f"{self.key_prefix}{conversation_id}:mutex"
        with (
            self._naming_the_server(),
            self.red.lock(name, timeout=MUTEX_TIMEOUT_S, blocking_timeout=MUTEX_TIMEOUT_S),
        ):
            yield

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        with self._mutex(conversation_id):
            return super().issue_ticket(conversation_id, lock_lifetime)

    def update_lock(self, conversation_id: str) -> None:
        """Drop expired tickets, as Rasa does, and renew the waiting ones.

        Rasa counts a ticket's lifetime from when it was issued, waiting included. If the
        process being served crashes, a ticket issued just after its own expires with it, and
        Rasa then waits forever for a ticket that no longer exists. Waiting tickets belong to
        processes that are polling, so they are renewed; only the served one can expire.
        """
        with self._mutex(conversation_id):
            lock = self.get_lock(conversation_id)
            if not lock:
                return
            lock.remove_expired_tickets()
            for waiting in list(lock.tickets)[1:]:
                waiting.expires = time.time() + LOCK_LIFETIME
            self.save_lock(lock)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        with self._mutex(conversation_id):
            super().cleanup(conversation_id, ticket_number)

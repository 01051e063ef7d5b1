"""A store's errors as one error that names the store: for the lock and the tracker store."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

logger = logging.getLogger(__name__)

Caught = TypeVar("Caught", bound=Exception)


@contextmanager
def naming_the_store(
    failure: str,
    caught: type[Caught],
    raised: type[Exception],
    cause: Callable[[Caught], object] = str,
) -> Iterator[None]:
    """Raise a ``caught`` error inside the block again as ``raised``: "``failure``: cause".

    failure: What fails, naming the store, e.g. "The Redis lock store at host:port does not
        answer".
    cause: The part of the error to show after it.
    """
    try:
        yield
    except caught as error:
        message = f"{failure}: {cause(error)}"
        logger.error(message)  # the REST channel logs the exception's type only
        raise raised(message) from error

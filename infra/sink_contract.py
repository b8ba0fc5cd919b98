"""What every sink is to its callers: a named receiver that takes a batch of items, and the two
ways a delivery can fail.

``DeliveryRefusedError`` means the items were refused for good (sending them again cannot help);
any other exception, ``DeliveryDeferredError`` among them, means they were not taken this time and
are worth another try later. The sinks themselves (``infra.sinks``, ``infra.webhook``) and their
callers (``infra.deliveries``) import this module; it imports none of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol


class DeliveryRefusedError(RuntimeError):
    """The receiver refused the items for good: sending them again would be refused again."""


class DeliveryDeferredError(RuntimeError):
    """The receiver did not take the items this time; another attempt later may succeed."""


class Sink(Protocol):
    """A receiver: ``str(sink)`` names it in delivery records, without credentials."""

    def __str__(self) -> str: ...

    def deliver(self, items: Sequence[dict[str, Any]]) -> None:
        """Hand over ``items``; ``DeliveryRefusedError`` if they are refused for good, any other
        exception if they should be tried again later."""

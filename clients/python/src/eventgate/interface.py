"""The seed's TransportInterface, with the same methods and signatures.

Code written against the original interface (``send``, ``connect``,
``disconnect``, ``close``, ``async with``) can use any subclass, and
EventGateTransport in particular, unchanged.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Dict, Optional


class TransportInterface(ABC):
    """Abstract base class of transports: ``send`` delivers one event."""

    @abstractmethod
    async def send(self, event: Any, metadata: Optional[Dict[str, Any]] = None) -> bool:
        """Send event (with optional metadata) downstream.

        Returns True when the send succeeded, False otherwise; raises
        TransportError for transport-specific errors.
        """

    async def connect(self) -> None:
        """Establish the connection to the downstream system (optional)."""

    async def disconnect(self) -> None:
        """Close the connection to the downstream system (optional)."""

    async def close(self) -> None:
        """Clean shutdown: close connections and resources."""
        await self.disconnect()

    async def __aenter__(self) -> "TransportInterface":
        await self.connect()
        return self

    async def __aexit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
        await self.close()

# Compatibility fixture: the seed's TransportInterface, TransportError and
# HTTPTransport, copied unchanged from the original specification (only the
# imports the specification's snippets assume are added at the top). The
# tests run this code against eventgate to show that the seed's users' code
# works as it is. Do not edit the classes.
import json
import time
from abc import ABC, abstractmethod
from typing import Any, Dict, Optional

import aiohttp


class TransportError(Exception):
    pass


class TransportInterface(ABC):
    """
    Abstract base class for transport implementations.
    
    Provides consistent interface for sending events to downstream systems
    like message queues, databases, monitoring systems, etc.
    """
    
    @abstractmethod
    async def send(self, event: Any, metadata: Optional[Dict[str, Any]] = None) -> bool:
        """
        Send event to downstream system.
        
        Args:
            event: Event object to send
            metadata: Optional metadata (session_id, timestamp, etc.)
            
        Returns:
            bool: True if send succeeded, False otherwise
            
        Raises:
            TransportError: For transport-specific errors
        """
        pass
    
    async def connect(self) -> None:
        """Optional: Establish connection to downstream system"""
        pass
    
    async def disconnect(self) -> None:
        """Optional: Close connection to downstream system"""
        pass
    
    async def close(self) -> None:
        """Clean shutdown - close connections and resources"""
        await self.disconnect()
    
    # Context manager support
    async def __aenter__(self) -> 'TransportInterface':
        await self.connect()
        return self
    
    async def __aexit__(self, exc_type, exc_val, exc_tb) -> None:
        await self.close()


class HTTPTransport(TransportInterface):
    """Send events to HTTP endpoint"""
    
    def __init__(self, endpoint_url: str, headers: Dict[str, str] = None):
        self.endpoint_url = endpoint_url
        self.headers = headers or {}
        self.session = None
    
    async def connect(self) -> None:
        """Establish HTTP session"""
        self.session = aiohttp.ClientSession(headers=self.headers)
    
    async def send(self, event: Any, metadata: Dict[str, Any] = None) -> bool:
        """Send event via HTTP POST"""
        if not self.session:
            await self.connect()
        
        try:
            # Serialize event
            payload = {
                'event': event.dict() if hasattr(event, 'dict') else str(event),
                'metadata': metadata or {},
                'timestamp': time.time()
            }
            
            # Send to endpoint
            async with self.session.post(
                self.endpoint_url,
                json=payload,
                timeout=aiohttp.ClientTimeout(total=10)
            ) as response:
                if response.status == 200:
                    return True
                else:
                    raise TransportError(f"HTTP {response.status}: {await response.text()}")
                    
        except Exception as e:
            raise TransportError(f"HTTP transport failed: {e}")
    
    async def disconnect(self) -> None:
        """Close HTTP session"""
        if self.session:
            await self.session.close()
            self.session = None
    
    async def close(self) -> None:
        """Clean shutdown"""
        await self.disconnect()

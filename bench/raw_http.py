"""A cheap HTTP/1.1 client for load generators: keep-alive connections over asyncio streams, nothing else.

httpx spends about as much CPU per request as the service under test does, and on a 2-core machine the load
generator and the service share the cores: the bench would measure the client. This pool writes a request in
one ``write`` and reads the status line, the headers and a ``Content-Length`` (or chunked) body; a connection
that fails is dropped and the error raised, so the caller retries as it would with any client.
"""

from __future__ import annotations

import asyncio
import json


class RawHttpPool:
    """Up to ``size`` keep-alive connections to ``host:port``; ``post_json`` and ``get`` borrow one per request."""

    def __init__(self, host: str, port: int, size: int = 32, timeout: float = 600.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self._slots = asyncio.Semaphore(size)

    async def post_json(self, path: str, body: object, headers: dict[str, str]) -> tuple[int, bytes]:
        """POST ``body`` as JSON; returns the status and the response body. Raises ``ConnectionError`` when the
        connection fails or closes before the answer (the request may or may not have been served)."""
        payload = json.dumps(body, separators=(",", ":")).encode()
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        request = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n{head}\r\n"
        ).encode() + payload
        return await self._send(request)

    async def get(self, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
        """GET ``path``; the status and the response body (as sent: gzip stays gzip). Raises as ``post_json``."""
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        return await self._send(f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{head}\r\n".encode())

    async def _send(self, request: bytes) -> tuple[int, bytes]:
        async with self._slots:
            connection = self._idle.pop() if self._idle else None
            try:
                if connection is None:
                    connection = await asyncio.open_connection(self.host, self.port)
                status, answer, keep = await asyncio.wait_for(self._exchange(connection, request), self.timeout)
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as error:
                if connection is not None:
                    connection[1].close()
                raise ConnectionError(f"{type(error).__name__}: {error}") from error
            if keep:
                self._idle.append(connection)
            else:
                connection[1].close()
            return status, answer

    @staticmethod
    async def _exchange(
        connection: tuple[asyncio.StreamReader, asyncio.StreamWriter], request: bytes
    ) -> tuple[int, bytes, bool]:
        reader, writer = connection
        writer.write(request)
        await writer.drain()
        status_line = await reader.readline()
        if not status_line:
            raise asyncio.IncompleteReadError(b"", None)
        status = int(status_line.split()[1])
        length, chunked, keep = None, False, True
        while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value:
                chunked = True
            elif name == "connection" and value == "close":
                keep = False
        if chunked:
            parts = []
            while size := int((await reader.readline()).split(b";")[0], 16):
                parts.append(await reader.readexactly(size))
                await reader.readline()
            await reader.readline()
            return status, b"".join(parts), keep
        return status, await reader.readexactly(length or 0), keep

    def close(self) -> None:
        """Close the idle connections."""
        for _reader, writer in self._idle:
            writer.close()
        self._idle.clear()

"""Multipart uploads read as a stream, as the service consumes them, never whole.

FastAPI's `UploadFile` would receive the entire body (spooling it to disk) before the route runs:
too late to refuse an outsider or an oversized file cheaply. Here the body stays in the socket until
the service, running in a worker thread, asks for it; each pull hops to the event loop for the next
network chunk and feeds python-multipart's streaming parser, so memory holds one chunk at a time.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Iterator

import anyio.from_thread
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from ordertrail.domain.errors import DomainError, TooLarge, UnsupportedMediaType, ValidationFailed

# Room for the multipart framing (boundaries, part headers, a few small fields) around the file.
FRAMING_ALLOWANCE = 64 * 1024


class MalformedUpload(DomainError):
    """The multipart body cannot be parsed (HTTP 400)."""


class MultipartFile:
    """The part named `field` of a multipart/form-data request (the `IncomingFile` port)."""

    def __init__(self, request: Request, max_file_bytes: int, field: str = "file") -> None:
        self._request = request
        self._field = field.encode()
        self._max_body = max_file_bytes + FRAMING_ALLOWANCE
        self._body: AsyncIterator[bytes] = request.stream()
        self._received = 0
        self._ended = False
        self._parser: MultipartParser | None = None
        self._headers: list[tuple[bytes, bytes]] = []
        self._header_field = b""
        self._header_value = b""
        self._in_file = False
        self._file_started = False
        self._file_done = False
        self._filename: str | None = None
        self._pending: deque[bytes] = deque()

    # --- parser callbacks ---

    def _on_part_begin(self) -> None:
        self._headers = []

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _on_header_end(self) -> None:
        self._headers.append((self._header_field.lower(), self._header_value))
        self._header_field = self._header_value = b""

    def _on_headers_finished(self) -> None:
        disposition = dict(self._headers).get(b"content-disposition", b"")
        _, params = parse_options_header(disposition)
        if not self._file_started and params.get(b"name") == self._field:
            self._in_file = self._file_started = True
            raw = params.get(b"filename")
            self._filename = raw.decode("utf-8", "replace") if raw is not None else None

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            self._pending.append(bytes(data[start:end]))

    def _on_part_end(self) -> None:
        if self._in_file:
            self._in_file = False
            self._file_done = True

    # --- reading ---

    async def _next_body_chunk(self) -> bytes | None:
        try:
            return await self._body.__anext__()
        except StopAsyncIteration:
            return None

    def _pull(self) -> bool:
        """Feed the parser one more network chunk; False once the body has ended."""
        if self._ended:
            return False
        try:
            chunk = anyio.from_thread.run(self._next_body_chunk)
        except ClientDisconnect:
            raise MalformedUpload("The upload was interrupted before it was complete.") from None
        if chunk is None:
            self._ended = True
            return False
        self._received += len(chunk)
        if self._received > self._max_body:
            raise TooLarge(self._too_large())
        assert self._parser is not None
        try:
            self._parser.write(chunk)
        except MultipartParseError:
            raise MalformedUpload("The multipart body is malformed.") from None
        return True

    def _too_large(self) -> str:
        limit = (self._max_body - FRAMING_ALLOWANCE) / (1024 * 1024)
        return f"Evidence files may be at most {limit:g} MB; nothing was kept."

    def begin(self) -> str | None:
        content_type, params = parse_options_header(self._request.headers.get("content-type", ""))
        boundary = params.get(b"boundary")
        if content_type != b"multipart/form-data" or not boundary:
            raise UnsupportedMediaType("Send the file as multipart/form-data, in a part named 'file'.")
        declared = self._request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self._max_body:
            raise TooLarge(self._too_large())
        self._parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._on_part_begin,
                "on_header_field": self._on_header_field,
                "on_header_value": self._on_header_value,
                "on_header_end": self._on_header_end,
                "on_headers_finished": self._on_headers_finished,
                "on_part_data": self._on_part_data,
                "on_part_end": self._on_part_end,
            },
        )
        while not self._file_started:
            if not self._pull():
                raise ValidationFailed.one("file", "required", "Attach the file in a part named 'file'.")
        return self._filename

    def chunks(self) -> Iterator[bytes]:
        while True:
            while self._pending:
                yield self._pending.popleft()
            if self._file_done:
                return
            if not self._pull():
                raise MalformedUpload("The multipart body ended inside the file.")

"""Evidence uploads: typed by their bytes, stopped at the size limit while streaming, named safely."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from anyio.from_thread import start_blocking_portal
from starlette.requests import Request

from ordertrail.domain.errors import TooLarge, UnsupportedMediaType
from ordertrail.domain.evidence import safe_filename, sniff
from ordertrail.entrypoints.web.uploads import MultipartFile
from ordertrail.services.evidence import checked_upload

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF"


def test_the_type_comes_from_the_magic_number_alone() -> None:
    assert sniff(JPEG) == "image/jpeg"
    assert sniff(b"\x89PNG\r\n\x1a\n\x00") == "image/png"
    assert sniff(b"%PDF-1.4") == "application/pdf"
    for other in (b"<!doctype html>", b"GIF89a", b"PK\x03\x04", b"\x89PNG", b""):
        assert sniff(other) is None


def test_names_lose_paths_and_odd_characters_and_take_the_sniffed_extension() -> None:
    assert safe_filename("C:\\Users\\ana\\IMG 0042.JPG", "image/jpeg") == "IMG 0042.jpg"
    assert safe_filename("../../etc/passwd", "application/pdf") == "passwd.pdf"
    assert safe_filename('x";\r\nSet-Cookie: a=b.png', "image/png") == "x_Set-Cookie_ a_b.png"
    assert safe_filename("page.html", "image/png") == "page.png"
    assert safe_filename(None, "image/png") == "evidence.png"
    assert safe_filename("...", "image/png") == "evidence.png"


class CountingChunks:
    def __init__(self, first: bytes, size: int, count: int) -> None:
        self.first, self.size, self.count, self.taken = first, size, count, 0

    def __iter__(self) -> Iterator[bytes]:
        for i in range(self.count):
            self.taken += 1
            yield self.first if i == 0 else b"\x00" * self.size


def test_the_size_limit_stops_the_stream_at_the_chunk_that_crosses_it() -> None:
    source = CountingChunks(JPEG + b"\x00" * 90, 100, 1000)
    found: list[str] = []
    taken = 0
    with pytest.raises(TooLarge):
        for piece in checked_upload(source, 1000, found):
            taken += len(piece)
    assert taken == 1000 and source.taken == 11  # one chunk past the limit, never the other 989
    assert found == ["image/jpeg"]


def test_a_file_of_another_type_is_refused_before_anything_passes_on() -> None:
    source = CountingChunks(b"<html>", 100, 1000)
    with pytest.raises(UnsupportedMediaType):
        next(checked_upload(source, 10_000, []))
    assert source.taken == 2  # just enough bytes to look at the magic number


def test_a_type_split_across_tiny_chunks_is_still_recognised() -> None:
    pieces = [bytes([b]) for b in JPEG] + [b"rest"]
    found: list[str] = []
    assert b"".join(checked_upload(pieces, 100, found)) == JPEG + b"rest" and found == ["image/jpeg"]


def _request(body_chunks: list[bytes], pulled: list[int], headers: dict[str, str]) -> Request:
    queue = list(body_chunks)

    async def receive() -> dict[str, Any]:
        pulled.append(1)
        chunk = queue.pop(0) if queue else b""
        return {"type": "http.request", "body": chunk, "more_body": bool(queue)}

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }
    return Request(scope, receive)


def _read(upload: MultipartFile, limit: int) -> tuple[str | None, bytes]:
    def consume() -> tuple[str | None, bytes]:
        name = upload.begin()
        return name, b"".join(checked_upload(upload.chunks(), limit, []))

    # The service runs in a worker thread of the server's event loop, as in production; the loop gets
    # a thread of its own, so that this works whatever loop the test runner may already run.
    with start_blocking_portal() as portal:
        return portal.call(anyio.to_thread.run_sync, consume)


def test_a_multipart_body_is_pulled_from_the_client_only_as_far_as_it_is_read() -> None:
    head = b'--B\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n\r\n'
    chunks = [head + JPEG] + [b"\x00" * 65536] * 200 + [b"\r\n--B--\r\n"]
    pulled: list[int] = []
    headers = {"content-type": "multipart/form-data; boundary=B"}
    upload = MultipartFile(_request(chunks, pulled, headers), max_file_bytes=10 * 65536)
    with pytest.raises(TooLarge):
        _read(upload, 10 * 65536)
    assert len(pulled) <= 13  # of 202 network chunks, only those up to the limit were ever received


def test_a_multipart_body_yields_the_file_part_and_its_name() -> None:
    body = (
        b'--B\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n'
        b'--B\r\nContent-Disposition: form-data; name="file"; filename="box.jpg"\r\n'
        b"Content-Type: text/plain\r\n\r\n" + JPEG + b"tail\r\n--B--\r\n"
    )
    headers = {"content-type": "multipart/form-data; boundary=B", "content-length": str(len(body))}
    upload = MultipartFile(_request([body[:30], body[30:]], [], headers), max_file_bytes=1000)
    assert _read(upload, 1000) == ("box.jpg", JPEG + b"tail")


def test_a_declared_length_over_the_limit_is_refused_before_reading() -> None:
    pulled: list[int] = []
    headers = {"content-type": "multipart/form-data; boundary=B", "content-length": str(50 * 1024 * 1024)}
    upload = MultipartFile(_request([b"x"], pulled, headers), max_file_bytes=10 * 1024 * 1024)
    with pytest.raises(TooLarge):
        _read(upload, 10 * 1024 * 1024)
    assert pulled == []

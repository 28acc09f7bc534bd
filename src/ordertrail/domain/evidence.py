"""Evidence files: what a file is, told from its first bytes, and a name safe to hand back.

The declared Content-Type and the file name come from the client and prove nothing: an HTML page
named `photo.jpg` is still HTML. Only the magic number decides, and the name we serve carries the
extension of the type we found, so a download can never turn into a page that runs.
"""

from __future__ import annotations

import re
import unicodedata

# Enough bytes to tell every accepted type apart (PNG's signature is the longest, 8 bytes).
SNIFF_BYTES = 8

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"%PDF-", "application/pdf"),
)

EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "application/pdf": ".pdf"}
ACCEPTED = frozenset(EXTENSIONS)

MAX_NAME = 120
_UNSAFE = re.compile(r"[^\w.\- ()]+")


def sniff(head: bytes) -> str | None:
    """The media type the bytes start with, if it is one we accept."""
    for magic, media_type in _SIGNATURES:
        if head.startswith(magic):
            return media_type
    return None


def safe_filename(name: str | None, media_type: str) -> str:
    """A plain file name without any path, control or quoting characters, ending in the sniffed type's extension."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = unicodedata.normalize("NFKC", base)
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = _UNSAFE.sub("_", stem).strip(" ._") or "evidence"
    return stem[:MAX_NAME] + EXTENSIONS[media_type]

"""Text every store and every encoder takes: the last guard for what came in before inputs refused it."""


def without_surrogates(text: str) -> str:
    """A lone surrogate (half a UTF-16 pair, no character at all) becomes "?": UTF-8 cannot hold it,
    so neither can PostgreSQL or a JSON response."""
    return text.encode("utf-8", "replace").decode("utf-8")


def storable(text: str) -> str:
    """Also without NUL, which PostgreSQL cannot store."""
    return without_surrogates(text.replace("\x00", ""))

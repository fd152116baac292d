"""The ``Accept`` header read once for both indexes (PEP 691 pages and npm packuments)."""

from __future__ import annotations


def media_ranges(accept: str) -> list[tuple[str, float]]:
    """Each media range of an ``Accept`` header, lower-cased, with its quality (``q``).

    A quality that is not a number counts as 0 (not acceptable), as does ``q=0``.
    """
    ranges = []
    for part in accept.split(","):
        fields = [f.strip() for f in part.split(";")]
        quality = 1.0
        for param in fields[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        ranges.append((fields[0].lower(), quality))
    return ranges

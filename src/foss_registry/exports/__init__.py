"""Exports of the approved catalogue: CycloneDX 1.5 JSON, a pip constraints file, CSV."""

#: Export formats, as ``?format=`` and ``foss export --format`` take them.
FORMATS = ("cyclonedx", "constraints", "csv")

"""The CI gate: look up a project's dependencies in the registry and judge the result.

``service`` answers ``POST /api/v1/check`` (batched lookups, the nearest approved
version, scan and license status); ``gate`` holds the client-side verdicts
(``foss check``'s exit code), as pure functions.
"""

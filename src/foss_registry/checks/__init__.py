"""The CI gate's server side: look up a project's dependencies in the registry.

``service`` answers ``POST /api/v1/check`` (batched lookups, the nearest approved
version, scan and license status). The client-side verdicts (``foss check``'s
exit code) are in :mod:`foss_registry.gate`, shared by both sides.
"""

"""Tests of the dependency-file parsers (foss_registry.deps)."""

"""Enrichment: what the ecosystem's own registry says about a submitted version, and its signals."""

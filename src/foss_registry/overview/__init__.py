"""Figures across the registry for the dashboard (counts, queue age, decisions over time)."""

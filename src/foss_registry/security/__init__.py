"""A version's security verdict as it counts now: its newest scan judged with the live triage."""

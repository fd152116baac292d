"""Submissions: a version stored as pending together with its scan request (one transaction)."""

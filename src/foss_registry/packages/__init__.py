"""Package versions: submission, identity, lookup and search."""

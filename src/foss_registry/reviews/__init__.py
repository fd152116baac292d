"""Review decisions: approve or reject a version, and the decision history."""

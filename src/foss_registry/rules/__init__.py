"""Range approvals: a reviewer approves a range of a package's versions once."""

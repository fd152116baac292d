"""API tokens: creation, verification, revocation and roles."""

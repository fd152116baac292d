"""Webhooks: events written in the same transaction as the change, delivered signed."""

"""Triage: standing decisions about one advisory for one package, and OpenVEX."""

"""Scans of package versions: results, history and the scan job."""

"""Vulnerability and malware matching on OSV data: pure logic, no database, no HTTP.

- :mod:`~foss_registry.vulns.osv` reads OSV records (files, folders, zip exports);
- :mod:`~foss_registry.vulns.matcher` decides whether a version is affected;
- :mod:`~foss_registry.vulns.severity` rates records (CVSS, database ratings, malware);
- :mod:`~foss_registry.vulns.findings` builds and merges what a scan reports;
- :mod:`~foss_registry.vulns.scanners` adapts external scanners (Trivy, Grype, osv-scanner).
"""

"""The ``foss`` command line: server administration and the REST API client."""

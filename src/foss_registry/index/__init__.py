"""The approved-only index: pip and npm read the registry and get approved versions only.

Pure parts (:mod:`.pypi`, :mod:`.npm`) turn an upstream project page or
packument into what the registry answers; :mod:`.cache` keeps upstream files on
disk; :mod:`.gate` decides what may be served and records what was refused.
"""

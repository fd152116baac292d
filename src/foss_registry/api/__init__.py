"""The HTTP edge: the ASGI app, the error format, and the versioned API routes."""

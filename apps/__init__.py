"""User-facing applications: the HTTP API and the viewer."""

"""Deployment and local-stack tooling."""

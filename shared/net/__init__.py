"""Outbound network access on behalf of clients (image URLs, webhooks): only through ``shared.net.fetch``."""

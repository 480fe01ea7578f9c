"""Celery task modules, one package per worker group; tasks only adapt ``shared`` functions."""

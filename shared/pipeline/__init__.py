"""Pipelines as plain functions: what each Celery task runs, callable without Celery."""

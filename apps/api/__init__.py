"""The HTTP API: validates requests, records jobs, sends Celery chains by task name."""

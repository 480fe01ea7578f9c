"""Orchestrator worker group: planning, finalizing and failure bookkeeping (``cpu_tasks``)."""

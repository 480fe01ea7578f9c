"""Environment-generation worker group: runs the env provider on its queue."""

"""The local stack on embedded defaults: redis-server, the API and one worker per queue."""

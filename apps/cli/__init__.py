"""``mmf``: the command line for people (submit, watch, download); it speaks only HTTP to the API."""

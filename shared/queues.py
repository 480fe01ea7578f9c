"""Queue names, in one module that imports nothing heavy.

The Celery app, the Makefile and the compose file all read the queue list from here
(``python -m shared.queues`` prints it), so no list is kept in sync by hand.
"""

from __future__ import annotations

import sys

CPU = "cpu_tasks"
GPU = "gpu_tasks"
SAGEMAKER = "sagemaker"

ALL_QUEUES: tuple[str, ...] = (CPU, GPU, SAGEMAKER)


def main(argv: list[str]) -> int:
    """Print the queue names, space-separated, or comma-separated with ``--csv``."""
    separator = "," if "--csv" in argv else " "
    print(separator.join(ALL_QUEUES))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

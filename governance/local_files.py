"""Files a local run makes for itself in var/ (the secret key, the log's and witnesses' keys).

Several processes start at once (`make run` starts the web server, the worker, beat and two
witnesses; a parallel test run starts one process per core), so a file is written whole
under a temporary name and then linked into place: the first writer wins, every process
reads the same complete contents, and none ever sees a half-written key.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_once(path: Path, text: str) -> None:
    """Create `path` holding `text` (mode 0600) unless it already exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w") as file:
            file.write(text)
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
    finally:
        os.unlink(temporary)

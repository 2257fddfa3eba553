"""Where the shared alert data lives (tests and the `ingest` command's default source)."""

import os
from pathlib import Path

# The data sit beside the checkout, never inside it (see ../shared/data/README.md).
DEFAULT_DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def find_data_dir() -> Path | None:
    """Return the folder of real alert files, or None if there is none.

    The environment variable PORTAL_DATA names the folder when set; otherwise the folder is
    ``../shared/data`` relative to the repository root. A PORTAL_DATA naming a missing folder
    gives None rather than falling back, so a typo is not hidden by the default copy.

    Returns
    -------
    Path or None
        The existing data folder, or None.
    """
    configured = os.environ.get("PORTAL_DATA")
    candidate = Path(configured).expanduser() if configured else DEFAULT_DATA_DIR
    return candidate if candidate.is_dir() else None

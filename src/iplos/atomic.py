"""Writes that either happen whole or not at all.

A crash, a kill or a full disk while writing leaves the previous state: files are written to a
temporary name in the same folder and renamed into place; a folder of files (an årgang, a delivery)
is built in a hidden sibling folder and renamed into place in one step.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write a file so that readers see the old content or the new, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    """`write_bytes_atomic` for UTF-8 text."""
    write_bytes_atomic(path, text.encode("utf-8"))


@contextmanager
def atomic_directory(target: Path, replace: bool = False) -> Iterator[Path]:
    """Yield a staging folder; on success it becomes `target` in one rename, on failure it is removed.

    With `replace`, an existing `target` is swapped out only after the new folder is complete.
    Without it, an existing `target` is an error (raised before any work is done).
    """
    target = Path(target)
    if target.exists() and not replace:
        raise FileExistsError(f"{target} exists already")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.staging-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if target.exists():
        old = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
        os.replace(target, old)
        os.replace(staging, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staging, target)


def remove_stale_staging(folder: Path) -> list[Path]:
    """Clean up after a killed `atomic_directory`; returns what was removed or restored.

    A staging folder is an unfinished write and is removed. An `.old-` folder whose target is
    missing is the only copy left by a crash between the two renames of a replace: it is put back,
    never deleted.
    """
    touched = []
    if folder.is_dir():
        for entry in sorted(folder.iterdir()):
            if not entry.name.startswith("."):
                continue
            if ".staging-" in entry.name:
                shutil.rmtree(entry, ignore_errors=True)
                touched.append(entry)
            elif ".old-" in entry.name:
                target = folder / entry.name[1:].rsplit(".old-", 1)[0]
                if target.exists():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    os.replace(entry, target)
                touched.append(entry)
    return touched

"""`iplos` commands of this group (registered on import)."""

from __future__ import annotations

from iplos.cli._app import app  # noqa: F401

"""The synthetic register the previews run on: generated once per process, small, never real data.

`synthetic_register()` is the process's one `SyntheticRegister` (scale `IPLOS_PREVIEW_SCALE`,
default 0.003 of Norway, every IPLOS and KPR årgang, a fixed seed). It is written under a fresh
temporary folder the first time a preview asks for it, under a lock, so concurrent requests wait
for one generation instead of starting several.
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

from iplos.config import Settings
from iplos.errors import IplosError
from iplos.synth import generate

DEFAULT_SCALE = 0.003
SEED = 2026
IPLOS_YEARS = tuple(range(2007, 2018))
KPR_YEARS = tuple(range(2017, 2025))


class SyntheticRegister:
    """A synthetic IPLOS register (with KPR and the linkable registers) made on first use."""

    def __init__(self, scale: float = DEFAULT_SCALE, seed: int = SEED, home: Path | None = None) -> None:
        if not 0 < scale <= 0.05:
            raise IplosError(
                f"the preview's synthetic register must be small (0 < scale <= 0.05), not {scale}"
            )
        self.scale = scale
        self.seed = seed
        self._home = home
        self._settings: Settings | None = None
        self._lock = threading.Lock()

    @property
    def ready(self) -> bool:
        return self._settings is not None

    def settings(self) -> Settings:
        """Settings whose home holds the synthetic register (generated now if not yet)."""
        with self._lock:
            if self._settings is None:
                home = self._home or Path(tempfile.mkdtemp(prefix="iplos-preview-"))
                settings = Settings(home=home)
                generate(settings, scale=self.scale, seed=self.seed, years=IPLOS_YEARS, kpr_years=KPR_YEARS)
                self._settings = settings
            return self._settings


_REGISTER: SyntheticRegister | None = None
_REGISTER_LOCK = threading.Lock()


def synthetic_register() -> SyntheticRegister:
    """The process's synthetic register for previews (`IPLOS_PREVIEW_SCALE`, default 0.003)."""
    global _REGISTER
    with _REGISTER_LOCK:
        if _REGISTER is None:
            text = os.environ.get("IPLOS_PREVIEW_SCALE", "").strip()
            try:
                scale = float(text) if text else DEFAULT_SCALE
            except ValueError:
                raise IplosError(f"IPLOS_PREVIEW_SCALE must be a number, not {text!r}") from None
            _REGISTER = SyntheticRegister(scale)
        return _REGISTER

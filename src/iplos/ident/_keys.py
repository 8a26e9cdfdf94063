"""Key custody: the key holder's per-register pseudonym keys, in a key file or the environment.

The key file (``$IPLOS_HOME/keyholder/keys.json`` unless IPLOS_KEY_FILE says otherwise) holds
``{"version": 1, "keys": {"<register>": "<64 hex characters>", ...}}``; it is written atomically with
mode 0600 in a folder of mode 0700. ``IPLOS_PSEUDONYM_KEYS`` may instead hold the same ``keys``
object as JSON (for servers whose secrets come from the environment); it wins over the file and is
read-only. No message, repr or log line ever shows a key.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from iplos.atomic import write_text_atomic
from iplos.config import Settings
from iplos.errors import IplosError, Problem
from iplos.ident._pseudonym import KEY_BYTES, PseudonymKey

__all__ = ["ENV_VAR", "KeyStore"]

ENV_VAR = "IPLOS_PSEUDONYM_KEYS"
_FORMAT_VERSION = 1


def _decode(keys: object, source: str) -> dict[str, PseudonymKey]:
    if not isinstance(keys, dict):
        raise IplosError(f"{source}: expected a JSON object of register -> hex key")
    problems: list[Problem] = []
    out: dict[str, PseudonymKey] = {}
    for register, value in keys.items():
        if not isinstance(value, str) or len(value) != 2 * KEY_BYTES:
            problems.append(
                Problem(f"key must be {2 * KEY_BYTES} hex characters", file=source, column=register)
            )
            continue
        try:
            out[register] = PseudonymKey(register, bytes.fromhex(value))
        except ValueError:
            problems.append(Problem("key is not hexadecimal", file=source, column=register))
    if problems:
        raise IplosError("malformed pseudonym keys", problems)
    return out


class KeyStore:
    """Per-register pseudonym keys held by the key holder.

    Build with `KeyStore.open(settings)` (environment first, then the key file), `KeyStore.load(path)`
    or `KeyStore.from_env()`; `ensure(register)` creates a missing key, `save()` writes the file.
    """

    def __init__(
        self,
        keys: Mapping[str, PseudonymKey] | None = None,
        *,
        path: Path | None = None,
        read_only: bool = False,
    ) -> None:
        self._keys: dict[str, PseudonymKey] = dict(keys or {})
        self._path = path
        self._read_only = read_only

    @classmethod
    def load(cls, path: Path) -> KeyStore:
        """Read a key file; IplosError when it is missing or malformed (never showing a key)."""
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise IplosError(f"{path}: no pseudonym key file") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise IplosError(f"{path}: the key file is not JSON ({type(exc).__name__})") from None
        if not isinstance(data, dict) or data.get("version") != _FORMAT_VERSION:
            raise IplosError(f"{path}: not an iplos key file of version {_FORMAT_VERSION}")
        return cls(_decode(data.get("keys"), str(path)), path=path)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> KeyStore | None:
        """Keys from IPLOS_PSEUDONYM_KEYS (a JSON object register -> hex), or None if unset."""
        env = os.environ if environ is None else environ
        text = env.get(ENV_VAR)
        if not text:
            return None
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            raise IplosError(f"{ENV_VAR} is not a JSON object of register -> hex key") from None
        return cls(_decode(data, ENV_VAR), read_only=True)

    @classmethod
    def open(cls, settings: Settings, environ: Mapping[str, str] | None = None) -> KeyStore:
        """The key holder's keys: IPLOS_PSEUDONYM_KEYS if set, else the key file (empty if absent)."""
        from_env = cls.from_env(environ)
        if from_env is not None:
            return from_env
        path = settings.key_path
        return cls.load(path) if path.exists() else cls(path=path)

    @property
    def read_only(self) -> bool:
        """True for keys from IPLOS_PSEUDONYM_KEYS, which cannot be extended or saved."""
        return self._read_only

    @property
    def registers(self) -> tuple[str, ...]:
        """Registers that have a key, sorted."""
        return tuple(sorted(self._keys))

    def __contains__(self, register: object) -> bool:
        return register in self._keys

    def key(self, register: str) -> PseudonymKey:
        """The key of ``register``; IplosError naming the register when there is none."""
        try:
            return self._keys[register]
        except KeyError:
            raise IplosError(
                f"no pseudonym key for register {register!r} (keys exist for: {', '.join(self.registers) or 'none'})"
            ) from None

    def ensure(self, register: str) -> PseudonymKey:
        """The key of ``register``, creating 32 random bytes (`secrets`) when it has none."""
        if register not in self._keys:
            if self._read_only:
                raise IplosError(
                    f"no pseudonym key for register {register!r} in {ENV_VAR}, which is read-only"
                )
            self._keys[register] = PseudonymKey(register, secrets.token_bytes(KEY_BYTES))
        return self._keys[register]

    def save(self, path: Path | None = None) -> Path:
        """Write the keys atomically, mode 0600, to ``path`` or where they were loaded from."""
        target = Path(path) if path is not None else self._path
        if target is None:
            raise IplosError("no key file path to save the pseudonym keys to")
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        payload = {
            "version": _FORMAT_VERSION,
            "keys": {r: k.secret_hex() for r, k in sorted(self._keys.items())},
        }
        # mkstemp creates the temporary file with mode 0600, and the rename keeps it.
        write_text_atomic(target, json.dumps(payload, indent=2) + "\n")
        os.chmod(target, 0o600)
        self._path = target
        return target

    def __repr__(self) -> str:
        source = ENV_VAR if self._read_only else str(self._path) if self._path else "memory"
        return f"KeyStore(registers={list(self.registers)!r}, source={source!r})"

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("key stores cannot be pickled")

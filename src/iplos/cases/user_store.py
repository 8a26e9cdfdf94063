"""Local accounts: users with a role, argon2id password hashes and opaque bearer tokens.

Tokens are 256-bit random strings shown once; only their SHA-256 is stored, so a copy of the
database does not let anyone log in. Passwords are hashed with argon2id (argon2-cffi defaults,
RFC 9106). An OpenID Connect login (ID-porten) plugs in beside this as another authenticator in
`iplos.web`, mapping its subject to a `User` here.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from iplos.cases.decide import Actor
from iplos.cases.model import ROLES, Role
from iplos.cases.store import tokens_table, users_table
from iplos.errors import IplosError

TOKEN_LIFETIME = timedelta(hours=12)
MIN_PASSWORD = 12
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,99}$")


@dataclass(frozen=True)
class User:
    """An account: username, display name, role, whether it may log in."""

    username: str
    display_name: str
    role: Role
    active: bool = True

    @property
    def actor(self) -> Actor:
        """The user as the actor of commands."""
        return Actor(self.username, self.role)


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class UserStore:
    """Accounts and tokens in the case store's database."""

    def __init__(self, engine: Engine, now: Callable[[], datetime] | None = None) -> None:
        self.engine = engine
        self._now = now or (lambda: datetime.now(UTC))
        # Lighter than the default (64 MiB, 3 passes is RFC 9106's second recommendation); still argon2id.
        self._hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)

    def create(self, username: str, password: str, role: Role, display_name: str = "") -> User:
        """Create an account; refuses weak passwords, bad usernames, unknown roles and duplicates."""
        if not _USERNAME.match(username):
            raise IplosError(f"username {username!r} must be 2-100 lower-case letters, digits or . _ @ -")
        if role not in ROLES:
            raise IplosError(f"role {role!r} is not one of {', '.join(ROLES)}")
        if len(password) < MIN_PASSWORD:
            raise IplosError(f"the password must have at least {MIN_PASSWORD} characters")
        user = User(username, display_name or username, role)
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    users_table.insert().values(
                        username=username,
                        display_name=user.display_name,
                        role=role,
                        password_hash=self._hasher.hash(password),
                        active=True,
                        created_at=self._now(),
                    )
                )
        except IntegrityError:
            raise IplosError(f"user {username!r} exists already") from None
        return user

    def get(self, username: str) -> User | None:
        """The account, or None."""
        with self.engine.connect() as conn:
            row = (
                conn.execute(sa.select(users_table).where(users_table.c.username == username))
                .mappings()
                .first()
            )
        return User(row["username"], row["display_name"], row["role"], bool(row["active"])) if row else None

    def list(self) -> list[User]:
        """All accounts, by username."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(users_table).order_by(users_table.c.username)).mappings().all()
        return [User(r["username"], r["display_name"], r["role"], bool(r["active"])) for r in rows]

    def set_active(self, username: str, active: bool) -> None:
        """Enable or disable an account (disabling also revokes its tokens)."""
        with self.engine.begin() as conn:
            result = conn.execute(
                users_table.update().where(users_table.c.username == username).values(active=active)
            )
            if result.rowcount != 1:
                raise IplosError(f"no user {username!r}")
            if not active:
                conn.execute(
                    tokens_table.update().where(tokens_table.c.username == username).values(revoked=True)
                )

    def check_password(self, username: str, password: str) -> User | None:
        """The user if the password is right and the account active, else None (same for every failure)."""
        with self.engine.connect() as conn:
            row = (
                conn.execute(sa.select(users_table).where(users_table.c.username == username))
                .mappings()
                .first()
            )
        if row is None:
            # Spend the same time as a real check, so timing does not reveal which usernames exist.
            self._hasher.hash(password)
            return None
        try:
            self._hasher.verify(row["password_hash"], password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if not row["active"]:
            return None
        return User(row["username"], row["display_name"], row["role"], True)

    def issue_token(self, username: str, lifetime: timedelta = TOKEN_LIFETIME) -> str:
        """A new bearer token for the user (returned once; only its hash is stored)."""
        token = secrets.token_urlsafe(32)
        now = self._now()
        with self.engine.begin() as conn:
            conn.execute(
                tokens_table.insert().values(
                    token_hash=_token_digest(token),
                    username=username,
                    created_at=now,
                    expires_at=now + lifetime,
                    revoked=False,
                )
            )
        return token

    def user_for_token(self, token: str) -> User | None:
        """The active user a valid, unexpired, unrevoked token belongs to."""
        query = (
            sa.select(users_table, tokens_table.c.expires_at, tokens_table.c.revoked)
            .join(tokens_table, tokens_table.c.username == users_table.c.username)
            .where(tokens_table.c.token_hash == _token_digest(token))
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        if row is None or row["revoked"] or not row["active"]:
            return None
        expires = row["expires_at"] if row["expires_at"].tzinfo else row["expires_at"].replace(tzinfo=UTC)
        if expires <= self._now():
            return None
        return User(row["username"], row["display_name"], row["role"], True)

    def revoke_token(self, token: str) -> None:
        """Log a token out."""
        with self.engine.begin() as conn:
            conn.execute(
                tokens_table.update()
                .where(tokens_table.c.token_hash == _token_digest(token))
                .values(revoked=True)
            )

"""Authentication for the API: an `Authenticator` interface and the local bearer-token one.

Every request is authenticated by the first authenticator that recognises it. `BearerTokens`
accepts the opaque tokens issued by `POST /api/auth/token` (local accounts, argon2id passwords;
only the token's SHA-256 is stored). The pages' OpenID Connect login (ID-porten style) is
`iplos.web.oidc.OidcLogin`, given as `create_app(oidc=...)`: it ends in an ordinary page session for
the linked local account. Roles always come from the local account, never from the identity provider.
"""

from __future__ import annotations

from typing import Protocol

from fastapi import Request

from iplos.cases import User, UserStore


class Authenticator(Protocol):
    """Something that can tell who sent a request."""

    def authenticate(self, request: Request) -> User | None:
        """The user, or None when this authenticator does not recognise the request."""
        ...


class BearerTokens:
    """`Authorization: Bearer <token>` with tokens issued to local accounts."""

    def __init__(self, users: UserStore) -> None:
        self.users = users

    def authenticate(self, request: Request) -> User | None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return self.users.user_for_token(token.strip())

"""OpenID Connect login (ID-porten style) beside the local accounts: authorization code with PKCE.

`OidcLogin(provider, links)` sends the browser to the provider with a fresh `state`, `nonce` and
PKCE `code_challenge` (S256), and on its return exchanges the code (with the `code_verifier`) at
the token endpoint and checks the ID token: its signature against the provider's JWKS (joserfc),
`iss`, `aud`, `exp`, `iat` and the `nonce` it was sent with. The `state` is kept in memory for ten
minutes and bound to the browser by a cookie, so a callback another browser started is refused.

Who logs in is decided locally: `links` maps `subject_key(issuer, subject)` (a SHA-256, so the
subject, in ID-porten the person's fødselsnummer in `pid`, is never stored or logged in clear) to a
local username; roles always come from the local account. Messages never repeat the subject.
`oidc_from_env` builds the login `iplos serve` offers from `IPLOS_OIDC_*` settings.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from iplos.errors import IplosError

STATE_TTL = 600.0  # seconds a login may take at the provider
LEEWAY = 60  # seconds of clock skew allowed on exp / iat
ALGORITHMS = ["RS256", "ES256", "PS256"]


class OidcError(IplosError):
    """The provider's answer could not be trusted (the login is refused)."""


@dataclass(frozen=True)
class OidcProvider:
    """An OpenID provider as this client is registered with it."""

    issuer: str
    client_id: str
    redirect_uri: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    client_secret: str | None = None
    scope: str = "openid profile"
    subject_claim: str = "pid"  # ID-porten's person identifier; "sub" for other providers
    name: str = "ID-porten"

    @classmethod
    def discover(
        cls, issuer: str, client_id: str, redirect_uri: str, http: httpx.Client, **options: Any
    ) -> OidcProvider:
        """The provider from its `/.well-known/openid-configuration` (its issuer must match)."""
        answer = http.get(issuer.rstrip("/") + "/.well-known/openid-configuration")
        answer.raise_for_status()
        meta = answer.json()
        if meta.get("issuer") != issuer:
            raise OidcError(f"the provider at {issuer} names itself {meta.get('issuer')!r}")
        return cls(
            issuer=issuer,
            client_id=client_id,
            redirect_uri=redirect_uri,
            authorization_endpoint=meta["authorization_endpoint"],
            token_endpoint=meta["token_endpoint"],
            jwks_uri=meta["jwks_uri"],
            **options,
        )


def subject_key(issuer: str, subject: str) -> str:
    """The stored form of a provider's subject: SHA-256 of issuer and subject (never the subject)."""
    return hashlib.sha256(f"{issuer}\n{subject}".encode()).hexdigest()


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class _Pending:
    nonce: str
    verifier: str
    started: float


class OidcLogin:
    """The client side of one provider: start a login, finish it, tell which local user it is."""

    def __init__(
        self,
        provider: OidcProvider,
        links: Mapping[str, str],
        http: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.provider = provider
        self.links = links
        self.http = http or httpx.Client(timeout=10.0)
        self.clock = clock
        self._pending: dict[str, _Pending] = {}
        self._lock = threading.Lock()

    def start(self) -> tuple[str, str]:
        """(the provider's authorization URL, the state to bind to this browser)."""
        state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
        now = self.clock()
        with self._lock:
            self._pending = {s: p for s, p in self._pending.items() if now - p.started < STATE_TTL}
            self._pending[state] = _Pending(nonce, verifier, now)
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.provider.client_id,
                "redirect_uri": self.provider.redirect_uri,
                "scope": self.provider.scope,
                "state": state,
                "nonce": nonce,
                "code_challenge": _challenge(verifier),
                "code_challenge_method": "S256",
            }
        )
        return f"{self.provider.authorization_endpoint}?{query}", state

    def finish(self, code: str, state: str, browser_state: str | None) -> dict[str, Any]:
        """The verified ID token's claims for a callback (OidcError if anything does not hold)."""
        if not state or not browser_state or not secrets.compare_digest(state, browser_state):
            raise OidcError("the login was not started in this browser")
        with self._lock:
            pending = self._pending.pop(state, None)
        if pending is None or self.clock() - pending.started >= STATE_TTL:
            raise OidcError("the login has expired or was already used; start it again")
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.provider.redirect_uri,
            "client_id": self.provider.client_id,
            "code_verifier": pending.verifier,
        }
        if self.provider.client_secret:
            form["client_secret"] = self.provider.client_secret  # client_secret_post
        answer = self.http.post(self.provider.token_endpoint, data=form)
        if answer.status_code != 200:
            raise OidcError(f"the provider refused the code (HTTP {answer.status_code})")
        id_token = answer.json().get("id_token")
        if not isinstance(id_token, str):
            raise OidcError("the provider's answer has no ID token")
        return self._verify(id_token, pending.nonce)

    def _verify(self, id_token: str, nonce: str) -> dict[str, Any]:
        keys = self.http.get(self.provider.jwks_uri)
        keys.raise_for_status()
        try:
            token = jwt.decode(id_token, KeySet.import_key_set(keys.json()), algorithms=ALGORITHMS)
            now = int(self.clock())
            jwt.JWTClaimsRegistry(
                now=now,
                leeway=LEEWAY,
                iss={"essential": True, "value": self.provider.issuer},
                aud={"essential": True, "value": self.provider.client_id},
                nonce={"essential": True, "value": nonce},
                exp={"essential": True},
                iat={"essential": True},
            ).validate(token.claims)
        except (JoseError, ValueError) as exc:
            raise OidcError(f"the ID token is not valid ({type(exc).__name__})") from None
        claims: dict[str, Any] = dict(token.claims)
        return claims

    def username(self, claims: Mapping[str, Any]) -> str:
        """The local account the verified claims belong to (OidcError, without the subject, if none)."""
        subject = claims.get(self.provider.subject_claim)
        if not isinstance(subject, str) or not subject:
            raise OidcError(f"the ID token has no {self.provider.subject_claim!r}")
        found = self.links.get(subject_key(self.provider.issuer, subject))
        if found is None:
            raise OidcError(f"no account here is linked to this {self.provider.name} identity")
        return found


def oidc_from_env(environ: Mapping[str, str], http: httpx.Client | None = None) -> OidcLogin | None:
    """The OpenID Connect login `iplos serve` offers, from the environment (None when not set).

    `IPLOS_OIDC_ISSUER`, `IPLOS_OIDC_CLIENT_ID` and `IPLOS_OIDC_REDIRECT_URI` (e.g.
    https://iplos.example/login/oidc/callback) are required together; `IPLOS_OIDC_CLIENT_SECRET`,
    `IPLOS_OIDC_SUBJECT_CLAIM` (default `pid`) and `IPLOS_OIDC_NAME` (default ID-porten) are
    optional; `IPLOS_OIDC_LINKS` is a JSON file mapping `subject_key(issuer, subject)` to usernames.
    The provider's endpoints come from its discovery document.
    """
    issuer = environ.get("IPLOS_OIDC_ISSUER", "").strip()
    if not issuer:
        return None
    missing = [
        k for k in ("IPLOS_OIDC_CLIENT_ID", "IPLOS_OIDC_REDIRECT_URI") if not environ.get(k, "").strip()
    ]
    if missing:
        raise IplosError(f"IPLOS_OIDC_ISSUER is set but {', '.join(missing)} is not")
    links: dict[str, str] = {}
    path = environ.get("IPLOS_OIDC_LINKS", "").strip()
    if path:
        try:
            loaded = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise IplosError(f"IPLOS_OIDC_LINKS {path}: {exc}") from None
        if not isinstance(loaded, dict) or not all(isinstance(v, str) for v in loaded.values()):
            raise IplosError(f"IPLOS_OIDC_LINKS {path}: must be a JSON object of subject key -> username")
        links = {str(k): v for k, v in loaded.items()}
    client = http or httpx.Client(timeout=10.0)
    provider = OidcProvider.discover(
        issuer,
        environ["IPLOS_OIDC_CLIENT_ID"].strip(),
        environ["IPLOS_OIDC_REDIRECT_URI"].strip(),
        client,
        client_secret=environ.get("IPLOS_OIDC_CLIENT_SECRET") or None,
        subject_claim=environ.get("IPLOS_OIDC_SUBJECT_CLAIM", "pid").strip() or "pid",
        name=environ.get("IPLOS_OIDC_NAME", "ID-porten").strip() or "ID-porten",
    )
    return OidcLogin(provider, links, client)

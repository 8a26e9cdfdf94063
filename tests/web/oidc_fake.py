"""A small in-process OpenID provider for the tests only: discovery, JWKS, authorization codes with
PKCE, and ID tokens signed with its own RSA key (with switches to misbehave)."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
from joserfc import jwt
from joserfc.jwk import RSAKey

ISSUER = "https://idporten.test"
CLIENT_ID = "iplos-test"
REDIRECT_URI = "http://testserver/login/oidc/callback"


@dataclass
class FakeProvider:
    key: RSAKey = field(
        default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "fake-1"}, private=True)
    )
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    sign_with: RSAKey | None = None  # another key: a forged token
    claims_override: dict[str, Any] = field(default_factory=dict)
    token_requests: int = 0

    def authorize(self, url: str, pid: str) -> tuple[str, str]:
        """The user logs in at the provider: (code, state) for the redirect back."""
        query = {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}
        assert url.startswith(f"{ISSUER}/authorize?")
        assert query["response_type"] == "code" and query["code_challenge_method"] == "S256"
        assert query["client_id"] == CLIENT_ID and query["redirect_uri"] == REDIRECT_URI
        assert "openid" in query["scope"].split()
        code = secrets.token_urlsafe(16)
        self.codes[code] = {**query, "pid": pid}
        return code, query["state"]

    def handler(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/.well-known/openid-configuration":
            return httpx.Response(
                200,
                json={
                    "issuer": ISSUER,
                    "authorization_endpoint": f"{ISSUER}/authorize",
                    "token_endpoint": f"{ISSUER}/token",
                    "jwks_uri": f"{ISSUER}/jwks",
                },
            )
        if path == "/jwks":
            return httpx.Response(200, json={"keys": [self.key.as_dict(private=False)]})
        if path == "/token":
            self.token_requests += 1
            form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
            grant = self.codes.pop(form.get("code", ""), None)  # a code works once
            if grant is None or form.get("grant_type") != "authorization_code":
                return httpx.Response(400, json={"error": "invalid_grant"})
            digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
            if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant["code_challenge"]:
                return httpx.Response(400, json={"error": "invalid_grant", "error_description": "PKCE"})
            if form.get("redirect_uri") != grant["redirect_uri"] or form.get("client_id") != CLIENT_ID:
                return httpx.Response(400, json={"error": "invalid_client"})
            now = int(time.time())
            claims = {
                "iss": ISSUER,
                "aud": CLIENT_ID,
                "sub": "pairwise-" + grant["pid"][-4:],
                "pid": grant["pid"],
                "nonce": grant["nonce"],
                "iat": now,
                "exp": now + 120,
                "acr": "idporten-loa-high",
                **self.claims_override,
            }
            token = jwt.encode({"alg": "RS256", "kid": "fake-1"}, claims, self.sign_with or self.key)
            return httpx.Response(200, content=json.dumps({"id_token": token, "token_type": "Bearer"}))
        return httpx.Response(404)

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handler), base_url=ISSUER)

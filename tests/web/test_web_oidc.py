"""OpenID Connect login (ID-porten style) against an in-process fake provider: authorization code
with PKCE, state bound to the browser, nonce, and the ID token's signature checked with the JWKS."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from joserfc.jwk import RSAKey
from oidc_fake import CLIENT_ID, ISSUER, REDIRECT_URI, FakeProvider  # type: ignore[import-not-found]
from pages_helpers import Site, Visitor, make_site  # type: ignore[import-not-found]

from iplos.web.oidc import OidcLogin, OidcProvider, subject_key

PID = "01017012345"  # a synthetic fødselsnummer (never stored or shown)


@pytest.fixture
def provider() -> FakeProvider:
    return FakeProvider()


@pytest.fixture
def site(tmp_path: Path, provider: FakeProvider) -> Iterator[Site]:
    for site in make_site(tmp_path):
        http = provider.client()
        config = OidcProvider.discover(ISSUER, CLIENT_ID, REDIRECT_URI, http)
        site.app.state.oidc = OidcLogin(config, {subject_key(ISSUER, PID): "kari"}, http)
        yield site


def start(v: Visitor) -> str:
    answer = v.client.get("/login/oidc", follow_redirects=False)
    assert answer.status_code == 303 and "iplos_oidc_state" in answer.cookies
    return str(answer.headers["location"])


def back(v: Visitor, code: str, state: str) -> object:
    return v.client.get("/login/oidc/callback", params={"code": code, "state": state}, follow_redirects=False)


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_a_linked_person_logs_in_and_gets_the_local_account(
    site: Site, provider: FakeProvider, lang: str
) -> None:
    v = site.visitor(lang=lang)
    login = v.get("/login")
    assert (
        "/login/oidc" in login.text
        and ("Logg inn med ID-porten" if lang == "nb" else "Log in with ID-porten") in login.text
    )
    code, state = provider.authorize(start(v), PID)
    answer = back(v, code, state)
    assert answer.status_code == 303 and answer.headers["location"] == "/app"  # type: ignore[attr-defined]
    home = v.get("/app")
    assert home.status_code == 200 and "kari" in home.text
    assert PID not in home.text


def refused(v: Visitor, answer: object) -> str:
    assert answer.status_code == 401  # type: ignore[attr-defined]
    text: str = answer.text  # type: ignore[attr-defined]
    assert PID not in text
    assert v.client.get("/app", follow_redirects=False).status_code == 303  # still logged out
    return text


def test_a_callback_from_another_browser_is_refused(site: Site, provider: FakeProvider) -> None:
    code, state = provider.authorize(start(site.visitor()), PID)
    other = site.visitor()
    assert "not started in this browser" in refused(other, back(other, code, state))
    assert provider.token_requests == 0  # the code was never spent


def test_a_state_works_once(site: Site, provider: FakeProvider) -> None:
    v = site.visitor()
    url = start(v)
    code, state = provider.authorize(url, PID)
    assert back(v, code, state).status_code == 303  # type: ignore[attr-defined]
    v2 = site.visitor()
    v2.client.cookies.set("iplos_oidc_state", state, path="/login/oidc")
    assert "expired or was already used" in refused(v2, back(v2, code, state))


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        ({"sign_with": RSAKey.generate_key(2048, parameters={"kid": "fake-1"}, private=True)}, "not valid"),
        ({"claims_override": {"nonce": "replayed"}}, "not valid"),
        ({"claims_override": {"aud": "someone-else"}}, "not valid"),
        ({"claims_override": {"iss": "https://evil.test"}}, "not valid"),
        ({"claims_override": {"exp": int(time.time()) - 3600}}, "not valid"),
    ],
)
def test_an_untrustworthy_id_token_is_refused(
    site: Site, provider: FakeProvider, tamper: dict[str, object], reason: str
) -> None:
    for name, value in tamper.items():
        setattr(provider, name, value)
    v = site.visitor()
    code, state = provider.authorize(start(v), PID)
    assert reason in refused(v, back(v, code, state))


def test_a_wrong_pkce_verifier_is_refused_by_the_provider(site: Site, provider: FakeProvider) -> None:
    v = site.visitor()
    url = start(v)
    code, state = provider.authorize(url, PID)
    provider.codes[code]["code_challenge"] = "not-the-challenge"
    assert "refused the code" in refused(v, back(v, code, state))


def test_an_unlinked_person_gets_no_account_and_the_message_keeps_the_subject_out(
    site: Site, provider: FakeProvider
) -> None:
    v = site.visitor()
    code, state = provider.authorize(start(v), "02029054321")
    text = refused(v, back(v, code, state))
    assert "no account here is linked" in text and "02029054321" not in text


def test_without_a_provider_there_is_no_oidc_login(tmp_path: Path) -> None:
    for site in make_site(tmp_path):
        v = site.visitor()
        assert "/login/oidc" not in v.get("/login").text
        assert v.client.get("/login/oidc", follow_redirects=False).status_code == 404


def test_the_login_is_configured_from_the_environment(tmp_path: Path, provider: FakeProvider) -> None:
    from iplos.errors import IplosError
    from iplos.web.oidc import oidc_from_env

    assert oidc_from_env({}) is None
    with pytest.raises(IplosError, match="IPLOS_OIDC_CLIENT_ID"):
        oidc_from_env({"IPLOS_OIDC_ISSUER": ISSUER})
    links = tmp_path / "links.json"
    links.write_text(json.dumps({subject_key(ISSUER, PID): "kari"}), encoding="utf-8")
    login = oidc_from_env(
        {
            "IPLOS_OIDC_ISSUER": ISSUER,
            "IPLOS_OIDC_CLIENT_ID": CLIENT_ID,
            "IPLOS_OIDC_REDIRECT_URI": REDIRECT_URI,
            "IPLOS_OIDC_LINKS": str(links),
        },
        provider.client(),
    )
    assert login is not None and login.provider.token_endpoint == f"{ISSUER}/token"
    assert login.username({"pid": PID}) == "kari" and PID not in links.read_text(encoding="utf-8")

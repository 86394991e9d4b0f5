"""The fake OAuth2 authorization server: code grant, refresh (with and without rotation), expiry, revoke."""
import base64
import json
from urllib.parse import parse_qs, urlsplit

import pytest

from connectors.sandboxkit.oauth import AuthServer
from tests.connectors.sandbox_clock import Clock


@pytest.fixture
def clock():
    return Clock()


def body(response):
    return json.loads(response[2])


def consent(auth, state="s1", redirect="https://app.example/cb?x=1"):
    status, headers, _ = auth.authorize({"client_id": "sandbox-client", "redirect_uri": redirect,
                                         "response_type": "code", "state": state, "scope": "all"})
    assert status == 302
    location = dict(headers)["Location"]
    assert location.startswith("https://app.example/cb?x=1&")
    return {k: v[-1] for k, v in parse_qs(urlsplit(location).query).items()}


def test_code_grant_with_extras_and_both_client_auths(clock):
    auth = AuthServer(clock=clock, redirect_extra={"location": "us"}, token_extra={"api_domain": "http://x"})
    query = consent(auth)
    assert query["state"] == "s1" and query["location"] == "us" and query["code"]
    form = {"grant_type": "authorization_code", "code": query["code"], "redirect_uri": "https://app.example/cb?x=1"}
    basic = "Basic " + base64.b64encode(b"sandbox-client:sandbox-secret").decode()
    status, _, raw = auth.token(basic, form)
    tokens = json.loads(raw)
    assert status == 200 and tokens["api_domain"] == "http://x" and tokens["expires_in"] == 3600
    assert {"access_token", "refresh_token"} <= set(tokens)
    assert body(auth.token(basic, form))["error"] == "invalid_grant"  # a code works once
    second = consent(auth)
    status, _, raw = auth.token("", {**form, "code": second["code"], "client_id": "sandbox-client",
                                     "client_secret": "sandbox-secret"})
    assert status == 200 and auth.token_calls == 3


def test_wrong_client_and_redirect(clock):
    auth = AuthServer(clock=clock)
    code = consent(auth)["code"]
    assert auth.token("", {"grant_type": "authorization_code", "code": code, "client_id": "sandbox-client",
                           "redirect_uri": "https://app.example/cb?x=1", "client_secret": "wrong"})[0] == 401
    assert auth.authorize({"client_id": "other", "redirect_uri": "https://a"})[0] == 400
    assert body(auth.token("", {"grant_type": "password", "client_id": "sandbox-client",
                                "client_secret": "sandbox-secret"}))["error"] == "unsupported_grant_type"


def test_expiry_and_check_scheme(clock):
    auth = AuthServer(clock=clock, access_ttl=60, scheme="Zoho-oauthtoken")
    token = auth.issue()["access_token"]
    assert auth.check(f"Zoho-oauthtoken {token}") is None
    assert auth.check(f"Bearer {token}") == "missing"
    assert auth.check(f"Bearer {token}", scheme="Bearer") is None
    assert auth.check("Zoho-oauthtoken nope") == "invalid"
    clock.advance(61)
    assert auth.check(f"Zoho-oauthtoken {token}") == "expired"
    assert auth.token_calls == 0  # issue() is not a token call


def refresh(auth, token):
    return auth.token("", {"grant_type": "refresh_token", "refresh_token": token, "client_id": "sandbox-client",
                           "client_secret": "sandbox-secret"})


def test_refresh_without_rotation_keeps_refresh_token(clock):
    auth = AuthServer(clock=clock)
    first = auth.issue()
    again = body(refresh(auth, first["refresh_token"]))
    assert "refresh_token" not in again and again["access_token"] != first["access_token"]
    assert body(refresh(auth, first["refresh_token"]))["access_token"]


def test_refresh_with_rotation(clock):
    auth = AuthServer(clock=clock, rotate_refresh=True)
    first = auth.issue()
    second = body(refresh(auth, first["refresh_token"]))
    assert second["refresh_token"] != first["refresh_token"]
    assert body(refresh(auth, first["refresh_token"]))["error"] == "invalid_grant"
    assert "access_token" in body(refresh(auth, second["refresh_token"]))


def test_revoke_ends_grant_and_errors_go_through_platform_callback(clock):
    auth = AuthServer(clock=clock, render_error=lambda error, status: (200, {"error": error.upper()}))
    tokens = auth.issue()
    assert auth.revoke("", {"token": tokens["refresh_token"]})[0] == 200
    assert auth.check(f"Bearer {tokens['access_token']}") == "revoked"
    status, _, raw = refresh(auth, tokens["refresh_token"])
    assert status == 200 and json.loads(raw) == {"error": "INVALID_GRANT"}

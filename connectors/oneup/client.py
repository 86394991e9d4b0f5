"""OneUp REST JSON over the shared request loop: API email plus API key on every request (no OAuth2).

GUESS: the header names. OneUp's documentation says only "API email and API key"; we send the key through the
loop's Authorization header (scheme ``Bearer``) and the email as ``X-Api-Email``. Not registered yet.
"""
from __future__ import annotations

from ..http import ApiClient
from . import errors

API_BASE = "https://api.oneup.com/v1"


class OneUpClient(ApiClient):
    platform = "OneUp"
    auth_scheme = "Bearer"  # GUESS
    classify = staticmethod(errors.classify)

    def __init__(self, api_base: str, api_email: str, api_key_getter, **kwargs) -> None:
        super().__init__(api_base, api_key_getter, **kwargs)
        self.api_email = api_email

    def default_headers(self) -> dict:
        return {**super().default_headers(), "X-Api-Email": self.api_email}

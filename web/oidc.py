"""Sign-in with the organization's Microsoft 365 or Google account (OpenID Connect).

The authorization-code flow with PKCE (Authlib's OAuth2 client), the ID token's signature
checked against the provider's published keys and its claims (issuer, audience, expiry, nonce)
checked with joserfc. A staff member's first sign-in matches the email they were added with,
when the provider vouches for it (``email_verified``, or Entra's ``xms_edov``), and links their
account to the provider's stable subject; later sign-ins match that subject, never the email
(which an Entra user or admin can change). ``preferred_username`` is never read.

The provider is configured by ``oidc_issuer`` (e.g.
``https://login.microsoftonline.com/TENANT-ID/v2.0`` for one Microsoft 365 organization,
``https://accounts.google.com`` for Google), ``oidc_client_id`` and ``oidc_client_secret``; the
redirect address to register with the provider is ``web_base_url`` + ``/login/oidc/callback``.
``docketwatch staff set EMAIL --unlink-sign-in`` forgets a link (a person's new account).
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from storage.errors import ConfigError, ValidationError

TIMEOUT_S = 10.0
CACHE_S = 3600.0


@dataclass(frozen=True)
class Identity:
    """A person as the sign-in provider names them: ``subject`` is the issuer and its stable
    id for them (Entra's ``oid``, else ``sub``); ``email`` may be empty or unverified."""

    subject: str
    email: str
    verified: bool


@dataclass(frozen=True)
class Started:
    url: str  # where the browser goes to sign in
    state: str
    nonce: str
    verifier: str


class Provider:
    def __init__(self, issuer: str, client_id: str, client_secret: str, label: str) -> None:
        self.issuer = issuer.rstrip("/")
        self.client_id, self.client_secret, self.label = client_id, client_secret, label
        self._meta: tuple[float, dict[str, Any]] | None = None
        self._keys: tuple[float, Any] | None = None
        self._lock = threading.Lock()

    def _get(self, url: str) -> dict[str, Any]:
        import requests

        try:
            answer = requests.get(url, timeout=TIMEOUT_S)
            answer.raise_for_status()
            data = answer.json()
        except (requests.RequestException, ValueError) as exc:
            raise ConfigError(
                f"the sign-in provider at {self.issuer} did not answer: {exc}"
            ) from None
        if not isinstance(data, dict):
            raise ConfigError(f"the sign-in provider at {self.issuer} answered no JSON object")
        return data

    def metadata(self) -> dict[str, Any]:
        with self._lock:
            if self._meta is None or time.monotonic() - self._meta[0] > CACHE_S:
                meta = self._get(f"{self.issuer}/.well-known/openid-configuration")
                if meta.get("issuer", "").rstrip("/") != self.issuer:
                    raise ConfigError(
                        f"{self.issuer} publishes another issuer: {meta.get('issuer')!r}"
                    )
                self._meta = (time.monotonic(), meta)
            return self._meta[1]

    def keys(self, refresh: bool = False) -> Any:
        from joserfc.jwk import KeySet

        meta = self.metadata()
        with self._lock:
            if refresh or self._keys is None or time.monotonic() - self._keys[0] > CACHE_S:
                self._keys = (time.monotonic(), KeySet.import_key_set(self._get(meta["jwks_uri"])))  # type: ignore[arg-type]
            return self._keys[1]

    def _client(self, redirect_uri: str) -> Any:
        from authlib.integrations.requests_client import OAuth2Session

        return OAuth2Session(
            self.client_id,
            self.client_secret,
            scope="openid email profile",
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            timeout=TIMEOUT_S,
        )

    def start(self, redirect_uri: str) -> Started:
        state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        verifier = secrets.token_urlsafe(48)
        url, _ = self._client(redirect_uri).create_authorization_url(
            self.metadata()["authorization_endpoint"],
            state=state,
            nonce=nonce,
            code_verifier=verifier,
        )
        return Started(url, state, nonce, verifier)

    def finish(self, redirect_uri: str, code: str, verifier: str, nonce: str) -> Identity:
        """Who the provider signed in; ValidationError if the answer cannot be trusted."""
        from authlib.common.errors import AuthlibBaseError
        from joserfc import jwt
        from joserfc.errors import JoseError

        try:
            token = self._client(redirect_uri).fetch_token(
                self.metadata()["token_endpoint"],
                code=code,
                code_verifier=verifier,
                grant_type="authorization_code",
            )
        except (AuthlibBaseError, OSError, ValueError) as exc:
            raise ValidationError(f"the sign-in provider refused the sign-in: {exc}") from None
        raw = token.get("id_token") if isinstance(token, dict) else None
        if not raw:
            raise ValidationError("the sign-in provider sent no ID token")
        try:
            try:
                decoded = jwt.decode(raw, self.keys(), algorithms=["RS256", "ES256"])
            except JoseError:  # the provider may have rotated its keys
                decoded = jwt.decode(raw, self.keys(refresh=True), algorithms=["RS256", "ES256"])
            jwt.JWTClaimsRegistry(
                leeway=60,
                iss={"essential": True, "value": self.metadata()["issuer"]},
                aud={"essential": True, "value": self.client_id},
                nonce={"essential": True, "value": nonce},
                exp={"essential": True},
            ).validate(decoded.claims)
        except (JoseError, ValueError) as exc:
            raise ValidationError(f"the sign-in provider's ID token is not valid: {exc}") from None
        return identity(decoded.claims)


def _true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def identity(claims: dict[str, Any]) -> Identity:
    """Who an ID token (already checked) names: its stable subject, and its email when the
    provider vouches for it. Only ``email`` is an email (``preferred_username`` is a login name
    the user or an admin may set, and is never read); it is vouched for by
    ``email_verified: true``, or, for Microsoft Entra ID, which sends no ``email_verified``, by
    its optional claim ``xms_edov: true`` (the email's domain is verified by the tenant)."""
    subject = str(claims.get("oid") or claims.get("sub") or "").strip()
    if not subject:
        raise ValidationError("the sign-in provider's ID token names no subject")
    email = str(claims.get("email") or "").strip().lower()
    if "email_verified" in claims:
        verified = _true(claims["email_verified"])
    else:
        verified = _true(claims.get("xms_edov"))
    return Identity(subject=f"{claims['iss']} {subject}"[:400], email=email, verified=verified)

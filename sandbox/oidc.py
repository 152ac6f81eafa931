"""A local OpenID Connect provider standing in for the organization's Microsoft 365 or Google
sign-in (third-party services the tests must not reach).

It speaks the authorization-code flow as those providers do: discovery at
``/.well-known/openid-configuration``, ``/authorize`` (it signs in as :attr:`email` at once, as a
browser already signed in to the provider would), ``/token`` (client secret and PKCE S256
checked, codes good once), and ``/jwks`` with an RS256 key made at start. ``id_token`` carries
``iss``, ``aud``, ``exp``, ``iat``, ``nonce``, ``sub``, ``email`` and ``email_verified``, each
of the last two left out when the state says so (Entra sends no ``email_verified``), and any
extra claims (Entra's ``oid`` and ``xms_edov``, a ``preferred_username``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from sandbox.http import ReplicaHandler, ReplicaServer


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    nonce: str
    challenge: str
    email: str


@dataclass
class IdpState:
    email: str = "ana@example.org"  # "": no email claim
    email_verified: bool | None = True  # None: no email_verified claim (Microsoft Entra ID)
    issuer_override: str = ""  # sign tokens as another issuer (a forged provider)
    subject: str = ""  # the sub; "": one derived from the email (a person per email)
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. Entra's oid, xms_edov
    codes: dict[str, _Code] = field(default_factory=dict)


class OidcProvider(ReplicaServer):
    def __init__(self, client_id: str, client_secret: str, port: int = 0) -> None:
        from joserfc.jwk import KeySet, RSAKey

        self.client_id, self.client_secret = client_id, client_secret
        self.key = RSAKey.generate_key(
            2048, parameters={"kid": "idp-1", "use": "sig", "alg": "RS256"}
        )
        self.jwks = KeySet([self.key]).as_dict(private=False)
        self.state = IdpState()
        self.lock = threading.Lock()
        super().__init__(port, self._handler())

    @property
    def issuer(self) -> str:
        return self.url

    def _token(self, code: _Code) -> dict[str, Any]:
        from joserfc import jwt

        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.state.issuer_override or self.issuer,
            "aud": code.client_id,
            "sub": self.state.subject or hashlib.sha256(code.email.encode()).hexdigest()[:20],
            "iat": now,
            "exp": now + 600,
            "nonce": code.nonce,
            **self.state.extra,
        }
        if code.email:
            claims["email"] = code.email
        if self.state.email_verified is not None:
            claims["email_verified"] = self.state.email_verified
        id_token = jwt.encode({"alg": "RS256", "kid": "idp-1"}, claims, self.key)
        return {
            "access_token": secrets.token_urlsafe(16),
            "token_type": "Bearer",
            "expires_in": 600,
            "id_token": id_token,
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        idp = self

        class Handler(ReplicaHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                if parts.path == "/.well-known/openid-configuration":
                    body = {
                        "issuer": idp.issuer,
                        "authorization_endpoint": f"{idp.url}/authorize",
                        "token_endpoint": f"{idp.url}/token",
                        "jwks_uri": f"{idp.url}/jwks",
                        "response_types_supported": ["code"],
                        "id_token_signing_alg_values_supported": ["RS256"],
                        "code_challenge_methods_supported": ["S256"],
                    }
                    self._send(200, "application/json", json.dumps(body))
                elif parts.path == "/jwks":
                    self._send(200, "application/json", json.dumps(idp.jwks))
                elif parts.path == "/authorize":
                    if (
                        query.get("client_id") != idp.client_id
                        or query.get("response_type") != "code"
                    ):
                        self._send(400, "text/plain", "unknown client or response type")
                        return
                    if query.get("code_challenge_method") != "S256" or not query.get(
                        "code_challenge"
                    ):
                        self._send(400, "text/plain", "PKCE S256 required")
                        return
                    code = secrets.token_urlsafe(16)
                    with idp.lock:
                        idp.state.codes[code] = _Code(
                            idp.client_id,
                            query.get("redirect_uri", ""),
                            query.get("nonce", ""),
                            query["code_challenge"],
                            idp.state.email,
                        )
                    target = (
                        query.get("redirect_uri", "")
                        + "?"
                        + urlencode({"code": code, "state": query.get("state", "")})
                    )
                    self.send_response(302)
                    self.send_header("Location", target)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                else:
                    self._send(404, "text/plain", "Not Found")

            def do_POST(self) -> None:
                if urlsplit(self.path).path != "/token":
                    self._send(404, "text/plain", "Not Found")
                    return
                length = int(self.headers.get("Content-Length", "0") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
                auth = self.headers.get("Authorization", "")
                if auth.startswith("Basic "):
                    client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
                if (client_id, secret) != (idp.client_id, idp.client_secret):
                    self._send(401, "application/json", '{"error": "invalid_client"}')
                    return
                with idp.lock:
                    code = idp.state.codes.pop(form.get("code", ""), None)  # good once
                verifier = form.get("code_verifier", "")
                digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
                if (
                    code is None
                    or code.redirect_uri != form.get("redirect_uri")
                    or digest.rstrip(b"=").decode() != code.challenge
                ):
                    self._send(400, "application/json", '{"error": "invalid_grant"}')
                    return
                self._send(200, "application/json", json.dumps(idp._token(code)))

        return Handler

"""A real OpenID Connect provider on localhost for the single sign-on tests: Debian's glewlwyd.

Everything lives in a temporary folder: a SQLite database made from the schema the package ships,
a configuration file, a copy of the login web app with its own ``config.json``. The provider is
then set up through its own admin API, as an institution's IT office would: an OIDC plugin with
an RSA signing key, one confidential client (the quiz app) and some users with passwords.

``QUIZ_TEST_GLEWLWYD`` names the binary (``scripts/test.sh`` installs the package and sets it);
without it the SSO tests skip locally, and under CI they fail.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import requests

SCHEMA = Path("/usr/share/dbconfig-common/data/glewlwyd/install/sqlite3")
WEBAPP = Path("/usr/share/glewlwyd/webapp")
WEBAPP_CONFIG = Path("/etc/glewlwyd/config-2.7.json/config.json")
MODULES = Path("/usr/lib/glewlwyd")
ADMIN = ("admin", "password")  # the account the shipped schema creates
PLUGIN = "oidc"  # the plugin instance's name: its endpoints are under /api/oidc/


@dataclasses.dataclass
class Provider:
    url: str  # http://127.0.0.1:PORT/
    issuer: str  # what the ID tokens say in ``iss``
    metadata_url: str  # .well-known/openid-configuration
    client_id: str
    client_secret: str
    database: Path  # glewlwyd's own SQLite file (to read the subjects it gave out)

    def subject(self, username: str) -> str | None:
        """The ``sub`` the provider gave ``username`` for this client, read from its own database."""
        with contextlib.closing(sqlite3.connect(self.database)) as db:
            row = db.execute("SELECT gposi_sub FROM gpo_subject_identifier WHERE gposi_username = ?",
                             (username,)).fetchone()
        return row[0] if row else None


def _rsa_key_pair() -> tuple[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


def _plugin_parameters(issuer: str, private: str, public: str) -> dict:
    return {
        "iss": issuer, "jwt-type": "rsa", "jwt-key-size": "256", "key": private, "cert": public,
        "jwks-uri": "", "jwks-private": "", "default-kid": "", "client-sign_kid-parameter": "",
        "jwks-public": "", "jwks-public-uri": "", "jwks-show": True, "jwks-x5c": [],
        "access-token-duration": 3600, "refresh-token-duration": 1209600, "code-duration": 600,
        "refresh-token-rolling": True, "refresh-token-one-use": "never",
        "client-refresh-token-one-use-parameter": "refresh-token-one-use", "allow-non-oidc": False,
        "auth-type-code-enabled": True, "auth-type-code-revoke-replayed": False,
        "auth-type-token-enabled": False, "auth-type-id-token-enabled": True, "auth-type-none-enabled": False,
        "auth-type-password-enabled": False, "auth-type-client-enabled": False,
        "auth-type-device-enabled": False, "auth-type-refresh-enabled": True,
        "scope": [], "additional-parameters": [], "claims": [],
        "service-documentation": "", "op-policy-uri": "", "op-tos-uri": "",
        "request-parameter-allow": False, "request-uri-allow-https-non-secure": False,
        "request-parameter-allow-encrypted": False, "request-parameter-ietf-strict": False,
        "secret-type": "public",
        "address-claim": {"type": "no", "formatted": "", "street_address": "", "locality": "", "region": "",
                          "postal_code": "", "country": "", "mandatory": False},
        "name-claim": "mandatory", "name-claim-scope": [], "email-claim": "mandatory", "email-claim-scope": [],
        "scope-claim": "no", "scope-claim-scope": [],
        "allowed-scope": ["openid"], "pkce-allowed": True, "pkce-method-plain-allowed": False,
        "introspection-revocation-allowed": False, "introspection-revocation-auth-scope": [],
        "introspection-revocation-allow-target-client": True, "register-client-allowed": False,
        "register-client-auth-scope": [], "register-client-credentials-scope": [],
        "register-client-management-allowed": False, "register-resource-specify-allowed": False,
        "register-resource-default": [], "session-management-allowed": False,
        "session-cookie-name": "GLEWLWYD2_OP_SESSION_ID", "session-cookie-expiration": 2419200,
        "client-pubkey-parameter": "", "client-jwks-parameter": "jwks", "client-jwks_uri-parameter": "jwks_uri",
        "request-maximum-exp": 3600, "encrypt-out-token-allow": False,
        "device-authorization-expiration": 600, "device-authorization-interval": 5,
        "client-cert-header-name": "SSL_CLIENT_CERT", "client-cert-use-endpoint-aliases": False,
        "client-cert-self-signed-allowed": False, "oauth-dpop-allowed": False, "oauth-dpop-iat-duration": 10,
        "resource-allowed": False, "resource-scope": {}, "resource-client-property": "",
        "resource-scope-and-client-property": False, "resource-change-allowed": False,
        "oauth-rar-allowed": False, "rar-types-client-property": "authorization_data_types",
        "rar-allow-auth-unsigned": False, "rar-allow-auth-unencrypted": True, "rar-types": {},
        "oauth-par-allowed": False, "oauth-par-duration": 90, "oauth-par-required": False,
        "oauth-par-request_uri-prefix": "urn:ietf:params:oauth:request_uri:",
        "prompt-continue-client-property": "", "restrict-scope-client-property": "",
    }


def _config_file(folder: Path, port: int, database: Path, webapp: Path) -> Path:
    mime = [(".html", "text/html"), (".css", "text/css"), (".js", "application/javascript"),
            (".json", "application/json"), (".png", "image/png"), (".ico", "image/x-icon"),
            (".svg", "image/svg+xml"), (".woff", "font/woff"), (".woff2", "font/woff2"), (".ttf", "font/ttf")]
    mime_text = ",\n".join(f'  {{ extension = "{ext}"\n    mime_type = "{kind}" }}' for ext, kind in mime)
    text = f"""
port={port}
bind_address="127.0.0.1"
external_url="http://127.0.0.1:{port}"
login_url="login.html"
static_files_path="{webapp}/"
api_prefix="api"
allow_origin="*"
log_mode="file"
log_level="INFO"
log_file="{folder}/glewlwyd.log"
cookie_secure=0
cookie_same_site="empty"
session_expiration=2419200
session_key="GLEWLWYD2_SESSION_ID"
admin_session_authentication="cookie"
profile_session_authentication="cookie"
allow_multiple_user_per_session=true
login_api_enabled=true
add_x_frame_option_header_deny=true
max_post_size=16778240
admin_scope="g_admin"
profile_scope="g_profile"
user_module_path="{MODULES}/user"
client_module_path="{MODULES}/client"
user_auth_scheme_module_path="{MODULES}/scheme"
plugin_module_path="{MODULES}/plugin"
hash_algorithm="SHA512"
database =
{{
  type = "sqlite3"
  path = "{database}"
}};
static_files_mime_types =
(
{mime_text}
);
"""
    path = folder / "glewlwyd.conf"
    path.write_text(text)
    return path


def _webapp(folder: Path) -> Path:
    """The shipped login app, with a config.json of our own (the shipped one is the package's)."""
    copy = folder / "webapp"  # a copy: glewlwyd serves no file through a symbolic link
    shutil.copytree(WEBAPP, copy, symlinks=False, ignore=shutil.ignore_patterns("config.json"))
    if WEBAPP_CONFIG.exists():  # glewlwyd-common's, with the login page's languages and schemes
        config = json.loads(WEBAPP_CONFIG.read_text())
    else:
        config = {"GlewlwydUrl": "./", "ProfileUrl": "profile.html", "AdminUrl": "index.html",
                  "LoginUrl": "login.html", "CallbackPage": "callback.html", "PasswordMinLength": 8,
                  "lang": ["en"], "defaultScheme": "", "sessionSchemes": [], "register": False}
    (copy / "config.json").write_text(json.dumps(config))
    return copy


def _free_port() -> int:
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_glewlwyd(binary: str, *, redirect_uri: str, users: dict[str, tuple[str, str]],
                     timeout: float = 30.0) -> Iterator[Provider]:
    """Start glewlwyd with a client for ``redirect_uri`` and ``users`` {username: (password, email)}."""
    if not Path(binary).exists():
        raise RuntimeError(f"{binary} is missing: install Debian's glewlwyd (scripts/test.sh does)")
    folder = Path(tempfile.mkdtemp(prefix="quiz-glewlwyd-"))
    process = None
    try:
        database = folder / "glewlwyd.db"
        with contextlib.closing(sqlite3.connect(database)) as db:
            db.executescript(SCHEMA.read_text())
            db.commit()
        port = _free_port()
        config = _config_file(folder, port, database, _webapp(folder))
        base = f"http://127.0.0.1:{port}"
        process = subprocess.Popen([binary, f"--config-file={config}"], cwd=folder,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                log = (folder / "glewlwyd.log").read_text() if (folder / "glewlwyd.log").exists() else ""
                raise RuntimeError(f"glewlwyd exited early:\n{process.stdout.read()}\n{log}")
            try:
                if requests.get(f"{base}/config", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("glewlwyd did not answer in time")
            time.sleep(0.2)

        admin = requests.Session()
        _ok(admin.post(f"{base}/api/auth/", json={"username": ADMIN[0], "password": ADMIN[1]}), "admin sign-in")
        issuer = f"{base}/api/{PLUGIN}"
        private, public = _rsa_key_pair()
        _ok(admin.post(f"{base}/api/mod/plugin/", json={
            "module": "oidc", "name": PLUGIN, "display_name": "OpenID Connect",
            "parameters": _plugin_parameters(issuer, private, public)}), "OIDC plugin")
        client_id, client_secret = "quiz-app", os.urandom(16).hex()
        _ok(admin.post(f"{base}/api/client/", json={
            "client_id": client_id, "name": "Case-based quiz", "confidential": True,
            "password": client_secret, "client_secret": client_secret,
            "redirect_uri": [redirect_uri], "authorization_type": ["code", "refresh_token"],
            "token_endpoint_auth_method": ["client_secret_basic", "client_secret_post"],
            "scope": ["openid"], "enabled": True}), "client")
        for username, (password, email) in users.items():
            _ok(admin.post(f"{base}/api/user/", json={
                "username": username, "name": username.title(), "email": email, "password": password,
                "scope": ["openid", "g_profile"], "enabled": True}), f"user {username}")
        yield Provider(url=base + "/", issuer=issuer, metadata_url=f"{issuer}/.well-known/openid-configuration",
                       client_id=client_id, client_secret=client_secret, database=database)
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(folder, ignore_errors=True)


def _ok(response: requests.Response, what: str) -> None:
    if response.status_code != 200:
        raise RuntimeError(f"glewlwyd refused the {what}: {response.status_code} {response.text[:500]}")

"""The service's Ed25519 key, which signs ballot records so a national body can check them offline.

The private key is a PEM file (`BALLOTDESK_SIGNING_KEY`). In embedded mode a missing key is made
once, beside the SQLite database (or under var/), readable by its owner only; in production the
key is the operator's to provide (`ballotdesk keygen PATH` makes one), since every process must
sign and authenticate events with the same one: production processes refuse to start without it
(`key_problem`, through services.platform.config_check).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import threading
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy.engine import make_url

from services.platform.settings import Settings
from services.rules.errors import DomainError

ALGORITHM = "Ed25519"
KEY_FILE = "signing-key.pem"
_lock = threading.Lock()
_cache: dict[Path, Ed25519PrivateKey] = {}


class SigningKeyMissing(DomainError):
    status = 503
    title = "Signing key not configured"


class BadPublicKey(ValueError):
    """The given public key is not an Ed25519 public key in PEM."""


def key_path(settings: Settings) -> Path:
    if settings.signing_key_path:
        return Path(settings.signing_key_path)
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).parent / KEY_FILE
    return Path("var") / KEY_FILE


def private_key(settings: Settings) -> Ed25519PrivateKey:
    """The signing key, made on first use in embedded mode."""
    production = settings.environment == "production"
    if production and not settings.signing_key_path:
        raise SigningKeyMissing(MISSING)
    path = key_path(settings)
    with _lock:
        if path in _cache:
            return _cache[path]
        if not path.exists():
            if production:
                raise SigningKeyMissing(
                    f"No signing key at {path}: set BALLOTDESK_SIGNING_KEY to an Ed25519 private key (PEM)."
                )
            create_key(path)
        loaded = load_key(path)
        _cache[path] = loaded
        return loaded


MISSING = (
    "BALLOTDESK_SIGNING_KEY is empty; production needs the path of the Ed25519 private key (PEM) that every "
    "process shares: it signs ballot records and authenticates every event. Make one with `ballotdesk keygen PATH` "
    "(or `openssl genpkey -algorithm ed25519 -out PATH`); an installation moved from embedded mode keeps its "
    "var/signing-key.pem."
)


def load_key(path: Path) -> Ed25519PrivateKey:
    try:
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise SigningKeyMissing(f"The signing key at {path} is not an unencrypted private key in PEM: {exc}") from None
    if not isinstance(loaded, Ed25519PrivateKey):
        raise SigningKeyMissing(f"The signing key at {path} is not an Ed25519 key.")
    return loaded


def key_problem(settings: Settings) -> str | None:
    """Why a production process cannot start with these settings' signing key (None: it can)."""
    if settings.environment != "production":
        return None
    if not settings.signing_key_path:
        return MISSING
    path = Path(settings.signing_key_path)
    try:
        load_key(path)
    except OSError as exc:
        return f"BALLOTDESK_SIGNING_KEY names {path}, which cannot be read ({exc.strerror or exc})."
    except SigningKeyMissing as exc:
        return f"BALLOTDESK_SIGNING_KEY: {exc.detail}"
    return None


def record_key(settings: Settings) -> bytes:
    """The key of the events' authenticators (`services.rules.authenticity`), derived from the
    signing key: outside the database like it, and one secret for the operator to keep, not two."""
    raw = private_key(settings).private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return hmac.new(raw, b"ballotdesk event authenticator v1", hashlib.sha256).digest()


def create_key(path: Path) -> bool:
    """Write a new key at `path`, readable by its owner only; False when a file is there already
    (never replaced: records signed with it would no longer verify)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    # O_EXCL: two processes starting together must not each write a different key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as out:
        os.fchmod(out.fileno(), 0o600)  # whatever the umask
        out.write(pem)
    return True


def public_pem(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def key_id(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """A short fingerprint: the first 16 hex digits of the SHA-256 of the raw public key."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def sign(key: Ed25519PrivateKey, data: bytes) -> str:
    return base64.b64encode(key.sign(data)).decode("ascii")


def load_public(pem: bytes | str) -> Ed25519PublicKey:
    try:
        loaded = serialization.load_pem_public_key(pem.encode() if isinstance(pem, str) else pem)
    except ValueError as exc:
        raise BadPublicKey(f"not a PEM public key: {exc}") from None
    if not isinstance(loaded, Ed25519PublicKey):
        raise BadPublicKey("the public key is not an Ed25519 key")
    return loaded


def verify(public: Ed25519PublicKey, data: bytes, signature: str) -> bool:
    try:
        public.verify(base64.b64decode(signature, validate=True), data)
    except (InvalidSignature, ValueError):
        return False
    return True

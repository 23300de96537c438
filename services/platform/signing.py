"""The service's Ed25519 key, which signs ballot records so a national body can check them offline.

The private key is a PEM file (`BALLOTDESK_SIGNING_KEY`). In embedded mode a missing key is made
once, beside the SQLite database (or under var/), readable by its owner only; in production the
key is the operator's to provide, since every API process must sign with the same one.
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
    path = key_path(settings)
    with _lock:
        if path in _cache:
            return _cache[path]
        if not path.exists():
            if settings.environment == "production":
                raise SigningKeyMissing(
                    f"No signing key at {path}: set BALLOTDESK_SIGNING_KEY to an Ed25519 private key (PEM)."
                )
            _create(path)
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(loaded, Ed25519PrivateKey):
            raise SigningKeyMissing(f"The signing key at {path} is not an Ed25519 key.")
        _cache[path] = loaded
        return loaded


def record_key(settings: Settings) -> bytes:
    """The key of the events' authenticators (`services.rules.authenticity`), derived from the
    signing key: outside the database like it, and one secret for the operator to keep, not two."""
    raw = private_key(settings).private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return hmac.new(raw, b"ballotdesk event authenticator v1", hashlib.sha256).digest()


def _create(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    # O_EXCL: two processes starting together must not each write a different key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as out:
        out.write(pem)


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

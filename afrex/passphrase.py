"""Pulumi-compatible passphrase secrets, so stack files get encrypted values
without the Pulumi CLI.

Same scheme as the CLI's passphrase secrets provider: a 256-bit AES-GCM key
derived with PBKDF2-HMAC-SHA256 (1,000,000 rounds) from the passphrase and an
8-byte salt; the stack file's `encryptionsalt` is `v1:<salt>:<encrypt("pulumi")>`
and each secure value is `v1:<nonce>:<ciphertext+tag>` (all base64).
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from afrex.errors import BadInput

PASSPHRASE_ENV = "PULUMI_CONFIG_PASSPHRASE"
ROUNDS = 1_000_000
VERIFIER = "pulumi"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@dataclass(frozen=True)
class PassphraseCrypter:
    """Encrypts and decrypts config values for one stack file's salt."""

    key: bytes
    salt: bytes

    @classmethod
    def new(cls, passphrase: str) -> PassphraseCrypter:
        salt = os.urandom(8)
        return cls(_derive(passphrase, salt), salt)

    @classmethod
    def from_state(cls, passphrase: str, encryption_salt: str) -> PassphraseCrypter:
        """Open an existing stack file's `encryptionsalt`; a wrong passphrase fails."""
        parts = encryption_salt.split(":", 2)
        if len(parts) != 3 or parts[0] != "v1":
            raise BadInput(
                f"malformed encryptionsalt '{encryption_salt[:12]}...'",
                "restore the stack file from git",
            )
        salt = base64.b64decode(parts[1])
        crypter = cls(_derive(passphrase, salt), salt)
        try:
            verified = crypter.decrypt(parts[2]) == VERIFIER
        except BadInput:
            verified = False
        if not verified:
            raise BadInput(
                "the passphrase does not open this stack file",
                f"set {PASSPHRASE_ENV} to the stack's passphrase",
            )
        return crypter

    @property
    def state(self) -> str:
        """The `encryptionsalt` line for the stack file."""
        return f"v1:{_b64(self.salt)}:{self.encrypt(VERIFIER)}"

    def encrypt(self, plaintext: str) -> str:
        nonce = os.urandom(12)
        sealed = AESGCM(self.key).encrypt(nonce, plaintext.encode("utf-8"), None)
        return f"v1:{_b64(nonce)}:{_b64(sealed)}"

    def decrypt(self, ciphertext: str) -> str:
        parts = ciphertext.split(":")
        if len(parts) != 3 or parts[0] != "v1":
            raise BadInput("malformed secure value", "re-set it with `pulumi config set --secret`")
        try:
            plain = AESGCM(self.key).decrypt(
                base64.b64decode(parts[1]), base64.b64decode(parts[2]), None
            )
        except InvalidTag:
            raise BadInput(
                "the passphrase does not decrypt this value",
                f"set {PASSPHRASE_ENV} to the stack's passphrase",
            ) from None
        return plain.decode("utf-8")


def _derive(passphrase: str, salt: bytes) -> bytes:
    kdf = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=salt, iterations=ROUNDS)
    return kdf.derive(passphrase.encode("utf-8"))

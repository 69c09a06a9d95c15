#!/usr/bin/env python3
"""Independent decoder for Ident vault files (format versions 1 and 2).

Written from docs/vault.md only, without the Rust code, to check that the
document is complete. Prints every account as JSON (version 2: with its
recent answers); with --secrets also the OTP seeds (base32) and device keys
(PKCS#8, base64). Read-only: it works on a
copy of the file, so the original (and its wrong-PIN counter) is untouched.

Needs: pip install cryptography argon2-cffi

    python3 docs/decrypt_vault.py crates/ident-core/tests/fixtures/vault-v1.db 246810
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import shutil
import sqlite3
import sys
import tempfile

from argon2.low_level import Type, hash_secret_raw
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

APPLICATION_ID = 0x49444E54  # "IDNT"
NONCE_LEN = 12


def open_blob(key: bytes, aad: str, blob: bytes) -> bytes:
    """nonce(12) || ciphertext || tag(16), AES-256-GCM, AAD as UTF-8."""
    return AESGCM(key).decrypt(blob[:NONCE_LEN], blob[NONCE_LEN:], aad.encode())


def copy_db(path: str) -> str:
    tmp = tempfile.mkdtemp()
    dst = os.path.join(tmp, "vault.db")
    shutil.copy(path, dst)
    if os.path.exists(path + "-wal"):
        shutil.copy(path + "-wal", dst + "-wal")
    return dst


def decode(path: str, pin: str, show_secrets: bool) -> dict:
    db = sqlite3.connect(copy_db(path))
    (version,) = db.execute("PRAGMA user_version").fetchone()
    (app_id,) = db.execute("PRAGMA application_id").fetchone()
    if app_id != APPLICATION_ID or version not in (1, 2):
        sys.exit(f"not an Ident vault v1/v2 (application_id={app_id:#x}, user_version={version})")
    row = db.execute(
        "SELECT kdf_algorithm, kdf_version, kdf_memory_kib, kdf_iterations, kdf_parallelism,"
        " kdf_salt, pin_check, pin_wrapped_key, key_check, locked_forever, failed_attempts"
        " FROM vault WHERE id = 1"
    ).fetchone()
    alg, kver, m, t, p, salt, pin_check, wrapped, key_check, locked, failed = row
    if locked or wrapped is None:
        sys.exit("the vault was locked for good; its key has been erased")
    assert alg == "argon2id"
    k = hash_secret_raw(pin.encode(), salt, time_cost=t, memory_cost=m, parallelism=p,
                        hash_len=32, type=Type.ID, version=kver)
    wrap_key = hmac.new(k, b"ident-vault-v1|pin-wrap", hashlib.sha256).digest()
    check = hmac.new(k, b"ident-vault-v1|pin-check", hashlib.sha256).digest()
    if not hmac.compare_digest(check, pin_check):
        sys.exit("wrong PIN")
    vault_key = open_blob(wrap_key, "ident-vault-v1|vault-key|pin", wrapped)
    expected = hmac.new(vault_key, b"ident-vault-v1|key-check", hashlib.sha256).digest()
    assert hmac.compare_digest(expected, key_check), "key check mismatch"

    accounts = []
    rows = db.execute(
        "SELECT a.id, a.position, a.kind, a.meta, s.secret FROM accounts a"
        " JOIN secrets s ON s.account_id = a.id ORDER BY a.position, a.id"
    )
    for aid, pos, kind, meta, secret in rows:
        doc = json.loads(open_blob(vault_key, f"ident-vault-v1|account|{aid}|meta", meta))
        assert (kind == "otp") == ("otp" in doc) and (kind == "push") == ("push" in doc)
        entry = {"id": aid, "position": pos, "kind": kind, **doc}
        if show_secrets:
            raw = open_blob(vault_key, f"ident-vault-v1|account|{aid}|secret", secret)
            if kind == "otp":
                entry["secret_base32"] = base64.b32encode(raw).decode().rstrip("=")
            else:
                entry["device_key_pkcs8_b64"] = base64.b64encode(raw).decode()
        if version >= 2:
            entry["recent_answers"] = [
                json.loads(open_blob(vault_key, f"ident-vault-v1|answer|{rid}|account|{aid}", rec))
                for rid, rec in db.execute(
                    "SELECT id, record FROM answers WHERE account_id = ? ORDER BY id DESC", (aid,))
            ]
        accounts.append(entry)
    return {"format_version": version, "failed_attempts": failed,
            "kdf": {"m_kib": m, "t": t, "p": p, "version": kver}, "accounts": accounts}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("vault")
    ap.add_argument("pin")
    ap.add_argument("--secrets", action="store_true", help="also print the decrypted secrets")
    a = ap.parse_args()
    print(json.dumps(decode(a.vault, a.pin, a.secrets), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()

"""This user's key for the state folder's signed caches (compiled templates, search bundles): what a build wrote
there itself is told apart from files that came with the site (a state folder copied in, or committed by mistake),
which are never loaded. The key never lives in the site: `$XDG_CACHE_HOME/mbsite/state-key` (else
`~/.cache/mbsite/state-key`), made on first use, readable by this user only."""
from __future__ import annotations

import hashlib
import hmac
import os
import stat
from pathlib import Path

SIGNATURE_BYTES = 32  # an HMAC-SHA256
KEY_FILE = "state-key"


def signing_key() -> bytes | None:
    """The key, made on first use. None when there is no folder to keep it in, or its file is not this user's alone:
    then nothing is cached."""
    try:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mbsite"
        path = base / KEY_FILE
        if not path.exists():
            base.mkdir(parents=True, exist_ok=True, mode=0o700)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass  # made by another process meanwhile
            else:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(os.urandom(32))
        info = path.lstat()
        if not stat.S_ISREG(info.st_mode) or info.st_mode & 0o077 or (hasattr(os, "getuid") and
                                                                        info.st_uid != os.getuid()):
            return None
        key = path.read_bytes()
    except (OSError, RuntimeError):  # no home folder, a read-only one, …
        return None
    return key if len(key) == 32 else None


def sign(key: bytes, purpose: bytes, payload: bytes) -> bytes:
    """The signature of `payload` for one use of the key (`purpose`): an entry signed for one cache is never valid
    in another."""
    return hmac.new(key, purpose + b"\0" + payload, hashlib.sha256).digest()


def signed(key: bytes, purpose: bytes, data: bytes) -> bytes | None:
    """The payload of signature + payload `data` when the signature is this key's for `purpose`, else None."""
    if len(data) <= SIGNATURE_BYTES:
        return None
    signature, payload = data[:SIGNATURE_BYTES], data[SIGNATURE_BYTES:]
    return payload if hmac.compare_digest(signature, sign(key, purpose, payload)) else None


__all__ = ["KEY_FILE", "SIGNATURE_BYTES", "sign", "signed", "signing_key"]

"""The embedded run's own keys, kept in its var/ folder.

No key ships with ShipBridge. The embedded run (`scripts/run`, which sets SHIPBRIDGE_EMBEDDED=1)
makes a random SECRET_KEY and a Fernet encryption key the first time it starts, writes each to a
file readable by this user only (mode 0600) and reads the same ones at every later start:

- `var/secret_key`       Django's signing key (sessions, CSRF, password reset links);
- `var/encryption_keys`  the Fernet keys of store secrets, one a line, the first encrypts
                         (rotation: put a new key on the first line, run
                         `manage.py rotate_encryption_keys`, then delete the old line).

Anyone who can read these files can read the embedded database's store passwords: they live
next to it and are backed up (or not) with it. Production takes its keys from the environment.

This module imports nothing from Django: the settings call it before Django is set up.
"""
from __future__ import annotations

import base64
import os
import secrets
import stat
from pathlib import Path

SECRET_KEY_FILE = "secret_key"
ENCRYPTION_KEYS_FILE = "encryption_keys"


def new_secret_key() -> str:
    """A random Django SECRET_KEY: 86 url-safe characters (64 random bytes)."""
    return secrets.token_urlsafe(64)


def new_fernet_key() -> str:
    """A random Fernet key: 32 random bytes, url-safe base64 (as `Fernet.generate_key()`)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def embedded_secret_key(var_dir: str | os.PathLike) -> str:
    """The embedded run's SECRET_KEY, made on first use ('' when the file is there but empty)."""
    return read_or_create(Path(var_dir) / SECRET_KEY_FILE, new_secret_key)


def embedded_encryption_keys(var_dir: str | os.PathLike) -> list[str]:
    """The embedded run's Fernet keys, the first one encrypting; made on first use."""
    text = read_or_create(Path(var_dir) / ENCRYPTION_KEYS_FILE, new_fernet_key)
    return [key.strip() for line in text.splitlines() for key in line.split(",") if key.strip()]


def read_or_create(path: Path, make) -> str:
    """The text of `path`; when there is no such file, `make()` written to it first, mode 0600.

    Creation is atomic: the value is written to a private temporary file that is then linked
    to `path`, which fails when another process (the worker, beat and web server start
    together) got there first; the one on disk wins, so every process reads the same key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as out:
                out.write(make() + "\n")
                out.flush()
                os.fsync(out.fileno())
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass  # another process made it first: use theirs
        finally:
            tmp.unlink(missing_ok=True)
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        path.chmod(0o600)  # readable by others (copied, restored from a backup): not any more
    return path.read_text().strip()

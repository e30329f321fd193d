"""Where the database is: DATABASE_URL when set, otherwise an embedded PostgreSQL.

The embedded server (the `pgserver` package ships PostgreSQL binaries on PyPI) keeps its data in a
git-ignored folder of the project, so a fresh clone needs nothing installed and keeps its data across
runs. Every process that loads the settings (web server, queue worker, management commands, tests)
attaches to the same server; pgserver stops it when the last of them exits.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

EMBEDDED_DATABASE_NAME = "community"
PREPARE_ONLY_WHEN_ASKED = 2**31 - 1  # psycopg prepare_threshold: see database_from_url


class DatabaseConfigError(Exception):
    """A database setting that cannot work; its message is one line for the operator."""


def database_from_url(url: str) -> dict:
    """Django DATABASES entry from a postgres:// URL (host may be a socket directory in ?host=)."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "postgresql+psycopg"):
        raise DatabaseConfigError(
            f"DATABASE_URL must start with postgres:// or postgresql://, not {parts.scheme}://"
        )
    query = parse_qs(parts.query)
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise DatabaseConfigError("DATABASE_URL names no database (postgres://user@host:5432/DBNAME)")
    host = query.pop("host", [parts.hostname or ""])[0]
    try:
        port = parts.port
    except ValueError:
        where = parts.netloc.rsplit("@", 1)[-1]  # never the password
        raise DatabaseConfigError(f"DATABASE_URL has a port that is not a number: {where!r}") from None
    options = {key: values[-1] for key, values in query.items()}
    # Django's cursors bind parameters on the client and are never prepared. Django turns psycopg's
    # prepared statements off altogether (prepare_threshold None); a threshold no query reaches keeps them
    # for the few hot statements that ask (`prepare=True`: common.sql.prepared_fetchone).
    options.setdefault("prepare_threshold", PREPARE_ONLY_WHEN_ASKED)
    return {
        "ENGINE": "django_tenants.postgresql_backend",
        "NAME": name,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": host,
        "PORT": str(port or ""),
        "OPTIONS": options,
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }


def embedded_database_url(data_dir: Path) -> str:
    """Start (or attach to) the embedded PostgreSQL in data_dir and return its URL."""
    # pgserver asks platformdirs for a runtime folder; on servers without a login session that warns
    # on every start although the fallback is fine.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    try:
        import pgserver
    except ImportError as exc:  # pragma: no cover - requirements.txt installs it
        raise DatabaseConfigError("DATABASE_URL is unset and the pgserver package is not installed") from exc
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        server = pgserver.get_server(data_dir, cleanup_mode="stop")
    except Exception as exc:
        raise DatabaseConfigError(f"could not start the embedded PostgreSQL in {data_dir}: {exc}") from exc
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{EMBEDDED_DATABASE_NAME}';")
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {EMBEDDED_DATABASE_NAME};")
    # Keep a reference so the server is not cleaned up while this process lives.
    _servers.append(server)
    uri = server.get_uri()
    return uri.replace("/postgres?", f"/{EMBEDDED_DATABASE_NAME}?", 1)


_servers: list = []


def fail(message: str) -> None:
    """Print one line and exit: a configuration error is not a traceback wall."""
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)

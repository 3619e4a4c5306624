"""All configuration, read once from the environment (and an optional `.env` file).

Each setting has a name, a default and a help text; `tsunagu settings` prints them and
`docs/operations.md` lists them (a test keeps the two in step).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    cast: Callable[[str], Any] = str
    secret: bool = False  # `tsunagu settings` shows it masked (a URL's password is masked anyway)


def _tile_url(value: str) -> str:
    # The page's Content-Security-Policy lets images come from https: and this server only.
    value = value.strip()
    if value and not (value.startswith(("https://", "/")) and all(p in value for p in ("{z}", "{x}", "{y}"))):
        raise ValueError("a tile URL starts with https:// or / and contains {z}, {x} and {y}")
    return value


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"not a boolean: {value!r}")


def _ordinance(value: str) -> str:
    value = value.strip()
    if value not in ("opt_in", "opt_out"):
        raise ValueError("opt_in (share only with consent) or opt_out (share everyone but those who refused)")
    return value


SETTINGS: list[Setting] = [
    Setting("DATABASE_URL", f"sqlite:///{PROJECT_ROOT / 'var' / 'tsunagu.sqlite3'}",
            "SQLAlchemy URL of the database. SQLite (WAL mode) by default; "
            "postgresql+psycopg://user:pass@host/db for PostgreSQL."),
    Setting("TSUNAGU_HOST", "127.0.0.1", "Address `tsunagu serve` listens on."),
    Setting("TSUNAGU_PORT", 8000, "Port `tsunagu serve` listens on.", int),
    Setting("TSUNAGU_MAX_UPLOAD_BYTES", 20 * 1024 * 1024,
            "Largest accepted request body (CSV uploads included); larger gets 413.", int),
    Setting("TSUNAGU_PAGE_SIZE_MAX", 500, "Largest `limit` a list request may ask for.", int),
    Setting("TSUNAGU_DEMO", False, "Demo mode: the demo city is loaded and demo accounts exist.", _bool),
    Setting("TSUNAGU_LOG_LEVEL", "INFO", "Python log level."),
    Setting("TSUNAGU_SESSION_HOURS", 12, "Lifetime of a browser sign-in session, in hours.", int),
    Setting("TSUNAGU_DEVICE_TOKEN_DAYS", 30,
            "Lifetime of a field device's bearer token, in days (an administrator can revoke it earlier).", int),
    Setting("TSUNAGU_SECURE_COOKIES", "auto",
            "Mark the session cookie Secure: auto (when the request came over HTTPS, "
            "X-Forwarded-Proto included), true or false."),
    Setting("TSUNAGU_SIGNIN_MAX_FAILURES", 5,
            "Failed sign-ins per username (or 4× that per client address) before sign-in is refused for a while.", int),
    Setting("TSUNAGU_SIGNIN_WINDOW_MINUTES", 15, "The window in which failed sign-ins are counted, in minutes.", int),
    Setting("TSUNAGU_OFFLINE_HOURS", 72,
            "How long the field app keeps working without reaching the server, in hours, counted from the "
            "last time the server accepted the device's token (never beyond the token's expiry).", int),
    Setting("TSUNAGU_TILE_URL", "https://cyberjapandata.gsi.go.jp/xyz/std/{z}/{x}/{y}.png",
            "Basemap tiles of the HQ map ({z}/{x}/{y} template; https:// or a path on this server; "
            "empty: no basemap). The map's own layers draw without it.", _tile_url),
    Setting("TSUNAGU_TILE_ATTRIBUTION",
            '<a href="https://maps.gsi.go.jp/development/ichiran.html">地理院タイル</a>',
            "Attribution shown under the basemap (HTML; the tile provider's terms say what it must be)."),
    Setting("TSUNAGU_SHARING_ORDINANCE", "opt_in",
            "Normal-times sharing with outside recipients (Art. 49-11, 条例): opt_in shares only people who "
            "consented for that recipient category (the law's default); opt_out, where the city's ordinance "
            "says so, shares everyone but those who refused. Disaster mode shares everyone either way.", _ordinance),
    Setting("TSUNAGU_CHROMIUM", "",
            "The Chromium (or Chrome) binary that prints PDFs and runs the browser tests; empty: the first "
            "of chromium, chromium-browser, google-chrome on PATH (scripts/setup installs Debian's chromium)."),
]


def _read_dotenv(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip().strip('"').strip("'")
    return values


# Where a setting's value came from.
FROM_ENVIRONMENT, FROM_DOTENV, FROM_DEFAULT = "environment", ".env", "default"


@dataclass(frozen=True)
class Settings:
    values: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # name → FROM_ENVIRONMENT | FROM_DOTENV | FROM_DEFAULT

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name.upper()]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def database_url(self) -> str:
        return self.values["DATABASE_URL"]


def load_settings(environ: dict[str, str] | None = None, dotenv: Path | None = None) -> Settings:
    """Read every setting; a value that does not parse stops start-up with its name."""
    from_dotenv = _read_dotenv(dotenv or PROJECT_ROOT / ".env")
    from_environment = environ if environ is not None else os.environ
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for setting in SETTINGS:
        if setting.name in from_environment:  # the environment wins over .env
            raw, sources[setting.name] = from_environment[setting.name], FROM_ENVIRONMENT
        elif setting.name in from_dotenv:
            raw, sources[setting.name] = from_dotenv[setting.name], FROM_DOTENV
        else:
            values[setting.name], sources[setting.name] = setting.default, FROM_DEFAULT
            continue
        try:
            values[setting.name] = setting.cast(raw)
        except ValueError as exc:
            raise SystemExit(f"setting {setting.name} is invalid: {exc}") from None
    return Settings(values, sources)


MASK = "********"


def _mask_url_password(text: str) -> str:
    """`scheme://user:password@host/…` → `scheme://user:********@host/…` (the last @ of the
    authority ends the password, so an unescaped @ or / in it is masked too)."""
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.\-]*://\S*@\S*", text):
        return text
    scheme, _, rest = text.partition("://")
    userinfo, _, host = rest.rpartition("@")
    user, colon, _ = userinfo.partition(":")
    return f"{scheme}://{user}{':' + MASK if colon else ''}@{host}"


def describe(settings: Settings, specs: list[Setting] | None = None) -> list[dict[str, str]]:
    """Every setting as {name, value, source, help} for `tsunagu settings`: values as text,
    secrets and the passwords of URLs masked."""
    rows = []
    for spec in specs if specs is not None else SETTINGS:
        value = settings.values.get(spec.name, spec.default)
        if isinstance(value, bool):
            text = "true" if value else "false"
        else:
            text = str(value)
        if spec.secret and text:
            text = MASK
        rows.append({"name": spec.name, "value": _mask_url_password(text), "source": settings.sources.get(spec.name, FROM_DEFAULT),
                     "help": spec.help})
    return rows

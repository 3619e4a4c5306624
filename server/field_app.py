"""Serves the field app (the PWA in `pwa/`) under /app/.

Only the app shell is served — an explicit allow-list of file kinds in known folders, and the
few browser-library files the app uses (`VENDOR_FILES`, from `pwa/node_modules/`, installed by
npm from `pwa/package.json` and its lock) — so the rest of `pwa/node_modules/`, `package.json`
and anything else in `pwa/` never leak through /app/.
Two small JSON documents are generated here: `/app/config.json` (settings the app needs
offline) and `/app/vocab.json` (every controlled vocabulary with its Japanese and English
labels, so the app never hard-codes a label).

The service worker is served with `VERSION` set to a hash of the shell, so any change to a
shell file makes browsers install the new worker and drop the old caches.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from functools import cache, lru_cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from . import __version__
from .auth.guard import public
from .models import auth as auth_models
from .models import vocab

PWA_DIR = Path(__file__).resolve().parent.parent / "pwa"
log = logging.getLogger("tsunagu")

# folder → the file kinds served from it ("" is pwa/ itself)
SHELL_KINDS: dict[str, tuple[str, ...]] = {
    "": ("index.html", "manifest.webmanifest", "sw.js"),
    "css": (".css",),
    "js": (".js",),
    "icons": (".png", ".svg"),
}
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8", ".webmanifest": "application/manifest+json",
    ".png": "image/png", ".svg": "image/svg+xml",
}
# Library files the field app itself loads, served under /app/ like the rest of the shell, so the
# service worker precaches them and they work offline (URL under /app/ → file in node_modules).
# The HQ map's libraries are served at /vendor/ instead (server/app.py): it is online-only.
VENDOR_FILES: dict[str, str] = {
    "vendor/jsqr/jsQR.js": "jsqr/dist/jsQR.js",  # the QR decoder of the scan screen (js/qr-worker.js)
}
VERSION_LINE = re.compile(r'^const VERSION = "[^"]*";', re.MULTILINE)


def shell_files(root: Path = PWA_DIR) -> dict[str, Path]:
    """URL path under /app/ → file, for every file of the app shell (the library files included)."""
    files: dict[str, Path] = {}
    for folder, kinds in SHELL_KINDS.items():
        directory = root / folder if folder else root
        if not directory.is_dir():
            continue
        for path in sorted(directory.iterdir()):
            if not path.is_file() or path.name.startswith("."):
                continue
            if folder == "" and path.name not in kinds:
                continue
            if folder and not path.name.endswith(kinds):
                continue
            files[f"{folder}/{path.name}" if folder else path.name] = path
    for name, relative in VENDOR_FILES.items():
        path = root / "node_modules" / relative
        if path.is_file():
            files[name] = path
        elif root == PWA_DIR:
            _missing_library(relative)
    return files


@cache
def _missing_library(relative: str) -> None:
    """Said once per process, not at every request."""
    log.warning("browser library file %s is missing: run scripts/setup (npm ci in pwa/)", relative)


def vocabularies() -> dict[str, list[dict[str, str]]]:
    """Every labelled enum: {"SafetyOutcome": [{"value", "ja", "en"}, …], …}, in declaration order."""
    enums = [getattr(vocab, name) for name in dir(vocab)]
    enums += [auth_models.Role, auth_models.Mode]
    # DWAT on site: activity kinds, triage outcomes, need kinds (the domain's vocabularies)
    from .domain.dwat.daily_report import Activity
    from .domain.dwat.request_flow import NeedKind
    from .domain.dwat.triage import TriageOutcome
    enums += [Activity, NeedKind, TriageOutcome]
    out: dict[str, list[dict[str, str]]] = {}
    for enum in enums:
        if isinstance(enum, type) and issubclass(enum, vocab.LabelledEnum) and enum is not vocab.LabelledEnum:
            out[enum.__name__] = [{"value": m.value, "ja": m.ja, "en": m.en} for m in enum]
    return dict(sorted(out.items()))


@lru_cache(maxsize=1)
def _vocab_json() -> bytes:
    return json.dumps(vocabularies(), ensure_ascii=False, separators=(",", ":")).encode()


def shell_version(root: Path = PWA_DIR) -> str:
    """A hash of every shell file and of the vocabularies: changes whenever any of them does."""
    digest = hashlib.sha256(_vocab_json())
    for name, path in shell_files(root).items():
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


NO_CACHE = {"Cache-Control": "no-cache"}


@public
async def app_root(request: Request) -> Response:
    return RedirectResponse("/app/", status_code=308)


@public
async def shell_file(request: Request) -> Response:
    name = request.path_params.get("path", "") or "index.html"
    path = shell_files().get(name)
    if path is None:
        return JSONResponse({"detail": "not found"}, status_code=404)
    content_type = CONTENT_TYPES.get(path.suffix, "application/octet-stream")
    body = path.read_bytes()
    headers = dict(NO_CACHE)
    if name == "sw.js":
        text = VERSION_LINE.sub(f'const VERSION = "{shell_version()}";', body.decode("utf-8"), count=1)
        body = text.encode("utf-8")
        headers["Service-Worker-Allowed"] = "/app/"
    # The browser revalidates every time; offline, the service worker answers from its cache.
    return Response(body, media_type=content_type, headers=headers)


@public
async def config(request: Request) -> Response:
    settings = request.app.state.settings
    return JSONResponse({
        "offline_hours": settings.TSUNAGU_OFFLINE_HOURS,
        "device_token_days": settings.TSUNAGU_DEVICE_TOKEN_DAYS,
        "server_version": __version__,
    }, headers=NO_CACHE)


@public
async def vocab_json(request: Request) -> Response:
    return Response(_vocab_json(), media_type="application/json", headers=NO_CACHE)


routes = [
    Route("/app", app_root, methods=["GET", "HEAD"]),
    Route("/app/config.json", config, methods=["GET", "HEAD"], name="app-config"),
    Route("/app/vocab.json", vocab_json, methods=["GET", "HEAD"], name="app-vocab"),
    Route("/app/", shell_file, methods=["GET", "HEAD"], name="field-app"),
    Route("/app/{path:path}", shell_file, methods=["GET", "HEAD"], name="field-app-file"),
]

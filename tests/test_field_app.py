"""The field app's shell as the server serves it: only the allow-listed files, the service
worker's headers and version, the precache list in step with the files, config and vocabularies.
(What the app does in a browser is in tests/browser/test_pwa_*.py.)"""

from __future__ import annotations

import json
import re

import pytest

from server.field_app import PWA_DIR, shell_files, shell_version
from server.models.vocab import SafetyOutcome


def test_shell_is_served_with_no_cache(anon_client):
    answer = anon_client.get("/app/")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert answer.headers["cache-control"] == "no-cache"
    assert '<script type="module" src="/app/js/app.js">' in answer.text
    assert anon_client.get("/app/js/app.js").headers["content-type"].startswith("text/javascript")
    assert anon_client.get("/app/manifest.webmanifest").headers["content-type"] == "application/manifest+json"


def test_app_without_slash_redirects(anon_client):
    answer = anon_client.get("/app", follow_redirects=False)
    assert answer.status_code == 308 and answer.headers["location"] == "/app/"


@pytest.mark.parametrize("path", ["package.json", "package-lock.json", "node_modules/axe-core/axe.min.js",
                                  "node_modules/leaflet/dist/leaflet.js", "icons/make_icons.py", "../pyproject.toml",
                                  "%2e%2e/pyproject.toml", "js/../package.json", ".gitignore"])
def test_nothing_outside_the_shell_is_served(anon_client, path):
    assert anon_client.get(f"/app/{path}").status_code == 404


def test_the_qr_decoder_is_served_from_node_modules_and_precached(anon_client):
    """The scan screen's decoder (jsQR, from npm) is part of the shell: served under /app/, cached
    by the service worker (so it works offline) and counted in the shell's version."""
    assert shell_files()["vendor/jsqr/jsQR.js"] == PWA_DIR / "node_modules" / "jsqr" / "dist" / "jsQR.js"
    answer = anon_client.get("/app/vendor/jsqr/jsQR.js")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/javascript")
    assert "jsQR" in answer.text
    assert "/app/vendor/jsqr/jsQR.js" in _precache()
    assert "importScripts('/app/vendor/jsqr/jsQR.js')" in (PWA_DIR / "js" / "qr-worker.js").read_text(encoding="utf-8")
    for other in ("vendor/jsqr/index.d.ts", "vendor/jsqr/package.json", "vendor/leaflet/leaflet.js", "vendor/"):
        assert anon_client.get(f"/app/{other}").status_code == 404, other


def test_only_the_field_app_may_use_the_camera(anon_client):
    """Its scan screen reads QR codes with the camera; every other page keeps it off."""
    for path in ("/app/", "/app/js/scan.js"):
        policy = anon_client.get(path).headers["permissions-policy"]
        assert "camera=(self)" in policy and "microphone=()" in policy, path
    for path in ("/", "/login", "/api/health"):
        assert "camera=()" in anon_client.get(path).headers["permissions-policy"], path


def test_service_worker_headers_and_version(anon_client):
    answer = anon_client.get("/app/sw.js")
    assert answer.status_code == 200
    assert answer.headers["service-worker-allowed"] == "/app/"
    assert answer.headers["cache-control"] == "no-cache"
    assert f'const VERSION = "{shell_version()}";' in answer.text
    assert 'const VERSION = "dev";' in (PWA_DIR / "sw.js").read_text(encoding="utf-8")


def test_version_changes_with_any_shell_file(tmp_path):
    root = tmp_path / "pwa"
    (root / "js").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html>")
    (root / "js" / "app.js").write_text("console.log(1)")
    before = shell_version(root)
    (root / "js" / "app.js").write_text("console.log(2)")
    assert shell_version(root) != before


def _precache() -> list[str]:
    text = (PWA_DIR / "sw.js").read_text(encoding="utf-8")
    block = re.search(r"const PRECACHE = \[(.*?)\];", text, re.S).group(1)
    return re.findall(r"'([^']+)'", block)


def test_precache_lists_exactly_the_shell():
    """Every shell file is cached for offline use, and nothing is listed that is not served."""
    expected = {f"/app/{name}" for name in shell_files() if name != "sw.js"} | {"/app/", "/app/vocab.json"}
    assert set(_precache()) == expected
    assert len(_precache()) == len(set(_precache()))


def test_every_module_import_is_a_shell_file():
    served = shell_files()
    for name, path in served.items():
        if not name.startswith("js/"):
            continue
        source = path.read_text(encoding="utf-8")
        for target in re.findall(r"""(?:from|import\()\s*['"]\./([\w.-]+)['"]""", source):
            assert f"js/{target}" in served, f"{name} imports {target}, which is not served"


def test_manifest_is_japanese_and_installable():
    manifest = json.loads((PWA_DIR / "manifest.webmanifest").read_text(encoding="utf-8"))
    assert manifest["name"] == "つなぐ 現場アプリ" and manifest["short_name"] == "つなぐ"
    assert manifest["lang"] == "ja" and manifest["display"] == "standalone" and manifest["scope"] == "/app/"
    sizes = {(i["sizes"], i.get("purpose", "any")) for i in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in manifest["icons"]:
        path = PWA_DIR / icon["src"].removeprefix("/app/")
        assert path.is_file(), icon["src"]
        width = int.from_bytes(path.read_bytes()[16:20], "big")  # PNG IHDR width
        assert f"{width}x{width}" == icon["sizes"]


def test_no_inline_script_or_style_in_the_shell():
    html = (PWA_DIR / "index.html").read_text(encoding="utf-8")
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "inline <script> is refused by the CSP"
    assert "<style" not in html and " style=" not in html, "inline styles are refused by the CSP"
    for name, path in shell_files().items():
        if name.endswith(".js"):
            source = path.read_text(encoding="utf-8")
            assert "innerHTML" not in source and "eval(" not in source, name


def test_config_gives_the_offline_window(app, engine):
    from starlette.testclient import TestClient

    from server.app import create_app
    from server.settings import load_settings

    with TestClient(app) as client:
        assert client.get("/app/config.json").json()["offline_hours"] == 72
    custom = create_app(settings=load_settings({"TSUNAGU_OFFLINE_HOURS": "24"}), engine=engine)
    with TestClient(custom) as client:
        assert client.get("/app/config.json").json()["offline_hours"] == 24


def test_vocab_has_every_label(anon_client):
    vocab = anon_client.get("/app/vocab.json").json()
    outcomes = vocab["SafetyOutcome"]
    assert [o["value"] for o in outcomes] == [m.value for m in SafetyOutcome]
    assert outcomes[0] == {"value": "safe_home", "ja": "在宅・無事", "en": "safe at home"}
    for name in ("OpenState", "Damage", "LifelineState", "PlanStatus", "Reason", "CareNeed", "Sex", "Role", "Mode"):
        assert vocab[name], name


def test_landing_page_links_the_field_app(anon_client):
    assert 'href="/app/"' in anon_client.get("/").text

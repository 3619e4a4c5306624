"""Security headers for every answer: the pages and the field PWA load nothing from elsewhere
and run no inline script, so the policy can be strict."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    # map tiles (a setting, 地理院タイル by default) are images from another origin
    "img-src 'self' data: blob: https:",
    "connect-src 'self'",
    "font-src 'self'",
    "worker-src 'self'",
    "manifest-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "permissions-policy": "camera=(), microphone=(), geolocation=(self)",
    "cross-origin-opener-policy": "same-origin",
}
# The field app reads the QR codes printed on evacuation plans with the device's camera
# (pwa/js/scan.js), so its pages may use the camera — their own origin only, never a frame.
FIELD_APP_PERMISSIONS = "camera=(self), microphone=(), geolocation=(self)"


# Answers that may carry personal data are never stored by a browser or proxy: the API, sign-in,
# and the server-rendered pages that show records (print previews, the /print examples).
NO_STORE_PREFIXES = ("/api/", "/auth/", "/print", "/conflicts", "/hq")


def _is_field_app(path: str) -> bool:
    return path == "/app" or path.startswith("/app/")


class SecurityHeaders:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if _is_field_app(scope["path"]):
                    headers.setdefault("permissions-policy", FIELD_APP_PERMISSIONS)
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
                if scope["path"].startswith(NO_STORE_PREFIXES):
                    headers.setdefault("cache-control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)

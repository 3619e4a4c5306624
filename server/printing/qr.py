"""QR codes that carry a record's id, so a field tablet can open the record from paper.

The payload is ``TSUNAGU:PLAN:<UUID>`` (or ``TSUNAGU:PERSON:<UUID>``), upper case so it fits
the QR alphanumeric mode — a smaller code that survives creases and poor light. Readers
treat it case-insensitively. Nothing personal is encoded: only the id, which is useless
without signing in.
"""

from __future__ import annotations

import uuid

import segno


def payload(kind: str, record_id: uuid.UUID | str) -> str:
    return f"TSUNAGU:{kind.upper()}:{str(record_id).upper()}"


def parse_payload(text: str) -> tuple[str, uuid.UUID]:
    """(kind, id) from a scanned payload; ValueError if it is not one of ours."""
    prefix, kind, raw = (text.strip().split(":", 2) + ["", ""])[:3]
    if prefix.upper() != "TSUNAGU" or not kind:
        raise ValueError("not a Tsunagu code")
    return kind.lower(), uuid.UUID(raw)


def qr_svg(text: str) -> str:
    """An inline SVG of the code (error correction M, quiet zone of 4 modules), sized by CSS."""
    code = segno.make(text, error="m", micro=False)
    return code.svg_inline(scale=1, border=4, omitsize=True, svgclass="qr", lineclass=None, dark="#000")

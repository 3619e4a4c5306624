"""Draws the field app's icons (run from the repository root: .venv/bin/python pwa/icons/make_icons.py).

A white 「つ」 (つなぐ, "to connect") on the app's blue; the maskable icon keeps the glyph inside the central safe
zone (a circle of 80% of the width) that launchers may crop to.
"""

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

HERE = Path(__file__).resolve().parent
BLUE = (11, 92, 173)
FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"


def icon(size: int, maskable: bool) -> Image.Image:
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    if maskable:
        draw.rectangle((0, 0, size, size), fill=BLUE)
        glyph = int(size * 0.46)
    else:
        draw.rounded_rectangle((0, 0, size - 1, size - 1), radius=size // 6, fill=BLUE)
        glyph = int(size * 0.62)
    font = ImageFont.truetype(FONT, glyph, index=0)
    draw.text((size / 2, size * 0.47), "つ", font=font, fill="white", anchor="mm")
    return image


if __name__ == "__main__":
    icon(192, False).save(HERE / "icon-192.png", optimize=True)
    icon(512, False).save(HERE / "icon-512.png", optimize=True)
    icon(512, True).save(HERE / "icon-maskable-512.png", optimize=True)
    icon(180, True).convert("RGB").save(HERE / "apple-touch-icon.png", optimize=True)

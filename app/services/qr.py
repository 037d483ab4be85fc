"""QR code images (PNG and SVG) for door cards and visit confirmations.

A QR code carries a URL (CONTRACT.md), so any phone camera opens it.
"""

import io

import qrcode
import qrcode.image.svg
from qrcode.constants import ERROR_CORRECT_M


def _code(data: str, box_size: int, border: int) -> qrcode.QRCode:
    # Level M survives a scratched or smudged printed card better than L.
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=border)
    code.add_data(data)
    code.make(fit=True)
    return code


def png(data: str, box_size: int = 8, border: int = 4) -> bytes:
    """The QR code of `data` as PNG bytes."""
    image = _code(data, box_size, border).make_image()
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def svg(data: str, box_size: int = 10, border: int = 4) -> str:
    """The QR code of `data` as an SVG document (sharp at any print size)."""
    image = _code(data, box_size, border).make_image(image_factory=qrcode.image.svg.SvgPathImage)
    return image.to_string(encoding="unicode")

"""Barcodes printed on packing slips: Code 128 of the order number, as inline SVG (python-barcode,
no image library needed). The scan-to-verify page reads the same value back."""
from __future__ import annotations

import io
import re

from barcode import Code128
from barcode.errors import BarcodeError
from barcode.writer import SVGWriter
from django.utils.safestring import SafeString, mark_safe

_PROLOGUE = re.compile(r"^.*?(?=<svg)", re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)


def code128_svg(value: str, *, height_mm: float = 12.0) -> SafeString:
    """An inline <svg> of `value` in Code 128 (printable ASCII only); "" when it cannot be
    encoded (then the slip shows the number in text only)."""
    if not value or not value.isascii() or not value.isprintable():
        return mark_safe("")
    try:
        code = Code128(value, writer=SVGWriter())
        out = io.BytesIO()
        code.write(out, options={"write_text": False, "module_height": height_mm, "module_width": 0.3,
                                 "quiet_zone": 3.0, "compress": False})
    except BarcodeError:
        return mark_safe("")
    svg = _COMMENT.sub("", _PROLOGUE.sub("", out.getvalue().decode("utf-8"), count=1))
    label = value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    # the value itself is not in the markup (python-barcode draws bars only): safe to inline
    return mark_safe(svg.replace("<svg ", f'<svg role="img" aria-label="{label}" class="sb-barcode" ', 1))

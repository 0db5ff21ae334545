"""A store's logo (drawn on packing slips and in customer e-mails): the one rule for what is
accepted and how it is stored.

An upload is refused when it is over 1 MB, not a PNG, JPEG, GIF or WebP image, or larger than
2000×2000 pixels — the dimensions are read from the file's header, so an image that would
take gigabytes once decoded (a "decompression bomb") is refused before it is decoded. What is
kept is the image decoded and encoded again by Pillow (no trailing bytes, no metadata; an
animation keeps its first frame), named after its real format: `logo.pdf` holding a PNG is
stored as `logo.png`.
"""
from __future__ import annotations

import io
import warnings
from pathlib import PurePath

from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile, File
from django.utils.formats import number_format
from django.utils.text import format_lazy, get_valid_filename
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

LOGO_MAX_BYTES = 1024 * 1024
LOGO_MAX_SIDE = 2000  # pixels, width and height
# Pillow's format name → how it is named in messages, and the stored file's extension.
LOGO_FORMATS = {"PNG": ("PNG", ".png"), "JPEG": ("JPEG", ".jpg"), "GIF": ("GIF", ".gif"), "WEBP": ("WebP", ".webp")}
LOGO_RULE = format_lazy(_("PNG, JPEG, GIF or WebP, 1 MB and {side}×{side} pixels at most"), side=LOGO_MAX_SIDE)
NOT_AN_IMAGE = _("upload a valid image: the file is not an image, or a damaged one")


class LogoError(ValueError):
    """A logo refused; the message is one line saying why."""


class PreparedLogo(ContentFile):
    """A logo that passed `logo_prepare`: checked, re-encoded and named by its format."""


def logo_prepare(upload: File) -> PreparedLogo:
    """The logo to store for an uploaded file, or LogoError saying why it is refused."""
    if isinstance(upload, PreparedLogo):
        return upload
    size = upload.size
    if size is not None and size > LOGO_MAX_BYTES:
        raise LogoError(gettext("the logo is {size} MB; the limit is 1 MB").format(
            size=number_format(size / 1024 / 1024, decimal_pos=1)))
    upload.seek(0)
    data = upload.read(LOGO_MAX_BYTES + 1)
    upload.seek(0)
    if len(data) > LOGO_MAX_BYTES:
        raise LogoError(gettext("the logo is over 1 MB; the limit is 1 MB"))
    image = _open(data)
    kind = _format(image)
    if kind not in LOGO_FORMATS:
        raise LogoError(gettext("the logo must be a PNG, JPEG, GIF or WebP image (this one is {kind})").format(
            kind=kind))
    width, height = image.size  # from the header: nothing is decoded yet
    if width > LOGO_MAX_SIDE or height > LOGO_MAX_SIDE:
        raise LogoError(gettext("the logo is {width}×{height} pixels; the limit is {side}×{side}").format(
            width=width, height=height, side=LOGO_MAX_SIDE))
    _label, extension = LOGO_FORMATS[kind]
    try:
        encoded = _encode(image)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise LogoError(str(NOT_AN_IMAGE)) from None
    return PreparedLogo(encoded, name=_stem(upload.name) + extension)


def _stem(name: str | None) -> str:
    """The uploaded file's name without its extension, safe for storage ("logo" if nothing is left)."""
    try:
        return get_valid_filename(PurePath(name or "").stem)[:80]
    except SuspiciousFileOperation:  # "", "." or ".."
        return "logo"


def _open(data: bytes) -> Image.Image:
    """The image's header read (Pillow decodes nothing until asked). Pillow's own bomb check
    refuses images far above our limit; below it we check the dimensions ourselves."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:  # over about 180 million pixels: its size is not even given
        raise LogoError(gettext("the logo has far too many pixels; the limit is {side}×{side}").format(
            side=LOGO_MAX_SIDE)) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise LogoError(str(NOT_AN_IMAGE)) from None


def _format(image: Image.Image) -> str:
    """Pillow's name of the image's format; a camera's multi-picture JPEG (MPO) is a JPEG."""
    return "JPEG" if image.format == "MPO" else str(image.format)


def _encode(image: Image.Image) -> bytes:
    """The image (its first frame) decoded and encoded again in its own format, metadata left out."""
    kind = _format(image)
    transparency = image.info.get("transparency")
    image.load()
    out = io.BytesIO()
    if kind == "JPEG":
        image = ImageOps.exif_transpose(image)  # the orientation the EXIF tag gave, applied
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        image.save(out, "JPEG", quality=90, optimize=True)
    elif kind == "PNG":
        options = {"transparency": transparency} if transparency is not None else {}
        if image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16"):
            image, options = image.convert("RGBA"), {}
        image.save(out, "PNG", optimize=True, **options)
    elif kind == "GIF":
        options = {"transparency": transparency} if isinstance(transparency, int) else {}
        image.save(out, "GIF", **options)
    else:  # WEBP
        has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
        image = image.convert("RGBA" if has_alpha else "RGB")
        image.save(out, "WEBP", quality=90)
    return out.getvalue()

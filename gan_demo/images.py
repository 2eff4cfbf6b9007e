"""Images that people upload or draw, made safe and brought to what a model reads.

Anything can arrive: a phone photo with an EXIF rotation, a 16-bit PNG, CMYK or palette JPEGs, a
transparent PNG, a 10,000 x 10,000 picture, a truncated file, a decompression bomb, something that
is not an image at all. Every path ends in a uint8 array or one ``UserError`` sentence.
"""

from __future__ import annotations

import io
import os
import warnings
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from PIL import Image

from .errors import UserError

MAX_PIXELS = 40_000_000  # refuse larger (PIL's bomb check fires at twice its own limit otherwise)
WORK_PIXELS = 4_000_000  # larger inputs are downscaled to this before any processing


def open_image(source) -> "Image.Image":
    """A PIL image (RGB, L or RGBA) from a path, bytes, a PIL image or an array, upright per EXIF,
    at most ``WORK_PIXELS``."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if source is None:
        raise UserError("No image given: upload one or draw on the canvas.")
    if isinstance(source, np.ndarray):
        return _from_array(source)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            if isinstance(source, Image.Image):
                img = source
            else:
                if isinstance(source, (str, os.PathLike)) and not os.path.isfile(source):
                    raise UserError("The uploaded file is missing; upload it again.")
                img = Image.open(io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source)
            if img.width * img.height > MAX_PIXELS:
                raise UserError(f"The image is {img.width} x {img.height} pixels; the limit is "
                                f"{MAX_PIXELS // 1_000_000} megapixels.")
            if img.width * img.height > WORK_PIXELS:
                img.draft("RGB", (img.width // 4, img.height // 4))  # JPEGs decode smaller, cheaply
            img.load()
            img = ImageOps.exif_transpose(img)
        except UserError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise UserError("The image is too large to open safely (a decompression bomb?).") from None
        except (UnidentifiedImageError, SyntaxError):
            raise UserError("The file is not an image that can be read (PNG, JPEG, WebP, GIF, BMP...).") from None
        except (OSError, ValueError, EOFError) as exc:
            raise UserError(f"The image cannot be decoded ({str(exc).splitlines()[0][:80]}); "
                            "it may be truncated or corrupt.") from None
    img = _normalise_mode(img)
    if img.width * img.height > WORK_PIXELS:
        scale = (WORK_PIXELS / (img.width * img.height)) ** 0.5
        img = img.resize((max(1, int(img.width * scale)), max(1, int(img.height * scale))), Image.BILINEAR)
    return img


def _normalise_mode(img):
    """Any mode -> RGB, RGBA or L (16-bit and float scaled to 8 bits, CMYK and palettes converted)."""
    if img.mode in ("RGB", "RGBA", "L"):
        return img
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        lo, hi = np.nanmin(arr), np.nanmax(arr)
        arr = np.zeros_like(arr) if hi <= lo else (arr - lo) / (hi - lo) * 255
        from PIL import Image

        return Image.fromarray(np.nan_to_num(arr).astype(np.uint8), "L")
    if img.mode in ("P", "PA", "LA") or "transparency" in img.info:
        return img.convert("RGBA")
    return img.convert("RGB")


def _from_array(arr: np.ndarray):
    from PIL import Image

    if arr.ndim not in (2, 3) or arr.size == 0 or (arr.ndim == 3 and arr.shape[2] not in (1, 3, 4)):
        raise UserError(f"An image array must be H x W, H x W x 3 or H x W x 4, got shape {arr.shape}.")
    if arr.shape[0] * arr.shape[1] > MAX_PIXELS:
        raise UserError("The image is too large.")
    if arr.dtype != np.uint8:
        a = np.nan_to_num(arr.astype(np.float64))
        a = a * 255 if a.max() <= 1.0 else a
        arr = np.clip(a, 0, 255).astype(np.uint8)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    return Image.fromarray(arr)


def flatten_alpha(img, background: int = 255):
    """Composite a transparent image on a plain background (white unless told otherwise)."""
    from PIL import Image

    if img.mode != "RGBA":
        return img
    base = Image.new("RGBA", img.size, (background,) * 3 + (255,))
    return Image.alpha_composite(base, img).convert("RGB")


def to_mnist_style(source, size: int = 28) -> np.ndarray:
    """Any picture -> uint8 [size, size] in the MNIST/Fashion-MNIST convention: a light object on
    black, centred, filling about 20/28 of the frame.

    Photos and drawings usually show a dark object on a light ground, so the image is inverted when
    its border is lighter than its middle. Transparent pixels count as background (white).
    """
    from PIL import Image

    img = flatten_alpha(open_image(source), 255)  # transparent -> white: ink reads as dark on light
    grey = np.asarray(img.convert("L"), dtype=np.float32)
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    h, w = grey.shape
    middle = grey[h // 4: h - h // 4 or h, w // 4: w - w // 4 or w]
    if border.mean() > middle.mean():
        grey, border = 255 - grey, 255 - border
    grey -= np.median(border)  # the background level becomes black
    grey = np.clip(grey, 0, None)
    if grey.max() > 0:
        grey = grey / grey.max() * 255
    # crop to the object, pad to a square, scale to 20/28 of the frame (as MNIST was made)
    ys, xs = np.nonzero(grey > 32)
    if len(ys):
        grey = grey[ys.min(): ys.max() + 1, xs.min(): xs.max() + 1]
    side = max(grey.shape)
    square = np.zeros((side, side), np.float32)
    oy, ox = (side - grey.shape[0]) // 2, (side - grey.shape[1]) // 2
    square[oy: oy + grey.shape[0], ox: ox + grey.shape[1]] = grey
    inner = max(1, round(size * 20 / 28))
    small = Image.fromarray(square.astype(np.uint8), "L").resize((inner, inner), Image.LANCZOS)
    out = np.zeros((size, size), np.uint8)
    o = (size - inner) // 2
    out[o: o + inner, o: o + inner] = np.asarray(small)
    return out

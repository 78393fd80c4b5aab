"""Enrolment: each roster (or learner) photo becomes one face encoding, or a clear error naming
the person and the photo: no face, several faces, or a face too small to encode reliably.

Encodings are computed once and cached by the photo's sha256, so the same photo is never encoded
twice, whichever class or platform names it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from monitor.errors import MonitorError
from monitor.faces.detect import PORTRAIT_DETECT_SIDE, faces_in

# A photo larger than this (pixels) is refused before it is decoded: a decompression bomb.
MAX_PHOTO_PIXELS = 40_000_000


class EnrolmentError(MonitorError):
    """A photo that cannot serve as someone's enrolment photo."""


@dataclass(frozen=True)
class Enrolled:
    person: str
    name: str
    photo: str
    sha256: str
    encoding: np.ndarray  # 128 floats (dlib's face descriptor)
    face_px: int  # height of the face box in the photo
    face_hash: str  # perceptual hash of the aligned face (hex): the enrolment photo must not come back as a capture
    cached: bool  # True when the encoding came from the cache


def load_rgb(path: Path, what: str) -> np.ndarray:
    """An image file as a contiguous RGB array (dlib refuses strided arrays), upright per EXIF."""
    Image.MAX_IMAGE_PIXELS = MAX_PHOTO_PIXELS
    try:
        with Image.open(path) as image:
            if image.width * image.height > MAX_PHOTO_PIXELS:  # Pillow itself only warns up to twice its limit
                raise Image.DecompressionBombError("too many pixels")
            upright = ImageOps.exif_transpose(image).convert("RGB")
            return np.ascontiguousarray(np.asarray(upright))
    except FileNotFoundError:
        raise EnrolmentError(f"{what}: photo not found: {path}") from None
    except Image.DecompressionBombError:
        raise EnrolmentError(f"{what}: photo {path} is too large (over {MAX_PHOTO_PIXELS:,} pixels)") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise EnrolmentError(f"{what}: photo {path} is not a readable image ({type(exc).__name__})") from None


class EncodingCache:
    """Face encodings on disk, one small JSON file per photo sha256."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder / "encodings"

    def get(self, sha256: str) -> tuple[np.ndarray, int, str] | None:
        path = self.folder / f"{sha256}.json"
        try:
            data = json.loads(path.read_text())
            return np.asarray(data["encoding"], dtype=np.float64), int(data["face_px"]), str(data["face_hash"])
        except (OSError, ValueError, KeyError):
            return None  # absent, unreadable or of an older format: encode again

    def put(self, sha256: str, encoding: np.ndarray, face_px: int, face_hash: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = self.folder / f"{sha256}.json.part"
        partial.write_text(json.dumps({"encoding": encoding.tolist(), "face_px": face_px, "face_hash": face_hash}))
        partial.replace(self.folder / f"{sha256}.json")


def enrol(person: str, name: str, photo: Path, cache: EncodingCache, min_face_px: int) -> Enrolled:
    """The encoding of the one face in `photo`, from the cache when this photo was seen before."""
    what = f"enrolment photo of {person} ({name})"
    try:
        data = photo.read_bytes()
    except OSError:
        raise EnrolmentError(f"{what}: photo not found: {photo}") from None
    digest = hashlib.sha256(data).hexdigest()
    hit = cache.get(digest)
    if hit is not None:
        return Enrolled(person, name, str(photo), digest, *hit, cached=True)
    faces = faces_in(load_rgb(photo, what), detect_max_side=PORTRAIT_DETECT_SIDE)
    if not faces:
        raise EnrolmentError(f"{what}: no face found in {photo}")
    if len(faces) > 1:
        raise EnrolmentError(f"{what}: {len(faces)} faces in {photo}; an enrolment photo shows one person")
    face = faces[0]
    if face.height_px < min_face_px:
        raise EnrolmentError(f"{what}: the face in {photo} is {face.height_px} px high, at least {min_face_px} px needed")
    cache.put(digest, face.encoding, face.height_px, str(face.face_hash))
    return Enrolled(person, name, str(photo), digest, face.encoding, face.height_px, str(face.face_hash), cached=False)

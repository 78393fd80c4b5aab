"""Finding faces in a picture: box, dlib encoding, and a perceptual hash of the *aligned* face.

The hash is taken of the face chip dlib aligns by the eyes and nose (the chip the encoder itself
uses), so it does not move when the picture around the face is resized, cropped or re-compressed:
measured on ../shared/data/faces, copies of a capture (re-encoded, JPEG quality 30, half size,
cropped 4 %) are 0-2 bits from the original; other photos of the same person and other people
18 bits and more.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import imagehash
import numpy as np
from PIL import Image

_CHIP_PX, _CHIP_PADDING = 128, 0.2
# Portraits and captures are searched for faces at most this large (see faces_in).
PORTRAIT_DETECT_SIDE = 800


@dataclass(frozen=True)
class Face:
    box: tuple[int, int, int, int]  # top, right, bottom, left
    encoding: np.ndarray  # 128 floats
    face_hash: imagehash.ImageHash  # pHash of the aligned face chip

    @property
    def height_px(self) -> int:
        return self.box[2] - self.box[0]


@cache
def _pose_predictor():
    import dlib
    import face_recognition_models

    return dlib.shape_predictor(face_recognition_models.pose_predictor_five_point_model_location())


def faces_in(image: np.ndarray, detect_max_side: int | None = None) -> list[Face]:
    """Every face dlib's HOG detector finds (upsampled once), with its encoding and hash: `face_boxes`
    then `describe`."""
    return describe(image, face_boxes(image, detect_max_side))


def face_boxes(image: np.ndarray, detect_max_side: int | None = None) -> list[tuple[int, int, int, int]]:
    """The (top, right, bottom, left) boxes dlib's HOG detector finds, upsampled once.

    Upsampled once because of classroom footage: measured in a 1280x720 frame of real portraits
    (bench/faces.py --smallest-face), the detector finds faces from 32 px high on every try
    upsampled once (0.28 s a frame), from about 64 px not upsampled (0.08 s), from 20 px upsampled
    twice (1.1 s). Back rows of a 720p classroom are 30-40 px; twice would find smaller faces than
    an encoding can tell apart anyway (dlib encodes 150 px chips).

    `detect_max_side`: look for faces on a copy shrunk to at most this many pixels a side (then
    encode on the full picture). For portraits and webcam captures, whose faces are large, this
    costs no face and most of the time; classroom footage, whose faces are small, passes None."""
    import cv2
    import face_recognition  # heavy (dlib): imported where faces are used, not by every command

    image = np.ascontiguousarray(image)
    if detect_max_side is not None and max(image.shape[:2]) > detect_max_side:
        scale = detect_max_side / max(image.shape[:2])
        small = cv2.resize(image, (round(image.shape[1] * scale), round(image.shape[0] * scale)),
                           interpolation=cv2.INTER_AREA)
        return [tuple(round(v / scale) for v in box)  # type: ignore[misc]
                for box in face_recognition.face_locations(small, number_of_times_to_upsample=1)]
    return [tuple(int(v) for v in box)  # type: ignore[misc]
            for box in face_recognition.face_locations(image, number_of_times_to_upsample=1)]


def describe(image: np.ndarray, boxes: list[tuple[int, int, int, int]]) -> list[Face]:
    """Each box's face: its encoding (the costly part: about 80 ms a face on this machine's CPU,
    where finding all 32 faces of a 1080p classroom costs 0.85 s) and the hash of its aligned chip."""
    import dlib
    import face_recognition

    if not boxes:
        return []
    image = np.ascontiguousarray(image)
    encodings = face_recognition.face_encodings(image, boxes)
    faces = []
    for (top, right, bottom, left), encoding in zip(boxes, encodings):
        shape = _pose_predictor()(image, dlib.rectangle(left, top, right, bottom))
        chip = dlib.get_face_chip(image, shape, size=_CHIP_PX, padding=_CHIP_PADDING)
        faces.append(Face((int(top), int(right), int(bottom), int(left)), np.asarray(encoding, dtype=np.float64),
                          imagehash.phash(Image.fromarray(chip).convert("L"))))
    return faces

"""The faces found in an image, on disk by the image's sha256: finding and encoding faces costs a
quarter of a second an image, and a capture is judged again whenever its learner's sessions are
(the server re-judges a learner as events arrive)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import imagehash
import numpy as np

from monitor.faces.detect import Face

_VERSION = 1  # part of the key: a change of detector settings must not reuse old results


class FacesCache:
    def __init__(self, folder: Path) -> None:
        self.folder = folder / "faces"

    @staticmethod
    def key_of(path: Path) -> str:
        return hashlib.sha256(path.read_bytes()).hexdigest()

    def get(self, key: str) -> list[Face] | None:
        try:
            data = json.loads((self.folder / f"{key}.v{_VERSION}.json").read_text())
            return [Face(tuple(f["box"]), np.asarray(f["encoding"], dtype=np.float64),  # type: ignore[arg-type]
                         imagehash.hex_to_hash(f["hash"])) for f in data]
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, key: str, faces: list[Face]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = self.folder / f"{key}.v{_VERSION}.json.part"
        partial.write_text(json.dumps([{"box": list(f.box), "encoding": f.encoding.tolist(), "hash": str(f.face_hash)}
                                       for f in faces]))
        partial.replace(self.folder / f"{key}.v{_VERSION}.json")

"""Comparisons between grey thumbnails, each chosen for what it must ignore.

- `max_block_change`: the largest change of any block. Sensor noise averages out inside a block;
  a moving hand does not, so a still but live classroom is never "unchanged".
- `similarity`: normalised correlation of the pictures' edge strength. Brightness and contrast drop
  out, so lights switched on keep the scene "the same"; and a fixed camera's edges (board, desks,
  windows) stay where they are while people move, whereas another room of much the same look
  (wall, board, floor, desks) has its edges elsewhere. Measured on 64x36 thumbnails: the same
  room 0.58-0.86 (lights x1.5 included), other rooms 0.22-0.35, other footage about 0.
- `edge_vectors(…, structure=True)`: the same on compressed edge strengths, where the room's fixed
  edges outweigh its people: is this still the room's view (the camera not turned away), is a
  low correlation a new scene or a teacher walking through an over-lit room.
- `distance`: root-mean-square difference, for finding copies of one exact frame.
"""

from __future__ import annotations

import cv2
import numpy as np


def max_block_change(a: np.ndarray, b: np.ndarray, keep: np.ndarray | None = None) -> float:
    """`keep`: the pixels to compare (None: all); the OSD clock's rows are left out."""
    diff = np.abs(a.astype(np.int16) - b.astype(np.int16))
    return float(np.max(diff if keep is None else diff[keep]))


def _edges(thumb: np.ndarray) -> np.ndarray:
    t = thumb.astype(np.float32)
    gx = cv2.Sobel(t, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(t, cv2.CV_32F, 0, 1, ksize=3)
    return cv2.magnitude(gx, gy)


def _compressed(edges: np.ndarray) -> np.ndarray:
    """Edge strength on a log scale relative to the picture's median edge. Raw strengths let a few
    strong edges outweigh the room: in an over-lit room (walls and board near white) the dark
    teacher walking about held most of the edge energy, and a clean 1080p class fell to 0.40 against
    its own reference view (a camera_moved and a splice on nothing). Relative to the median, a
    change of brightness still drops out; the log makes the faint fixed edges count. Measured on
    generated rooms (64x36 thumbnails, 360p-1080p, lights x0.5-x2.2 drifting 20 %, 3 rooms each):
    a sample against its room's reference view 0.75 and more (raw: 0.27), consecutive samples 0.80
    and more (raw: 0.30), the camera turned by a third 0.27 at most (raw: 0.26)."""
    scale = max(float(np.median(edges)), 0.1 * float(edges.mean()), 1e-3)
    return np.log1p(edges / scale)


def edge_vectors(thumbs: np.ndarray, structure: bool = False) -> np.ndarray:
    """Edge maps of a stack of thumbnails (n, h, w) as zero-mean unit vectors (n, h*w); a uniform
    picture has no edges and gives a zero vector. Computed once per file, compared many times.
    `structure`: the edges' strengths compressed (see `_compressed`), so the room's fixed edges
    count as much as the people's."""
    v = np.stack([_compressed(_edges(t)) if structure else _edges(t) for t in thumbs]).reshape(len(thumbs), -1)
    v = v - v.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    return np.divide(v, norms, out=np.zeros_like(v), where=norms > 1e-6)


def correlate(vectors: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Similarity of each edge vector (row) to `ref` in [-1, 1]; two uniform pictures count as the
    same scene."""
    out = (vectors @ ref).astype(np.float64)
    if not ref.any():
        out[~vectors.any(axis=1)] = 1.0
    return out


def consecutive(vectors: np.ndarray) -> np.ndarray:
    """Similarity of each edge vector to the one before it (1 for the first), as `correlate` gives
    it: two uniform pictures in a row count as the same scene."""
    out = np.ones(len(vectors))
    if len(vectors) > 1:
        out[1:] = np.einsum("ij,ij->i", vectors[1:], vectors[:-1])
        blank = ~vectors.any(axis=1)
        out[1:][blank[1:] & blank[:-1]] = 1.0
    return out


def similarity(a: np.ndarray, b: np.ndarray, structure: bool = False) -> float:
    """Correlation of two thumbnails' edges (see the module docstring)."""
    va, vb = edge_vectors(np.stack([a, b]), structure)
    return float(correlate(va[None], vb)[0])


def distance(a: np.ndarray, b: np.ndarray) -> float:
    d = a.astype(np.float32) - b.astype(np.float32)
    return float(np.sqrt(np.mean(d * d)))


def distances_to_many(query: np.ndarray, thumbs: np.ndarray, block: int = 512) -> np.ndarray:
    """RMS distance of every query thumbnail (q, h, w) to every stacked thumbnail (n, h, w): (q, n).
    The stack is converted to floats a block at a time, so the memory it takes does not grow with
    the length of the class."""
    q = query.reshape(query.shape[0], -1).astype(np.float32)
    q_norms = np.einsum("ij,ij->i", q, q)[:, None]
    out = np.empty((q.shape[0], thumbs.shape[0]), dtype=np.float32)
    for start in range(0, thumbs.shape[0], block):
        t = thumbs[start:start + block].reshape(-1, q.shape[1]).astype(np.float32)
        sq = q_norms + np.einsum("ij,ij->i", t, t)[None, :] - 2.0 * (q @ t.T)
        out[:, start:start + block] = np.sqrt(np.maximum(sq, 0.0) / q.shape[1])
    return out


def is_blank(thumb: np.ndarray, luma_max: float, contrast_max: float, keep: np.ndarray | None = None) -> bool:
    """Black (dark) or covered (uniform) picture; `keep` leaves the OSD clock out (white digits on a
    covered lens would otherwise count as contrast)."""
    pixels = thumb if keep is None else thumb[keep]
    return float(pixels.mean()) <= luma_max or float(pixels.std()) <= contrast_max

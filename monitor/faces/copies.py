"""Is one picture a copy of another, cropped, resized or re-compressed? A hash of the aligned face
catches copies of the face; it misses a copy cut so that part of the face is gone (the face's
landmarks, and so its alignment, change). Two shots of one person, even a second apart, share
almost no exact image structure; a copy shares all of it. So: ORB keypoints in both, matched,
and the matches that one similarity transform (shift, scale, turn: what cropping and resizing
do) explains; many such matches make a copy.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

_SIDE = 512  # pictures are compared at most this large: keypoints of fine detail are not needed


@dataclass(frozen=True)
class Keypoints:
    points: np.ndarray  # (n, 2) float32, in the shrunk picture's pixels
    descriptors: np.ndarray  # (n, 32) uint8


def keypoints(picture: np.ndarray) -> Keypoints:
    grey = cv2.cvtColor(np.ascontiguousarray(picture), cv2.COLOR_RGB2GRAY)
    scale = _SIDE / max(grey.shape)
    if scale < 1:
        grey = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    found, descriptors = cv2.ORB_create(nfeatures=1000).detectAndCompute(grey, None)
    if descriptors is None:
        return Keypoints(np.zeros((0, 2), np.float32), np.zeros((0, 32), np.uint8))
    return Keypoints(np.float32([k.pt for k in found]), descriptors)


def shared_structure(a: Keypoints, b: Keypoints) -> int:
    """How many keypoint matches of the two pictures one similarity transform explains."""
    if len(a.points) < 8 or len(b.points) < 8:
        return 0
    matches = cv2.BFMatcher(cv2.NORM_HAMMING, crossCheck=True).match(a.descriptors, b.descriptors)
    if len(matches) < 8:
        return 0
    source = np.float32([a.points[m.queryIdx] for m in matches])
    target = np.float32([b.points[m.trainIdx] for m in matches])
    _, inliers = cv2.estimateAffinePartial2D(source, target, method=cv2.RANSAC, ransacReprojThreshold=3.0)
    return 0 if inliers is None else int(inliers.sum())

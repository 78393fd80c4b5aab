"""The monitor's own xAPI profile: what the Video Profile cannot say and supervision needs.

The Video Profile (https://w3id.org/xapi/video) says a video was played, paused, seeked and
completed; it has no word for "a pop-up was shown / answered / timed out" (B3), "a face was
captured" (B4, with its image ids and a challenge's nonce), "the window was hidden / visible"
(B2), "a photo was kept" (B6) or "the player reported its position" (B1, between play and pause).
Without them a statements-only session could never be valid. No learning record store or
proctoring product defines these, so they are defined here, under the project's IRI, as an xAPI
Profile (JSON-LD, xapi_profile/supervision.jsonld; the service serves it at /xapi/profile).

Every statement of this profile has the video being learned as its object (as the Video Profile's
do), the course as its parent context activity and the Video Profile's session-id context extension
(or the registration) as its session; what is particular to the event is in context extensions.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

PROFILE = "https://training-monitor.example/xapi/supervision"
VERSION = PROFILE + "/v1"
VERB = PROFILE + "/verbs/"
EXTENSION = PROFILE + "/extensions/"

# verb -> the native event type it stands for
VERBS: dict[str, str] = {
    VERB + "popup-shown": "popup_shown",
    VERB + "popup-answered": "popup_answered",
    VERB + "popup-timed-out": "popup_timeout",
    VERB + "face-captured": "face_capture",
    VERB + "photo-kept": "photo_kept",
    VERB + "window-hidden": "hidden",
    VERB + "window-visible": "visible",
    VERB + "position-reported": "heartbeat",
}

POPUP_ID = EXTENSION + "popup-id"  # text: the pop-up's id, the same on shown, answered and timed out
IMAGE = EXTENSION + "image"  # text: a captured or kept picture's id (POST /captures gives it)
IMAGES = EXTENSION + "images"  # array of text: a burst of 3-5 frames over about 2 s
NONCE = EXTENSION + "nonce"  # text: the nonce of the challenge a capture answers

DOCUMENT = Path(__file__).resolve().parent / "xapi_profile" / "supervision.jsonld"


@cache
def _document_text() -> str:
    return DOCUMENT.read_text(encoding="utf-8")


def profile_document() -> dict[str, Any]:
    """The profile as published (a fresh copy: callers may change it)."""
    return json.loads(_document_text())

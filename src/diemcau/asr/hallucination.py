"""Stage 5b: drop the phrases Whisper invents on Vietnamese audio it cannot hear.

Whisper was trained on subtitled web video, so on silence, music or noise it writes the sign-offs of Vietnamese
YouTube channels ("Hãy subscribe cho kênh Ghiền Mì Gõ để không bỏ lỡ những video hấp dẫn", "Cảm ơn các bạn
đã theo dõi", "Hẹn gặp lại các bạn trong những video tiếp theo"). In a Party resolution lecture:

* **channel promotion** (subscribe, đăng ký kênh, like và share, bấm chuông, a channel's name) is never what
  the speaker said, so such a segment is always dropped;
* a **viewer sign-off** ("cảm ơn các bạn đã theo dõi", "hẹn gặp lại") could be said by a speaker at the end, so
  it is dropped only when the model itself was unsure: the mean probability of its words under
  ``UNSURE_PROBABILITY``.

Pure functions on segments; the decoding guard records each drop as a note (``hallucination``) with its
window, so nothing disappears silently and a trainer can check the spot.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from diemcau.core.transcript import Segment

UNSURE_PROBABILITY = 0.5

_PROMOTION = re.compile(
    r"subscribe|đăng ký kênh|đăng kí kênh|like và share|like share|bấm chuông|nhấn chuông|ghiền mì gõ|"
    r"không bỏ lỡ những video|kênh youtube",
)
_SIGN_OFF = re.compile(
    r"cảm ơn (các bạn|quý vị)( đã)? (theo dõi|xem|lắng nghe)|hẹn gặp lại (các bạn|quý vị)|"
    r"trong (những|các) video tiếp theo",
)


def _plain(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).lower().split())


def mean_probability(segment: Segment) -> float | None:
    """The mean probability of the segment's words, or None when it has no word timings."""
    if not segment.words:
        return None
    return sum(w.probability for w in segment.words) / len(segment.words)


def is_hallucination(segment: Segment) -> bool:
    """Is this segment a channel promotion, or a viewer sign-off the model was unsure of?"""
    text = _plain(segment.text)
    if _PROMOTION.search(text):
        return True
    if _SIGN_OFF.search(text):
        probability = mean_probability(segment)
        return probability is None or probability < UNSURE_PROBABILITY
    return False


def drop_hallucinations(segments: Sequence[Segment]) -> tuple[tuple[Segment, ...], int]:
    """The segments without hallucinated ones, and how many were dropped."""
    kept = tuple(s for s in segments if not is_hallucination(s))
    return kept, len(segments) - len(kept)

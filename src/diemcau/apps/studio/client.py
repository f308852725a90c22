"""The studio's only way to the platform: typed calls to the API service with the trainer's hub token.

Inside a trainer's Jupyter server the hub sets ``JUPYTERHUB_API_TOKEN`` (the server's token, whose ``server``
role may access the API service as its owner) and the spawner sets ``DIEMCAU_API_URL``. Every error the API
answers with becomes an :class:`ApiError` carrying the API's own Vietnamese ``detail`` — what the trainer reads.
Tests pass any ``httpx.Client`` (a FastAPI ``TestClient`` on the in-process app) instead.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import httpx

from diemcau.i18n import t

TIMEOUT = httpx.Timeout(30.0, read=300.0)  # an upload is validated (ffprobe) before the answer


class ApiError(Exception):
    """The API refused or failed; ``message`` is the Vietnamese reason to show the trainer."""

    def __init__(self, status: int, message: str, problems: list[dict] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.problems = status, message, problems or []

    @property
    def missing_route(self) -> bool:
        """A 404 that is not about a record: the API has no such route (yet)."""
        return self.status == 404 and self.message == t("studio.route_missing")


def error_message(response: httpx.Response) -> tuple[str, list[dict]]:
    """The Vietnamese message (and any listed problems) in an error response's JSON body."""
    try:
        body = response.json()
    except ValueError:
        body = None
    detail = body.get("detail") if isinstance(body, dict) else None
    problems = body.get("problems", []) if isinstance(body, dict) else []
    # The API's router says a route is missing in Vietnamese (``api.no_such_address``; "Not Found" from an older one).
    if isinstance(detail, str) and detail and detail not in ("Not Found", t("api.no_such_address")):
        return detail, problems
    if response.status_code == 404:
        return t("studio.route_missing"), problems
    if isinstance(detail, list):  # FastAPI's validation errors (English): name the fields instead
        fields = ", ".join(str(e.get("loc", ["?"])[-1]) for e in detail if isinstance(e, dict))
        return t("studio.invalid_request", fields=fields), problems
    return t("studio.api_failed", status=response.status_code), problems


@dataclass
class StudioClient:
    """Typed calls to the API (paths relative to the service prefix held by ``http``'s base URL)."""

    http: httpx.Client

    @classmethod
    def connect(cls, base_url: str, token: str, transport: httpx.BaseTransport | None = None) -> StudioClient:
        """A client for the API at ``base_url`` (``…/services/diemcau``) acting with ``token``."""
        headers = {"Authorization": f"token {token}"}
        return cls(httpx.Client(base_url=base_url, headers=headers, timeout=TIMEOUT, transport=transport))

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> StudioClient:
        """The client a trainer's server gives the studio (``DIEMCAU_API_URL``, ``JUPYTERHUB_API_TOKEN``)."""
        env = os.environ if environ is None else environ
        url, token = env.get("DIEMCAU_API_URL", ""), env.get("JUPYTERHUB_API_TOKEN", "")
        if not url or not token:
            raise ApiError(0, t("studio.not_configured"))
        return cls.connect(url, token)

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ApiError(0, t("studio.unreachable", detail=type(exc).__name__)) from None
        if response.status_code >= 400:
            message, problems = error_message(response)
            raise ApiError(response.status_code, message, problems)
        return response

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._call(method, path, **kwargs).json()

    # who and what
    def me(self) -> dict:
        """The caller: card, name, roles."""
        return self._json("GET", "/api/me")

    def courses(self) -> list[dict]:
        """The courses the caller may see."""
        return self._json("GET", "/api/courses")

    def lectures(self, course: str | None = None) -> list[dict]:
        """Lectures (staff also see those processing or failed)."""
        return self._json("GET", "/api/lectures", params={"course": course} if course else None)

    def lecture(self, lecture_id: str) -> dict:
        """One lecture with its status, job stage and progress."""
        return self._json("GET", f"/api/lectures/{lecture_id}")

    # publish
    def publish_url(
        self, course_id: str, title: str, url: str, *, speaker: str = "", resolution: str = "", transcribe: bool = True
    ) -> dict:
        """Publish from a link; the lecture comes back queued (or the one already published)."""
        body = {
            "course_id": course_id,
            "title": title,
            "url": url,
            "speaker": speaker,
            "resolution": resolution,
            "transcribe": transcribe,
        }
        return self._json("POST", "/api/lectures", json=body)

    def publish_upload(
        self,
        course_id: str,
        title: str,
        filename: str,
        content: bytes,
        *,
        speaker: str = "",
        resolution: str = "",
        transcribe: bool = True,
    ) -> dict:
        """Publish an uploaded file; a file that is not usable media is refused with the reason."""
        data = {
            "course_id": course_id,
            "title": title,
            "speaker": speaker,
            "resolution": resolution,
            "transcribe": "true" if transcribe else "false",
        }
        files = {"file": (filename, content, "application/octet-stream")}
        return self._json("POST", "/api/lectures/upload", data=data, files=files)

    # transcripts
    def transcript(self, lecture_id: str) -> dict:
        """The transcript with its words (times and Whisper's probabilities)."""
        return self._json("GET", f"/api/lectures/{lecture_id}/transcript", params={"words": "true"})

    def correct_segment(self, lecture_id: str, index: int, **changes: Any) -> dict:
        """Save a correction (any of ``text``, ``start``, ``end``); the API keeps it as a version."""
        return self._json("PATCH", f"/api/lectures/{lecture_id}/transcript/segments/{index}", json=changes)

    def transcript_history(self, lecture_id: str) -> list[dict]:
        """Every correction of the lecture, oldest first."""
        return self._json("GET", f"/api/lectures/{lecture_id}/transcript/history")

    def transcript_suggestions(self, lecture_id: str) -> list[dict]:
        """The lecture's documents' words for stretches close to them but not in place (``segments``: each
        covered segment's text to save, one ordinary correction each)."""
        return self._json("GET", f"/api/lectures/{lecture_id}/transcript/suggestions")

    def revert_edit(self, lecture_id: str, edit_id: int) -> dict:
        """Put back the segment an edit changed (a system correction), recorded as the caller's own correction."""
        return self._json("POST", f"/api/lectures/{lecture_id}/transcript/history/{edit_id}/revert")

    def transcription(self, lecture_id: str) -> dict:
        """Where the lecture's transcription stands, and ``materials_changed_at`` when a material came after it."""
        return self._json("GET", f"/api/lectures/{lecture_id}/transcription")

    def transcribe_again(self, lecture_id: str, *, force: bool = False) -> dict:
        """Queue the transcription again (``force``: confirmed over trainers' corrections, which are re-applied)."""
        return self._json("POST", f"/api/lectures/{lecture_id}/transcription", json={"force": force})

    def media_bytes(self, lecture_id: str, path: str) -> bytes:
        """A media file of the lecture (``audio.m4a`` for listening to a segment)."""
        return self._call("GET", f"/api/media/{lecture_id}/{path}").content

    # quizzes
    def quizzes(self, course_id: str) -> list[dict]:
        """The released quizzes of a course (``quiz_id``, ``title``, rules)."""
        return self._json("GET", f"/api/quizzes/{course_id}")

    def quiz_spec(self, course_id: str, quiz_id: str) -> dict:
        """The saved spec of a quiz: ``{yaml, spec_file, ...}`` (an ``ApiError`` 404 when there is none)."""
        return self._json("GET", f"/api/studio/quizzes/{course_id}/{quiz_id}")

    def quiz_validate(self, course_id: str, quiz_id: str, spec_yaml: str) -> dict:
        """``{valid, problems, ...}`` for a spec's YAML."""
        return self._json("POST", f"/api/studio/quizzes/{course_id}/{quiz_id}/validate", json={"yaml": spec_yaml})

    def quiz_preview(self, course_id: str, quiz_id: str, spec_yaml: str) -> dict:
        """The quiz as a member would see it (an ``ApiError`` with ``problems`` when the spec is wrong)."""
        return self._json("POST", f"/api/studio/quizzes/{course_id}/{quiz_id}/preview", json={"yaml": spec_yaml})

    def quiz_release(self, course_id: str, quiz_id: str, spec_yaml: str) -> dict:
        """Save the spec in the course's folder and release it to members."""
        return self._json("POST", f"/api/studio/quizzes/{course_id}/{quiz_id}/release", json={"yaml": spec_yaml})

    # materials and questions (routes of their own issue parts)
    def materials(self, lecture_id: str) -> list[dict]:
        """The documents attached to a lecture."""
        return self._json("GET", f"/api/lectures/{lecture_id}/materials")

    def attach_material(self, lecture_id: str, filename: str, content: bytes, *, replace: bool = False) -> dict:
        """Attach a PDF, DOCX or PPTX to a lecture (``replace``: the one of the same name); the answer's
        ``notice`` says whether it became searchable."""
        params = {"replace": "true"} if replace else None
        files = {"file": (filename, content, "application/octet-stream")}
        return self._json("POST", f"/api/lectures/{lecture_id}/materials", params=params, files=files)

    def inbox(self, course: str | None = None, state: str = "unanswered", hidden: bool = False) -> list[dict]:
        """Members' questions to answer (``state``: unanswered or all); with ``hidden``, the hidden ones only."""
        params = {"state": state} | ({"course": course} if course else {}) | ({"hidden": "true"} if hidden else {})
        return self._json("GET", "/api/questions/inbox", params=params)

    def answer_question(self, question_id: str, text: str, scope: str = "cell") -> dict:
        """Answer a question for the asker's cell (``cell``) or for everyone (``all``)."""
        return self._json("POST", f"/api/questions/{question_id}/answer", json={"text": text, "scope": scope})

    def hide_question(self, question_id: str, hidden: bool, reason: str = "") -> dict:
        """Hide a question from everyone but its asker and the trainers (``hidden``), or restore it."""
        return self._json("POST", f"/api/questions/{question_id}/hide", json={"hidden": hidden, "reason": reason})

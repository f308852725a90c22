"""The trainer studio's pages under Streamlit's AppTest, against the real API app in-process.

The studio only talks to the API (``apps.studio.client``); here its client is a ``TestClient`` on the app with
the seeded trainer's token, so every page runs the real routes, database, ffmpeg and transcript store.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from diemcau.adapters.db import transcription_jobs as jobs
from diemcau.apps import setup_steps
from diemcau.apps.studio.quiz_yaml import QuestionValues, QuizValues, to_yaml
from diemcau.apps.studio.unsure import escape_markdown
from diemcau.core.corrections import SYSTEM_EDITOR
from diemcau.i18n import t
from diemcau.jobs.publish import drain_queue, is_finished
from diemcau.jobs.transcribe_task import REQUEST_FILE, work_dir
from tests.apiclient import PREFIX, auth, seeded_client
from tests.material_fixtures import make_encrypted_pdf, pdf_bytes, seed_lecture_material
from tests.media_fixtures import make_video
from tests.question_fixtures import AUTHZ_QUESTION, seed_authz_questions
from tests.quiz_support import AUTHZ_QUIZ, seed_authz_quiz
from tests.studio_support import (
    DOCUMENT_SENTENCE,
    HEARD_SENTENCE,
    QUOTING_SEGMENT,
    UNSURE_SEGMENT,
    button,
    finished_transcription,
    seed_correctable_lecture,
    seed_quoting_lecture,
    seed_system_correction,
    studio,
    studio_client,
    texts,
)
from tests.transcript_fixtures import LECTURE_ID


@pytest.fixture
def api(settings):  # type: ignore[no-untyped-def]
    """The API on the seeded small province (trainer b1002), on the settings' own database (jobs use it too)."""
    setup_steps.ensure_data_dir(settings)
    factory = setup_steps.ensure_database(settings)
    client, _ = seeded_client(settings, factory)
    return client, settings, factory


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 3-second test video with a tone."""
    return make_video(tmp_path_factory.mktemp("studio-media") / "bai-giang.mp4", seconds=3.0)


def fill_publish_form(at, title: str, name: str, content: bytes) -> None:  # type: ignore[no-untyped-def]
    """Type a title, attach a file, untick transcription, and press Publish."""
    next(w for w in at.text_input if w.label == t("studio.field_title")).input(title)
    at.file_uploader[0].set_value((name, content, "video/mp4"))
    next(c for c in at.checkbox if c.label == t("studio.field_transcribe")).uncheck()
    button(at, "studio.publish_button").click().run()


def test_publish_an_upload_and_follow_it_to_ready(api, video: Path) -> None:
    """Does an uploaded file become a lecture whose steps the page shows, ending ready with transcription
    skipped as asked?"""
    client, settings, factory = api
    at = studio(studio_client(client), "publish")
    assert not at.exception, at.exception
    fill_publish_form(at, "Học tập Nghị quyết 57", video.name, video.read_bytes())
    assert not at.error, [e.value for e in at.error]
    lecture_id = at.session_state["publish_lecture"]
    assert t("studio.published", title="Học tập Nghị quyết 57", id=lecture_id) in texts(at)
    drain_queue(settings, lambda: is_finished(factory, lecture_id), idle_sleep=0.05)  # what a worker does
    at.run()
    shown = texts(at)
    assert t("studio.ready", title="Học tập Nghị quyết 57") in shown
    assert f"{t('studio.step_transcode')}: {t('studio.state_done')}" in shown
    assert f"{t('studio.step_transcribe')}: {t('studio.state_skipped')}" in shown
    lecture = client.get(f"{PREFIX}/api/lectures/{lecture_id}", headers=auth("member")).json()
    assert lecture["status"] == "ready" and lecture["title"] == "Học tập Nghị quyết 57"


def test_a_corrupt_upload_shows_the_apis_reason(api, video: Path) -> None:
    """Is a video cut short refused with the API's Vietnamese reason, and nothing followed?"""
    client, _settings, _factory = api
    at = studio(studio_client(client), "publish")
    cut = video.read_bytes()[: video.stat().st_size // 2]
    fill_publish_form(at, "Bài giảng hỏng", "hong.mp4", cut)
    assert [e.value for e in at.error] == [t("media.corrupt")]
    assert "publish_lecture" not in at.session_state
    assert client.get(f"{PREFIX}/api/lectures", headers=auth("trainer")).json() == []


def test_publish_needs_a_title_and_one_source(api) -> None:
    """Without a title, or without a file or link, does the page say what is missing and send nothing?"""
    client, _settings, _factory = api
    at = studio(studio_client(client), "publish")
    button(at, "studio.publish_button").click().run()
    assert [e.value for e in at.error] == [t("studio.title_required")]
    next(w for w in at.text_input if w.label == t("studio.field_title")).input("Bài giảng")
    button(at, "studio.publish_button").click().run()
    assert [e.value for e in at.error] == [t("studio.file_or_url")]


def test_correct_a_segment_saves_a_version(api) -> None:
    """Does "next unsure segment" go to the segment with a low-probability word, highlighted, with its audio,
    and does saving a new text reach the API's transcript as a versioned edit by the trainer?"""
    client, settings, factory = api
    seed_correctable_lecture(settings, factory)
    at = studio(studio_client(client), "correct")
    assert not at.exception, at.exception
    assert t("studio.unsure_summary", unsure=1, total=4) in texts(at)
    button(at, "studio.next_unsure").click().run()
    assert at.number_input(key="correct_number").value == UNSURE_SEGMENT + 1
    assert ":orange-background[chấp]" in texts(at)
    assert len(at.get("audio")) == 1
    area = next(a for a in at.text_area if a.label == t("studio.field_text"))
    assert area.value == "của ban chấp hành trung ương"
    area.input("của Ban Chấp hành Trung ương Đảng")
    button(at, "studio.save_button").click().run()
    assert t("studio.saved", version=1) in texts(at), texts(at)
    transcript = client.get(f"{PREFIX}/api/lectures/{LECTURE_ID}/transcript", headers=auth("member")).json()
    assert transcript["segments"][UNSURE_SEGMENT]["text"] == "của Ban Chấp hành Trung ương Đảng"
    history = client.get(f"{PREFIX}/api/lectures/{LECTURE_ID}/transcript/history", headers=auth("trainer")).json()
    assert [(e["segment_index"], e["editor"], e["after"]["text"]) for e in history] == [
        (UNSURE_SEGMENT, "b1002", "của Ban Chấp hành Trung ương Đảng")
    ]
    assert t("studio.unsure_summary", unsure=0, total=4) in texts(at)  # a corrected segment is no longer unsure


def test_a_refused_correction_shows_the_reason(api) -> None:
    """Is an end before the start refused by the API, its Vietnamese reason shown, the transcript unchanged?"""
    client, settings, factory = api
    seed_correctable_lecture(settings, factory)
    at = studio(studio_client(client), "correct")
    next(n for n in at.number_input if n.label == t("studio.field_start")).set_value(3.0)  # after its end, 2.5
    button(at, "studio.save_button").click().run()
    assert [e.value for e in at.error] == [t("transcript.edit_end_before_start", start=3, end=2.5)], texts(at)
    history = client.get(f"{PREFIX}/api/lectures/{LECTURE_ID}/transcript/history", headers=auth("trainer")).json()
    assert history == []


def fill_quiz(at, *, title: str, answer: str) -> None:  # type: ignore[no-untyped-def]
    """One single-choice question with three options, for the cell course."""
    at.selectbox(key="quiz_course").set_value("nq-cb-a1")
    at.text_input(key="quiz_id").input("kiem-tra-studio")
    at.text_input(key="quiz_title").input(title)
    at.text_area(key="quiz_q0_text").input("Nghị quyết 57 bàn về nội dung nào?")
    at.text_area(key="quiz_q0_options").input("Khoa học, công nghệ\nKinh tế tư nhân\nHội nhập quốc tế")
    at.text_input(key="quiz_q0_letters").input(answer)
    at.run()


def test_quiz_preview_shows_the_members_view(api) -> None:
    """Does a valid form preview as a member sees it: the question and its options, no answer key?"""
    client, _settings, _factory = api
    at = studio(studio_client(client), "quiz")
    fill_quiz(at, title="Kiểm tra Nghị quyết 57", answer="A")
    button(at, "studio.preview_button").click().run()
    assert not at.error, [e.value for e in at.error]
    shown = texts(at)
    assert t("studio.preview_heading", title="Kiểm tra Nghị quyết 57") in shown
    assert "Nghị quyết 57 bàn về nội dung nào?" in shown
    radio = at.radio(key="preview-q1")
    assert radio.options == ["A. Khoa học, công nghệ", "B. Kinh tế tư nhân", "C. Hội nhập quốc tế"]
    assert radio.disabled and radio.value is None


def test_an_invalid_quiz_lists_every_problem_with_its_field(api) -> None:
    """Does a form without a title and with an answer that is no option list both problems by field?"""
    client, _settings, _factory = api
    at = studio(studio_client(client), "quiz")
    fill_quiz(at, title="", answer="D")
    button(at, "studio.preview_button").click().run()
    assert [e.value for e in at.error] == [t("studio.quiz_invalid", count=2)]
    problems = "\n".join(m.value for m in at.markdown)
    assert "`title`" in problems and "`questions[1].answer`" in problems
    assert escape_markdown(t("quiz_spec.missing")) in problems
    assert escape_markdown(t("quiz_spec.answer_not_option", answer="D", known="A, B, C")) in problems


def test_release_from_the_form(api) -> None:
    """Does Release open the quiz to members and save its spec in the course folder?"""
    client, settings, _factory = api
    at = studio(studio_client(client), "quiz")
    fill_quiz(at, title="Kiểm tra Nghị quyết 57", answer="A")
    button(at, "studio.release_button").click().run()
    assert not at.error and not at.exception, (texts(at), at.exception)
    assert (settings.courses_dir / "nq-cb-a1" / "quizzes" / "kiem-tra-studio.yaml").exists()
    quiz = client.get(f"{PREFIX}/api/quizzes/nq-cb-a1/kiem-tra-studio", headers=auth("member"))
    assert quiz.status_code == 200 and quiz.json()["title"] == "Kiểm tra Nghị quyết 57"


RELEASED = QuizValues(
    "Kiểm tra Nghị quyết 57",
    "Ôn tập sau buổi học.",
    70,
    2,
    "last",
    "refuse",
    dt.date(2026, 1, 1),
    dt.date(2099, 12, 31),
    False,
    True,
    (
        QuestionValues(
            "q1", "single", "Nghị quyết 57 bàn về nội dung nào?", 1.0, "Khoa học, công nghệ\nKinh tế tư nhân", "A"
        ),
        QuestionValues("q2", "multiple", "Những gì là đột phá?", 2.0, "Thể chế\nNhân lực\nHạ tầng", "A, C"),
        QuestionValues("q3", "true_false", "Nghị quyết ban hành năm 2020?", 1.0, answer="sai"),
        QuestionValues("q4", "short", "Cơ quan nào ban hành?", 1.5, answer="Bộ Chính trị\nBCT"),
        QuestionValues("bai", "essay", "Viết bài thu hoạch.", 5.0, min_words=20),
    ),
)


def test_open_a_released_quiz_fix_it_and_release_again(api) -> None:
    """Does opening a released quiz fill the form with everything it holds (the form writes back the very YAML it
    was released from), and does releasing a corrected title replace it for members?"""
    client, settings, _factory = api
    spec = to_yaml(RELEASED)
    released = client.post(
        f"{PREFIX}/api/studio/quizzes/nq-cb-a1/on-tap/release", json={"yaml": spec}, headers=auth("trainer")
    )
    assert released.status_code == 200, released.text
    at = studio(studio_client(client), "quiz")
    at.selectbox(key="quiz_course").set_value("nq-cb-a1").run()
    at.selectbox(key="quiz_open_pick_nq-cb-a1").set_value("on-tap")
    at.button(key="quiz_open_button").click().run()
    assert not at.exception and not at.error, (texts(at), at.exception)
    assert t("studio.quiz_opened", title=RELEASED.title, quiz="on-tap") in texts(at) and not at.warning
    assert at.text_input(key="quiz_id").value == "on-tap" and at.number_input(key="quiz_count").value == 5
    assert at.text_area(key="quiz_q1_options").value == "Thể chế\nNhân lực\nHạ tầng"
    assert at.radio(key="quiz_q2_tf").value == "sai" and at.number_input(key="quiz_q4_min_words").value == 20
    assert at.code[0].value == spec.rstrip("\n")  # the element keeps no final newline
    at.text_input(key="quiz_title").input("Kiểm tra Nghị quyết 57 (đã sửa)").run()
    button(at, "studio.release_button").click().run()
    assert not at.error and not at.exception, (texts(at), at.exception)
    saved = (settings.courses_dir / "nq-cb-a1" / "quizzes" / "on-tap.yaml").read_text(encoding="utf-8")
    assert saved == spec.replace(RELEASED.title, "Kiểm tra Nghị quyết 57 (đã sửa)")
    quiz = client.get(f"{PREFIX}/api/quizzes/nq-cb-a1/on-tap", headers=auth("member"))
    assert quiz.status_code == 200 and quiz.json()["title"] == "Kiểm tra Nghị quyết 57 (đã sửa)"


def test_a_released_quiz_without_its_file_says_so(api) -> None:
    """Is a released quiz whose spec is not in the course folder refused with the API's reason, leaving the form
    as the trainer left it?"""
    client, _settings, factory = api
    seed_authz_quiz(factory)  # released (in the database) with no file in the course folder
    at = studio(studio_client(client), "quiz")
    at.selectbox(key="quiz_course").set_value("nq-cb-a1").run()
    at.text_input(key="quiz_title").input("Bài đang soạn").run()
    at.button(key="quiz_open_button").click().run()
    assert [e.value for e in at.error] == [t("studio.quiz_spec_not_found", quiz=AUTHZ_QUIZ)]
    assert at.text_input(key="quiz_title").value == "Bài đang soạn"


@pytest.mark.parametrize("page", ["materials", "inbox"])
def test_materials_and_inbox_pages_follow_the_api(api, page: str) -> None:
    """Where the API lacks the page's route (404 Not Found), does the page say "not available yet" instead of
    failing — and once the route is there, does the page draw without an error?"""
    client, settings, factory = api
    seed_correctable_lecture(settings, factory)
    route = "/api/lectures/{lecture_id}/materials" if page == "materials" else "/api/questions/inbox"
    present = f"{PREFIX}{route}" in client.app.openapi()["paths"]
    at = studio(studio_client(client), page)
    assert not at.exception and not at.error, (at.exception, texts(at))
    assert (t("studio.not_available") in texts(at)) is not present


def test_attach_a_material_from_the_page(api) -> None:
    """Does a PDF attached on the materials page reach the lecture, with the API's notice shown; does a file the
    API refuses get its reason, and an encrypted PDF, once the job has tried to read it, show why it is not
    searchable?"""
    client, settings, factory = api

    seed_correctable_lecture(settings, factory)
    at = studio(studio_client(client), "materials")
    at.file_uploader[0].set_value(("Nghị quyết 57.pdf", pdf_bytes(), "application/pdf"))
    button(at, "studio.attach_button").click().run()
    assert not at.error and len(at.success) == 1, texts(at)
    listed = client.get(f"{PREFIX}/api/lectures/{LECTURE_ID}/materials", headers=auth("member")).json()
    assert [m["name"] for m in listed] == ["Nghị quyết 57.pdf"]
    at.run()
    assert f"**{escape_markdown('Nghị quyết 57.pdf')}**" in texts(at)
    at.file_uploader[0].set_value(("virus.pdf", b"MZ" + b"\0" * 200, "application/pdf"))
    button(at, "studio.attach_button").click().run()
    assert len(at.error) == 1 and t("materials.not_supported") in at.error[0].value, texts(at)
    locked = make_encrypted_pdf(Path(settings.home) / "khoa.pdf").read_bytes()
    at.file_uploader[0].set_value(("khoa.pdf", locked, "application/pdf"))
    button(at, "studio.attach_button").click().run()
    assert t("materials.processing") in texts(at)
    drain_queue(settings, stop=lambda: False)  # the job reads it (a worker would)
    at.run()
    assert t("materials.encrypted_pdf") in texts(at)


def test_answer_a_question_from_the_inbox(api) -> None:
    """Does the inbox list members' unanswered questions, and an answer for everyone reach the API?"""
    client, settings, factory = api

    seed_correctable_lecture(settings, factory)
    seed_authz_questions(factory)
    at = studio(studio_client(client), "inbox")
    assert "**Câu hỏi của a1001**" in texts(at) and "**Câu hỏi của a1002**" in texts(at)
    at.text_area(key=f"answer-text-{AUTHZ_QUESTION}").input("Nghị quyết được ban hành năm 2024.")
    at.radio(key=f"answer-scope-{AUTHZ_QUESTION}").set_value("all")
    next(b for b in at.button if b.label == t("studio.answer_button")).click().run()
    assert t("studio.answered") in texts(at) and "**Câu hỏi của a1001**" not in texts(at), texts(at)
    mine = client.get(f"{PREFIX}/api/lectures/{LECTURE_ID}/questions", headers=auth("member")).json()
    answered = next(q for q in mine if q["id"] == AUTHZ_QUESTION)
    assert answered["answer"] == "Nghị quyết được ban hành năm 2024." and answered["scope"] == "all"


def test_hide_a_question_from_the_inbox_and_restore_it(api) -> None:
    """Does «Ẩn câu hỏi» with a reason take the question out of the inbox and away from its cell, the hidden
    list show it with the reason, and «Khôi phục câu hỏi» bring it back?"""
    client, settings, factory = api

    seed_correctable_lecture(settings, factory)
    seed_authz_questions(factory)
    at = studio(studio_client(client), "inbox")
    at.text_input(key=f"hide-reason-{AUTHZ_QUESTION}").input("Câu hỏi lạc đề")
    at.button(key=f"hide-button-{AUTHZ_QUESTION}").click().run()
    assert not at.exception and not at.error, (at.exception, texts(at))
    assert t("studio.hidden_done") in texts(at) and "**Câu hỏi của a1001**" not in texts(at), texts(at)
    assert "**Câu hỏi của a1002**" in texts(at)  # the other question stays
    secretary = client.get(f"{PREFIX}/api/lectures/{LECTURE_ID}/questions", headers=auth("secretary")).json()
    assert AUTHZ_QUESTION not in [q["id"] for q in secretary]
    asker = client.get(f"{PREFIX}/api/lectures/{LECTURE_ID}/questions", headers=auth("member")).json()
    assert [(q["id"], q["hidden"]) for q in asker] == [(AUTHZ_QUESTION, True)]

    at.toggle(key="inbox_hidden").set_value(True).run()
    assert "**Câu hỏi của a1001**" in texts(at) and "**Câu hỏi của a1002**" not in texts(at), texts(at)
    assert t("studio.hidden_shown", reason="Câu hỏi lạc đề") in texts(at)
    at.button(key=f"restore-{AUTHZ_QUESTION}").click().run()
    assert t("studio.restored") in texts(at) and t("studio.hidden_empty") in texts(at), texts(at)
    secretary = client.get(f"{PREFIX}/api/lectures/{LECTURE_ID}/questions", headers=auth("secretary")).json()
    assert AUTHZ_QUESTION in [q["id"] for q in secretary]


def test_a_member_gets_no_studio(api) -> None:
    """Does a member's token (were one to reach the studio) get the trainers-only notice and no page?"""
    client, _settings, _factory = api
    at = studio(studio_client(client, "member"))
    assert [w.value for w in at.warning] == [t("studio.trainers_only")]
    assert not at.sidebar.radio


def test_accept_the_documents_words_for_an_unsure_segment(api) -> None:
    """Does the trainer see, beside the unsure words, the sentence of the lecture's material that Whisper
    garbled, and does one click make it the segment's text, saved as the trainer's own versioned edit?"""
    client, settings, factory = api
    seed_quoting_lecture(settings, factory)
    at = studio(studio_client(client), "correct")
    button(at, "studio.next_unsure").click().run()
    assert at.number_input(key="correct_number").value == QUOTING_SEGMENT + 1
    assert ":orange-background[thái,]" in texts(at)
    [offer] = at.info
    assert escape_markdown(DOCUMENT_SENTENCE) in offer.value
    button(at, "studio.suggestion_accept").click().run()
    assert not at.error and not at.exception, texts(at)
    assert t("studio.suggestion_accepted") in texts(at)
    transcript = client.get(f"{PREFIX}/api/lectures/{LECTURE_ID}/transcript", headers=auth("member")).json()
    assert transcript["segments"][QUOTING_SEGMENT]["text"] == DOCUMENT_SENTENCE
    history = client.get(f"{PREFIX}/api/lectures/{LECTURE_ID}/transcript/history", headers=auth("trainer")).json()
    assert [(e["segment_index"], e["editor"], e["after"]["text"]) for e in history] == [
        (QUOTING_SEGMENT, "b1002", DOCUMENT_SENTENCE)
    ]
    assert not any(b.label == t("studio.suggestion_accept") for b in at.button)  # nothing left to offer
    assert next(a for a in at.text_area if a.label == t("studio.field_text")).value == DOCUMENT_SENTENCE


def test_revert_a_system_correction_from_the_history(api) -> None:
    """Is the correction the system made from the documents marked as the system's in the segment's history, and
    does its revert button bring Whisper's words back, recorded as the trainer's edit?"""
    client, settings, factory = api
    seed_quoting_lecture(settings, factory)
    seed_system_correction(settings, factory)
    at = studio(studio_client(client), "correct")
    at.number_input(key="correct_number").set_value(QUOTING_SEGMENT + 1).run()
    assert escape_markdown(t("studio.editor_system")) in texts(at), texts(at)
    button(at, "studio.revert_button", version=1).click().run()
    assert not at.error and not at.exception, texts(at)
    assert t("studio.reverted") in texts(at)
    segments = client.get(f"{PREFIX}/api/lectures/{LECTURE_ID}/transcript", headers=auth("member")).json()["segments"]
    assert segments[QUOTING_SEGMENT]["text"] == HEARD_SENTENCE
    history = client.get(f"{PREFIX}/api/lectures/{LECTURE_ID}/transcript/history", headers=auth("trainer")).json()
    assert [(e["editor"], e["system"]) for e in history] == [(SYSTEM_EDITOR, True), ("b1002", False)]
    assert not any(b.label == t("studio.revert_button", version=1) for b in at.button)  # the trainer's edit: no button
    assert next(a for a in at.text_area if a.label == t("studio.field_text")).value == HEARD_SENTENCE


def test_transcribe_again_once_a_material_changed(api) -> None:
    """Is nothing offered while the transcript is newer than the materials; once a material is attached after
    it, does the materials page offer to transcribe again, ask to confirm over a trainer's correction (the API's
    reason shown), and queue it, confirmed, when the trainer confirms?"""
    client, settings, factory = api
    seed_quoting_lecture(settings, factory)
    finished_transcription(factory)
    at = studio(studio_client(client), "materials")
    assert not any(b.label == t("studio.transcribe_again") for b in at.button)
    seed_lecture_material(settings, factory, LECTURE_ID, name="Phụ lục.pdf")
    client.patch(
        f"{PREFIX}/api/lectures/{LECTURE_ID}/transcript/segments/0", json={"text": "Thưa"}, headers=auth("trainer")
    )
    at.run()
    assert t("studio.materials_changed") in texts(at)
    button(at, "studio.transcribe_again").click().run()
    assert not at.error and "áp dụng lại" in texts(at), texts(at)  # the API's reason, before confirming
    assert jobs.load_job(factory, LECTURE_ID).status == "done"
    button(at, "studio.transcribe_again_confirm").click().run()
    assert not at.error and not at.exception, texts(at)
    assert t("studio.transcribing_again") in texts(at)
    assert jobs.load_job(factory, LECTURE_ID).status == "queued"
    assert json.loads((work_dir(settings, LECTURE_ID) / REQUEST_FILE).read_text("utf-8"))["force"] is True

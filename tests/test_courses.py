"""Courses as files (validated, written atomically) and in the database (upsert, derived enrollments)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.course_files import (
    COURSE_FILE,
    CourseFileError,
    load_course_file,
    load_courses,
    write_course_file,
)
from diemcau.adapters.db.courses import (
    UnknownAudienceError,
    course_of,
    enrolled_members,
    list_courses,
    upsert_course,
)
from diemcau.adapters.db.engine import transaction
from diemcau.adapters.db.models import CourseAudienceRow, CourseRow, MemberRow
from diemcau.adapters.db.orgs import load_org_tree
from diemcau.adapters.db.roster_store import import_roster
from diemcau.core.course import CompletionRule, Course

COURSE = Course(
    id="nq-57",
    title="Học tập Nghị quyết 57-NQ/TW về đột phá phát triển khoa học, công nghệ",
    resolutions=("57-NQ/TW",),
    audience=("xa-a",),
    deadline=dt.date(2026, 6, 30),
    completion_rule=CompletionRule(min_watched_percent=80.0, essay_required=False),
)

# --- course files ------------------------------------------------------------------------------------------


def course_yaml(courses_dir: Path, folder: str, text: str) -> Path:
    path = courses_dir / folder / COURSE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_round_trip_keeps_vietnamese(tmp_path: Path) -> None:
    """Does a course written and read back come out equal, with its Vietnamese title stored readably?"""
    path = write_course_file(tmp_path, COURSE)
    assert path == tmp_path / "nq-57" / COURSE_FILE
    assert "Nghị quyết 57-NQ/TW về đột phá" in path.read_text(encoding="utf-8")
    assert load_course_file(path) == COURSE
    assert load_courses(tmp_path) == [COURSE]


def test_rewrite_replaces_and_leaves_no_temp_files(tmp_path: Path) -> None:
    """Does writing twice replace the file atomically, leaving no .tmp files behind?"""
    write_course_file(tmp_path, COURSE)
    changed = Course(COURSE.id, "Tiêu đề mới", audience=("xa-b",))
    write_course_file(tmp_path, changed)
    assert load_course_file(tmp_path / "nq-57" / COURSE_FILE) == changed
    assert [p.name for p in (tmp_path / "nq-57").iterdir()] == [COURSE_FILE]
    assert not list(tmp_path.rglob("*.tmp"))


def test_minimal_file_gets_defaults(tmp_path: Path) -> None:
    """Does a file with only id and title load with no audience, no deadline and the default rule?"""
    path = course_yaml(tmp_path, "toi-thieu", "id: toi-thieu\ntitle: Khóa tối thiểu\n")
    assert load_course_file(path) == Course("toi-thieu", "Khóa tối thiểu")


def test_malformed_yaml_names_the_file(tmp_path: Path) -> None:
    """Is broken YAML reported as such, naming the file?"""
    path = course_yaml(tmp_path, "hong", "id: hong\ntitle: [không đóng\n")
    with pytest.raises(CourseFileError) as caught:
        load_course_file(path)
    assert str(path) in str(caught.value)
    assert "not valid YAML" in str(caught.value)


def test_unknown_key_names_the_file_and_key(tmp_path: Path) -> None:
    """Is a misspelt key refused, naming the file and the key?"""
    path = course_yaml(tmp_path, "nq-57", "id: nq-57\ntitle: Khóa học\ndeadlin: 2026-06-30\n")
    with pytest.raises(CourseFileError) as caught:
        load_course_file(path)
    assert str(path) in str(caught.value)
    assert "'deadlin'" in str(caught.value)


def test_unknown_nested_key_names_the_dotted_field(tmp_path: Path) -> None:
    """Is a wrong key inside the completion rule named with its dotted path?"""
    path = course_yaml(tmp_path, "nq-57", "id: nq-57\ntitle: Khóa học\ncompletion:\n  min_watched: 90\n")
    with pytest.raises(CourseFileError, match=r"'completion\.min_watched'"):
        load_course_file(path)


def test_bad_id_names_the_field(tmp_path: Path) -> None:
    """Is an id with uppercase or accents refused, naming the file and 'id'?"""
    path = course_yaml(tmp_path, "NQ-57", "id: NQ-57\ntitle: Khóa học\n")
    with pytest.raises(CourseFileError) as caught:
        load_course_file(path)
    assert str(path) in str(caught.value)
    assert "'id'" in str(caught.value)


def test_bad_deadline_and_missing_title_are_both_named(tmp_path: Path) -> None:
    """Are all faults of a file reported at once, each naming its field?"""
    path = course_yaml(tmp_path, "nq-57", "id: nq-57\ndeadline: 30/06/2026\n")
    with pytest.raises(CourseFileError) as caught:
        load_course_file(path)
    assert "'title'" in str(caught.value) and "'deadline'" in str(caught.value)


def test_id_must_match_its_folder(tmp_path: Path) -> None:
    """Is a file whose id differs from its folder name refused, naming both?"""
    path = course_yaml(tmp_path, "nq-57", "id: nq-58\ntitle: Khóa học\n")
    with pytest.raises(CourseFileError) as caught:
        load_course_file(path)
    message = str(caught.value)
    assert str(path) in message and "'id'" in message and "'nq-58'" in message and "'nq-57'" in message


def test_file_that_is_not_a_mapping(tmp_path: Path) -> None:
    """Is a YAML file holding a list instead of a mapping refused with a CourseFileError?"""
    path = course_yaml(tmp_path, "nq-57", "- id: nq-57\n")
    with pytest.raises(CourseFileError, match=str(path)):
        load_course_file(path)


# --- courses in the database -------------------------------------------------------------------------------

ORG_TREE = """\
units:
  - code: ht
    name: Đảng bộ tỉnh
    kind: province
    children:
      - code: xa-a
        name: Đảng bộ xã A
        kind: commune
        children:
          - {code: cb-1, name: Chi bộ 1, kind: cell}
          - {code: cb-10, name: Chi bộ 10, kind: cell}
      - code: xa-b
        name: Đảng bộ xã B
        kind: commune
        children:
          - {code: cb_b, name: Chi bộ B, kind: cell}
"""

ROSTER = """\
Số thẻ đảng viên,Họ và tên,Chi bộ
1001,Nguyễn Văn An,cb-1
1002,Trần Thị Bình,cb-1
1010,Lê Văn Cường,cb-10
1100,Đỗ Văn Xã,xa-a
2001,Phạm Thị Dung,cb_b
"""


@pytest.fixture
def factory(session_factory: sessionmaker[Session], tmp_path: Path) -> sessionmaker[Session]:
    """The small tree with members in cb-1, cb-10, the commune xa-a itself and cb_b; 1002 is inactive."""
    (tmp_path / "orgs.yaml").write_text(ORG_TREE, encoding="utf-8")
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    load_org_tree(session_factory, tmp_path / "orgs.yaml")
    import_roster(session_factory, tmp_path / "roster.csv")
    with session_factory.begin() as session:
        session.execute(update(MemberRow).where(MemberRow.card_number == "1002").values(active=False))
    return session_factory


def counts(factory: sessionmaker[Session]) -> tuple[int, int]:
    with factory() as session:
        courses = session.scalar(select(func.count()).select_from(CourseRow))
        audience = session.scalar(select(func.count()).select_from(CourseAudienceRow))
        return courses or 0, audience or 0


def enrolled(factory: sessionmaker[Session], course: Course) -> list[str]:
    with transaction(factory) as session:
        row = upsert_course(session, course)
        session.flush()
        return [m.card_number for m in enrolled_members(session, row)]


def test_upsert_is_idempotent(factory: sessionmaker[Session]) -> None:
    """Does upserting the same course twice leave one row equal to the course, and a change update it?"""
    for _ in range(2):
        with transaction(factory) as session:
            upsert_course(session, COURSE)
    assert counts(factory) == (1, 1)
    with factory() as session:
        assert [course_of(r) for r in list_courses(session)] == [COURSE]

    changed = Course(COURSE.id, "Tiêu đề mới", audience=("cb-1", "xa-b"), deadline=None)
    with transaction(factory) as session:
        upsert_course(session, changed)
    assert counts(factory) == (1, 2)
    with factory() as session:
        assert [course_of(r) for r in list_courses(session)] == [changed]


def test_unknown_audience_writes_nothing(factory: sessionmaker[Session]) -> None:
    """Is a course naming an org unit that does not exist refused, naming the unit, with nothing written?"""
    bad = Course("nq-99", "Khóa lỗi", audience=("xa-a", "khong-co", "cung-khong-co"))
    with pytest.raises(UnknownAudienceError) as caught:
        with transaction(factory) as session:
            upsert_course(session, COURSE)  # a good course in the same transaction is rolled back too
            upsert_course(session, bad)
    assert caught.value.codes == ["cung-khong-co", "khong-co"]
    assert "khong-co" in str(caught.value) and "nq-99" in str(caught.value)
    assert counts(factory) == (0, 0)


def test_enrollment_follows_the_audience_subtree(factory: sessionmaker[Session]) -> None:
    """Are active members anywhere under the audience enrolled, and inactive members and other communes not?"""
    assert enrolled(factory, COURSE) == ["1001", "1010", "1100"]


def test_enrollment_of_one_cell_excludes_a_sibling_sharing_its_prefix(factory: sessionmaker[Session]) -> None:
    """Does a course for cb-1 leave out cb-10, whose code starts with the same characters?"""
    assert enrolled(factory, Course("cb1-only", "Riêng chi bộ 1", audience=("cb-1",))) == ["1001"]


def test_enrollment_with_underscore_codes_and_several_units(factory: sessionmaker[Session]) -> None:
    """Does an audience of several units (one with '_' in its code) enroll exactly their members?"""
    course = Course("hai-noi", "Hai nơi", audience=("cb-10", "cb_b"))
    assert enrolled(factory, course) == ["1010", "2001"]


def test_course_without_audience_enrolls_nobody(factory: sessionmaker[Session]) -> None:
    """Does a course with no audience enroll no one?"""
    assert enrolled(factory, Course("trong", "Chưa có đối tượng")) == []

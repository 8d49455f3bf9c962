"""The proposed CLL course is content (content/cll/protocol.toml [proposal], CLINICAL.md 7.1).

Its numbers load with their sources, a defect fails loading with a message that
names the file and place, and a site's edited copy changes what is proposed.
"""

from __future__ import annotations

import shutil
from datetime import date

import pytest

from server.engine.content.loading import DEFAULT_CONTENT_DIR, default_content, load_content
from server.engine.errors import ContentError, InputError
from server.engine.schedule import propose_course

CLL = default_content().of("cll")
F = date(2026, 9, 7)  # a Monday
FILE = "cll/protocol.toml"


def test_the_proposal_holds_the_numbers_of_clinical_md_7_1_with_sources():
    """7.1 row 1 (000 Dosing and administration, Table 2; 001; the label's 90 mg a week)."""
    proposal = CLL.proposal
    assert (proposal.dose_mg, proposal.doses, proposal.weekdays, proposal.min_gap_days) == (30, 36, (0, 2, 4), 2)
    assert (proposal.window_mg, proposal.window_days) == (90, 7)  # from course.dose_limit
    assert proposal.routes["iv"].escalation_mg == (3, 10) and proposal.routes["iv"].escalation_every_days == 1
    assert proposal.routes["sc"].escalation_mg == ()
    assert proposal.source and all(route.source for route in proposal.routes.values())


def test_ms_has_no_proposal():
    assert default_content().of("ms").proposal is None
    with pytest.raises(InputError) as caught:
        propose_course(F, "iv", default_content().of("ms"))
    assert caught.value.field == "protocol"


@pytest.fixture
def copy(tmp_path):
    root = tmp_path / "content"
    shutil.copytree(DEFAULT_CONTENT_DIR, root)

    def edit(old: str, new: str):
        path = root / FILE
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {FILE}: the test edits nothing"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        return root

    return edit


def test_a_site_copy_with_other_numbers_proposes_them(copy):
    """The engine reads the numbers: a copy with 30 doses on Tuesdays and Thursdays proposes that."""
    root = copy('doses = 36\nweekdays = ["mon", "wed", "fri"]', 'doses = 30\nweekdays = ["tue", "thu"]')
    root = copy("escalation_mg = [3, 10]", "escalation_mg = [3, 10, 20]")
    own = load_content(root).of("cll")
    course = propose_course(F, "iv", own)
    assert [mg for _, mg in [(d, dose.mg) for d, dose in course[:4]]] == [3, 10, 20, 30]
    full = [day for day, dose in course if dose.mg == 30]
    assert len(full) == 30 and all(day.weekday() in (1, 3) for day in full[1:])
    # the repository's content is untouched
    assert len(propose_course(F, "iv")) == 38


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        pytest.param("dose_mg = 30\n", "dose_mg = 40\n", "proposal: 'dose_mg' must be above 0 and within "
                     "course.dose_limit (30 mg a dose", id="dose-above-the-warning"),
        pytest.param('weekdays = ["mon", "wed", "fri"]', 'weekdays = ["mon", "wed", "fry"]',
                     "proposal: 'weekdays' must be distinct days", id="unknown-weekday"),
        pytest.param('keep_within = "course.dose_limit"', 'keep_within = "course.reescalate"',
                     "must name this protocol's course.dose_limit warning", id="keep-within-other-warning"),
        pytest.param("[proposal.routes.sc]", "[proposal.routes.oral]", "routes.oral: unknown route",
                     id="unknown-route"),
        pytest.param("escalation_mg = [3, 10]", "escalation_mg = [3, 45]", "an escalation dose above 'dose_mg'",
                     id="escalation-above-the-dose"),
        pytest.param("doses = 36\n", "doses = 70\n", "more doses than 'max_course_dates'", id="too-many-doses"),
        pytest.param("min_gap_days = 2\n", "min_gap_days = 2\nevery = 3\n", "unknown key(s) every",
                     id="unknown-key"),
        pytest.param('source = ["000 Table 2 (IV escalation', 'source = ["Wikipedia (IV escalation',
                     "does not start with a known source", id="unknown-source"),
    ],
)
def test_a_defect_in_the_proposal_fails_loading(copy, old, new, message):
    with pytest.raises(ContentError) as caught:
        load_content(copy(old, new))
    assert message in str(caught.value) and "content/cll/protocol.toml: proposal" in str(caught.value)

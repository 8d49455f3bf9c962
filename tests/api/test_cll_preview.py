"""The warnings of a CLL course before it is saved (POST courses/preview), on both databases.

The record screen's schedule editor refreshes them after each edit (cll2): a
dose above the protocol's limit warns course.dose_limit in her protocol's words.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from server.engine.content.loading import default_content

from .conftest import today_madrid
from .test_cll_journey import enrol

P = "/api/v1/patients/{}"
CLL = default_content().of("cll")


@pytest.mark.parametrize("language", ["en", "es", "de", "it"])
def test_a_dose_over_the_limit_warns_before_saving_in_her_protocols_words(client_for, language):
    nurse = client_for("nurse")
    pid = enrol(nurse, language=language)["id"]
    start = today_madrid() + timedelta(days=3)
    doses = nurse.post(P.format(pid) + "/course-proposal", json={"start": start.isoformat(), "route": "iv"}).json
    doses = doses["infusions"]
    clean = nurse.post(P.format(pid) + "/courses/preview", json={"infusions": doses, "status": "planned"})
    assert clean.status_code == 200, clean.json
    assert clean.json["warnings"] == [] and clean.json["course"] == 1

    doses[6] = {**doses[6], "mg": 40}
    preview = nurse.post(P.format(pid) + "/courses/preview", json={"infusions": doses, "status": "planned"})
    assert preview.status_code == 200, preview.json
    assert [(w["code"], w["course"]) for w in preview.json["warnings"]] == [("course.dose_limit", 1)]
    assert preview.json["warnings"][0]["text"] == CLL.text(language, "warnings", "course.dose_limit", "text")
    assert nurse.get(P.format(pid)).json["courses"] == []  # nothing saved

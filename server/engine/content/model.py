"""The frozen values content/ is loaded into, and the words content/ may use."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

from ..units import Unit

DEFAULT_LANGUAGE = "en"
#: Languages every text must exist in. A language file not listed here is refused
#: so that a half-translated file cannot ship by accident.
LANGUAGES = ("en", "es", "de", "it")

ANCHORS = ("first", "last")
#: "dose": one item on each administration date of a course; "series": dates
#: repeating within a course (SeriesPart), CLINICAL.md 7.2
SCOPES = ("course", "block", "monitoring", "season", "end", "dose", "series")
#: patient attributes an item can depend on (engine.inputs.Patient): childbearing
#: potential is its own attribute whatever the sex field says (CLINICAL.md v2)
APPLIES_TO = ("all", "cervical_screening", "childbearing", "breastfeeding")
#: patient attributes (dates) that can give a course window a later end
PATIENT_END_DATES = ("listeria_until",)
#: the planned-course warnings the engine knows how to test (timeline.course_warnings)
WARNING_CODES = ("course.too_soon", "course.during_pregnancy", "course.during_breastfeeding",
                 "course.cd4_not_recovered", "course.dose_limit", "course.reescalate")
#: which courses a warning looks at: the planned ones (CLINICAL.md 2.3) or all (7.1 doses)
WARNING_COURSES = ("planned", "all")
#: who a question is asked of (engine/triage.py is_asked): everyone; sex female or
#: childbearing potential (menstrual bleeding); childbearing potential only.
ASKED_OF = ("all", "female_or_childbearing", "childbearing")
SETTING_TYPES = ("bool", "int", "number", "choice", "date", "time", "time_range")
LAB_TESTS = (
    "below",
    "above",
    "below_low",
    "outside_range",
    "above_high_times",
    "baseline_at_most",
    "baseline_at_least",
    "equals",
    "at_most",
    "at_least",
    "rising",
    "hold",
)
QUALITATIVE_VALUES = ("positive", "negative")
REMINDER_REPEATS = ("daily", "weekly", "monthly")
REMINDER_AUDIENCES = ("patient", "care_team")


@dataclass(frozen=True, slots=True)
class ClosedBy:
    """An end that waits for a lab result (CD4 recovery).

    Either ``rule`` (the first result that fires that lab rule) or ``analyte``
    with ``at_least`` (the first result of that analyte at or above the value)
    or ``above`` (strictly above it).
    ``combine``: ``"result"`` - the end is the result's date; ``"later"`` - the
    later of the offset date and the result's date. No such result: open end.
    ``counted_from``: ``"anchor"`` - results taken on or after F_k or L_k count
    (after it, with ``strictly_after``); ``"offset"`` - only results taken on or
    after the offset's own date count (the live-vaccine window: a CD4 taken at
    least 6 months after the course).
    """

    rule: str | None
    analyte: str | None
    at_least: float | None
    combine: str
    strictly_after: bool
    counted_from: str = "anchor"
    #: with ``analyte``: a value strictly above this counts (instead of ``at_least``)
    above: float | None = None


@dataclass(frozen=True, slots=True)
class Offset:
    """``anchor`` (F_k or L_k) plus ``months`` (clamped) and then ``days``."""

    anchor: str
    days: int = 0
    months: int = 0
    closed_by: ClosedBy | None = None
    #: an int site setting whose value is added as months (cll_prophylaxis_months)
    months_by: str | None = None
    #: an int site setting whose value is added as weeks (cmv_after_course_weeks)
    weeks_by: str | None = None


@dataclass(frozen=True, slots=True)
class SeriesPart:
    """One run of dates of a series item (scope "series"), within each course k.

    Weekly (``every_days``): ``anchor`` + ``first`` x every_days, then every
    ``every_days``, while on or before ``until``. Monthly (``every_months``):
    ``anchor`` + n months for n = ``first`` .. ``last``.
    """

    anchor: str
    first: int
    every_days: int = 0
    every_months: int = 0
    last: int = 0
    until: Offset | None = None


@dataclass(frozen=True, slots=True)
class ItemRule:
    code: str
    kind: str
    scope: str
    applies_to: str
    source: tuple[str, ...]
    enabled_by: str | None = None
    # scope "course"
    start: Offset | None = None
    end: Offset | None = None
    due: Offset | None = None
    end_by_setting: str | None = None
    end_options: Mapping[str, Offset] = field(default_factory=lambda: MappingProxyType({}))
    #: a patient attribute (PATIENT_END_DATES) that gives the window of her
    #: latest course a later end
    end_extended_by: str | None = None
    #: a choice setting whose value picks the item's words (Item.variant)
    words_by: str | None = None
    # scope "monitoring"
    every_months: int = 0
    analytes: tuple[str, ...] = ()
    weekly_series: bool = False
    monthly_when_pregnant: bool = False
    #: checklist: it can be answered from this many days before due, and is
    #: missed this many days after (CLINICAL.md section 5)
    window_before_days: int = 0
    missed_after_days: int = 0
    # scope "season": (month, day) pairs
    season_start: tuple[int, int] | None = None
    season_end: tuple[int, int] | None = None
    after_last_infusion_months: int = 0
    #: only for the patient's first course (appt.hbv_screen: before course 1)
    first_course_only: bool = False
    # scope "series": its runs of dates, and the result that ends it (a date after
    # the first result of ``stops_at`` taken after L_k is dropped: lab.cd4)
    series: tuple[SeriesPart, ...] = ()
    stops_at: ClosedBy | None = None


@dataclass(frozen=True, slots=True)
class WarningRule:
    """A warning on planned courses (CLINICAL.md 2.3): ``code`` is one of WARNING_CODES."""

    code: str
    #: the first course number it applies to
    from_course: int
    source: tuple[str, ...]
    #: a bool site setting that switches it off when false
    enabled_by: str | None = None
    #: course.too_soon: F_k earlier than L_{k-1} + this many months
    min_months_after_previous: int = 0
    #: course.cd4_not_recovered: the lab rule a CD4 result must fire to count as recovered
    recovered_rule: str | None = None
    #: "planned" (CLINICAL.md 2.3) or "all" courses (the dose checks of 7.1)
    courses: str = "planned"
    #: course.dose_limit: no dose above ``max_dose_mg``, at most ``max_window_mg`` in any ``window_days``
    max_dose_mg: float = 0
    max_window_mg: float = 0
    window_days: int = 0
    #: course.reescalate: an IV dose above ``restart_mg`` after ``gap_days`` or more without doses
    gap_days: int = 0
    restart_mg: float = 0


#: how a dose is given (protocol cll, CLINICAL.md 7.1): into a vein or under the skin
ROUTES = ("iv", "sc")
#: weekday words of content/ ([proposal] weekdays), Monday = 0 as date.weekday()
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class ProposalRoute:
    """How a proposed course starts by one route (content [proposal.routes.<route>])."""

    route: str
    #: doses (mg) before the first full dose, ``escalation_every_days`` apart; () for none
    escalation_mg: tuple[float, ...]
    escalation_every_days: int
    source: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CourseProposal:
    """The proposed course of CLINICAL.md 7.1 (content [proposal]), engine/schedule.py.

    ``doses`` doses of ``dose_mg`` on ``weekdays`` (0 = Monday), at least
    ``min_gap_days`` apart and at most ``window_mg`` in any ``window_days`` (the
    numbers of the warning ``keep_within`` names: a proposal never warns)."""

    dose_mg: float
    doses: int
    weekdays: tuple[int, ...]
    min_gap_days: int
    keep_within: str
    window_mg: float
    window_days: int
    #: route -> how the course starts by it; a route not here cannot be proposed
    routes: Mapping[str, ProposalRoute]
    source: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NearInfusion:
    level: str
    within_months: int
    source: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Question:
    code: str
    level: str
    group: str
    asked_of: str
    source: tuple[str, ...]
    near_infusion: NearInfusion | None = None


@dataclass(frozen=True, slots=True)
class GroupRule:
    group: str
    min_yes: int
    level: str
    source: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CareTeam:
    """What the care team gets per level (CLINICAL.md section 3)."""

    flag_from: str
    push_levels: tuple[str, ...]
    snooze_max_months: int
    source: tuple[str, ...]
    #: the level a non-blank free-text note gives a checklist that would be "none"
    #: (reason "note"): on the care team's list to read, never pushed
    note_level: str | None = None


@dataclass(frozen=True, slots=True)
class Analyte:
    code: str
    kind: str  # "number" | "qualitative"
    source: tuple[str, ...]
    #: the canonical unit: rules compare values in it (CLINICAL.md 4.1)
    unit: str | None = None
    low: float | None = None
    high: float | None = None
    normal: str | None = None
    #: every accepted unit as (spelling, factor to canonical), canonical first with factor 1
    units: tuple[tuple[str, float], ...] = ()
    #: normalised spelling (units.normalise) -> the accepted unit
    unit_index: Mapping[str, Unit] = field(default_factory=lambda: MappingProxyType({}))
    #: (least, most) canonical values a result can have; beyond them it is a typo or a unit mix-up
    plausible: tuple[float, float] | None = None
    #: where the conversion factors come from
    units_source: tuple[str, ...] = ()
    #: the LOINC code and its display name, for records that leave or enter the system
    loinc: str | None = None
    loinc_display: str | None = None
    #: the UCUM spelling of the canonical unit (number analytes)
    ucum: str | None = None
    #: where the codes come from
    codes_source: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LabTest:
    """One condition of a lab rule; ``param`` is a number, ``True``, a value or a setting name."""

    level: str
    test: str
    param: Any
    analytes: tuple[str, ...]
    #: the level's rank in the checklist levels (none < routine < soon ...)
    rank: int = 0


@dataclass(frozen=True, slots=True)
class LabRule:
    code: str
    analytes: tuple[str, ...]
    tests: tuple[LabTest, ...]
    source: tuple[str, ...]
    follow_up: str
    supersedes: tuple[str, ...] = ()
    weekly_cbc: bool = False


@dataclass(frozen=True, slots=True)
class WeeklyCbc:
    """The weekly blood-count series of CLINICAL.md section 4.2 (content/labs.toml [weekly_cbc])."""

    analyte: str
    interval_days: int
    #: the series stops at the last of this many consecutive results at or above the lower limit
    normal_results_to_stop: int
    source: tuple[str, ...]
    #: after a series stopped, a new one starts only on a result that fires one of these
    #: rules, is below the lower limit, or is at or below ``restart_fall`` x the value
    #: that stopped the last series
    restart_rules: tuple[str, ...] = ()
    restart_fall: float = 0.7


@dataclass(frozen=True, slots=True)
class ReminderStep:
    """One reminder step of CLINICAL.md section 5 (content/reminders.toml)."""

    step: str
    #: items of one group due the same day share one reminder (the monthly labs)
    group: str | None
    anchor: str  # "due" | "start" | "end"
    days: int
    months: int
    #: local times: "reminder_time" (the site setting) or fixed "HH:MM" values
    #: (with ``at_by``: the times of the setting's default choice)
    at: tuple[str, ...]
    repeat: str | None  # None | "daily" | "weekly" | "monthly"
    audience: str  # "patient" | "care_team"
    useful_hours: int
    source: tuple[str, ...]
    unless: str | None = None  # "done"
    flag: str | None = None
    text: str | None = None
    #: a choice setting whose value picks the times from ``at_choices``
    at_by: str | None = None
    at_choices: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    type: str
    default: Any
    source: tuple[str, ...]
    choices: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True, slots=True)
class Content:
    """The whole of content/, validated. Shared read-only by every caller."""

    protocol: str
    #: 0 when monitoring ends with the protocol's last item (CLINICAL.md 7.2)
    monitoring_months: int
    pregnancy_months: int
    items: tuple[ItemRule, ...]
    questions: tuple[Question, ...]
    group_rules: tuple[GroupRule, ...]
    levels: tuple[str, ...]
    analytes: Mapping[str, Analyte]
    rules: tuple[LabRule, ...]
    #: None for a protocol without the weekly series of CLINICAL.md 4.2
    weekly_cbc: WeeklyCbc | None
    settings: Mapping[str, Setting]
    sources: Mapping[str, str]
    texts: Mapping[str, Mapping[str, Any]]
    #: flag, push and snooze rules for the care team (content/checklist.toml [care_team])
    care_team: CareTeam | None = None
    #: item code -> its reminder steps (content/reminders.toml)
    reminders: Mapping[str, tuple[ReminderStep, ...]] = field(default_factory=lambda: MappingProxyType({}))
    #: analyte code -> the rules that read it (an index over ``rules``)
    rules_by_analyte: Mapping[str, tuple[LabRule, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    #: infusion dates at most this many days apart are one block (scope "block")
    block_max_gap_days: int = 3
    #: the warnings on planned courses (CLINICAL.md 2.3)
    warnings: tuple[WarningRule, ...] = ()
    #: the most administration dates one course may hold (a longer list is a typo)
    max_course_dates: int = 30
    #: the course the care team can ask for (CLINICAL.md 7.1); None: the protocol has none
    proposal: CourseProposal | None = None
    #: every protocol of content/ by code (this one included), loaded together
    protocols: Mapping[str, "Content"] = field(default_factory=lambda: MappingProxyType({}),
                                               compare=False, repr=False)

    def of(self, protocol: str) -> "Content":
        """The content of ``protocol`` (a code of ``protocols``); KeyError for an unknown one."""
        if protocol == self.protocol:
            return self
        return self.protocols[protocol]

    @property
    def rules_read_history(self) -> bool:
        """Whether a lab rule reads the patient's other results (labs.LabContext)."""
        return any(test.test in ("rising", "hold") for rule in self.rules for test in rule.tests)

    def level_rank(self, level: str) -> int:
        return self.levels.index(level)

    @property
    def item_codes(self) -> tuple[str, ...]:
        return tuple(item.code for item in self.items)

    @property
    def question_codes(self) -> tuple[str, ...]:
        return tuple(q.code for q in self.questions)

    def text(self, language: str, *path: str) -> str:
        """A text in ``language`` (falls back to English for an unknown language)."""
        node: Any = self.texts.get(language) or self.texts[DEFAULT_LANGUAGE]
        for key in path:
            node = node[key]
        return node

    def word_variant(self, code: str, settings: Mapping[str, Any]) -> str | None:
        """The variant of item ``code``'s words these resolved settings pick (None: its only words)."""
        rule = next((item for item in self.items if item.code == code), None)
        return settings[rule.words_by] if rule is not None and rule.words_by is not None else None

    def item_text(self, language: str, code: str, key: str, variant: str | None = None) -> str:
        """An item's ``key`` text (title, detail, why) in its words for ``variant``
        (Item.variant: a choice of its ``words_by`` setting); the plain item text
        for the setting's default or no variant."""
        node: Any = (self.texts.get(language) or self.texts[DEFAULT_LANGUAGE])["items"][code]
        if variant is not None and variant in node and not isinstance(node[variant], str):
            node = node[variant]
        return node[key]

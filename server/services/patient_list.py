"""The clinic's patient list: search, sort, filters and pages in SQL, over kept figures.

A patient's adherence figures (labs overdue, checklists missed) come from her
timeline, which the engine computes; a list of thousands cannot compute them
all at every request, so they are kept in ``patient_figures`` (a cache): a row
holds for a span of her local dates (the figures change only on the days an
item falls due or turns overdue or missed) and for one content version, and is
deleted by services.figures.forget_figures whenever her record changes. A listing first
computes some of the rows that are missing or no longer hold (PER_LISTING at most,
so that a request stays short), then asks one query; the command
``refresh-figures`` computes them all, e.g. each night and after a deploy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Iterable

from sqlalchemy import and_, case, func, literal, or_, select, union
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, selectinload

from ..engine.content.model import Content
from ..engine.sheet import content_version
from ..models import CalendarFeed, Checklist, Flag, LabResult, Patient, PatientFigures, PushSubscription, User
from ..timeutil import local_today
from .patients import History, UnusableRecord, _status_inputs, compute_timeline, item_status, stored_record

#: the orders a list may be asked in (the API's ``sort``)
SORTS = ("name", "hospital_number", "overdue_labs", "missed_checklists", "open_flags", "adherence")
#: the filters (the API's ``only``): patients with labs overdue, checklists missed,
#: flags not yet resolved, or no working reminder channel (no push device, no calendar feed)
FILTERS = ("overdue_labs", "missed_checklists", "open_flags", "unreachable")
#: patients whose figures one batch computes (a handful of queries each)
BATCH = 500
#: patients whose figures one listing computes at most: a request stays short
#: whatever the clinic's size; ``refresh-figures`` (or the clock) computes the rest
PER_LISTING = 200

_VERSIONS: dict[int, str] = {}


def _version(content: Content) -> str:
    # Hashing the whole content takes milliseconds: once per loaded content.
    key = id(content)
    if key not in _VERSIONS:
        _VERSIONS[key] = content_version(content)
    return _VERSIONS[key]


# --- the figures -----------------------------------------------------------------------


def figures_of(history: History, today: date, content: Content) -> tuple[dict[str, int], date | None]:
    """Her adherence figures on ``today`` (as services.patients.adherence counts
    them) and the last local date they still hold for (None: until her record
    changes). They change only when an item's due day comes (it is counted from
    then) or when a lab due and not done turns overdue, a checklist missed.
    UnusableRecord when the engine cannot use her stored record."""
    result = compute_timeline(history, content)
    rules, lab_days, periods = _status_inputs(history, content)
    counts = {"done_on_time": 0, "due_so_far": 0, "overdue_labs": 0, "missed_checklists": 0}
    changes: list[date] = []
    for item in result.items:
        if item.kind not in ("lab", "checklist") or item.due is None:
            continue
        if item.due > today:
            changes.append(item.due)
            continue
        status, tracked = item_status(item, today, rules, lab_days, periods)
        if not tracked:
            continue
        counts["due_so_far"] += 1
        if status == "done":
            counts["done_on_time"] += 1
        elif status == "overdue":
            counts["overdue_labs"] += 1
        elif status == "missed":
            counts["missed_checklists"] += 1
        elif status == "due":  # the day it turns overdue or missed
            window = rules.weekly_window if item.cadence == "weekly" else rules.lab_window
            changes.append(item.due + (window if item.kind == "lab" else rules.checklist_missed) + timedelta(days=1))
    return counts, (min(changes) - timedelta(days=1) if changes else None)


def local_today_of(session: Session, clinic_id: int, now: datetime):
    """A SQL expression: each patient's local date at ``now``, by her time zone
    (one branch per zone of the clinic; an unknown zone: the UTC date, and her
    figures then say why they cannot be computed)."""
    zones = session.scalars(select(Patient.timezone).where(Patient.clinic_id == clinic_id).distinct()).all()
    branches = {}
    for zone in zones:
        try:
            branches[zone] = local_today(zone, now)
        except (LookupError, ValueError):
            continue
    utc = now.date()
    if not branches:
        return literal(utc)
    return case(branches, value=Patient.timezone, else_=literal(utc))


def _stale(session: Session, clinic_id: int, now: datetime, content: Content) -> list[int]:
    """The clinic's patients whose figures are missing (first) or no longer hold."""
    today = local_today_of(session, clinic_id, now)
    missing = PatientFigures.patient_id.is_(None)
    query = (select(Patient.id).outerjoin(PatientFigures, PatientFigures.patient_id == Patient.id)
             .where(Patient.clinic_id == clinic_id,
                    or_(missing,
                        PatientFigures.content_version != _version(content),
                        PatientFigures.valid_from > today,
                        and_(PatientFigures.valid_until.is_not(None), PatientFigures.valid_until < today))))
    return list(session.scalars(query.order_by(case((missing, 0), else_=1), Patient.id)))


def refresh_figures(session: Session, clinic_id: int, now: datetime, content: Content,
                    limit: int | None = None) -> tuple[int, int]:
    """Compute the figures of the clinic's patients whose kept figures are missing
    or no longer hold, ``limit`` of them at most (the missing ones first); returns
    (computed, still to compute). One patient whose record the engine cannot use
    gets ``status_error`` and null figures; the others go on."""
    stale = _stale(session, clinic_id, now, content)
    chosen = stale if limit is None else stale[:limit]
    for start in range(0, len(chosen), BATCH):
        _compute(session, chosen[start:start + BATCH], now, content)
    return len(chosen), len(stale) - len(chosen)


def _compute(session: Session, ids: list[int], now: datetime, content: Content) -> None:
    patients = session.scalars(select(Patient).where(Patient.id.in_(ids))
                               .options(selectinload(Patient.courses), selectinload(Patient.pregnancies))).all()
    results: dict[int, list[LabResult]] = {pid: [] for pid in ids}
    for result in session.scalars(select(LabResult).where(LabResult.patient_id.in_(ids),
                                                          LabResult.withdrawn_at.is_(None))
                                  .order_by(LabResult.taken_on, LabResult.id)):
        results[result.patient_id].append(result)
    checklists: dict[int, list[Checklist]] = {pid: [] for pid in ids}
    for checklist in session.scalars(select(Checklist).where(Checklist.patient_id.in_(ids))):
        checklists[checklist.patient_id].append(checklist)
    # The name as the list compares it: lowered by the database, as its ORDER BY does (SQLite
    # lowers ASCII letters only, PostgreSQL by its locale); a rename forgets the figures.
    name_keys = dict(session.execute(select(Patient.id, func.lower(Patient.display_name))
                                     .where(Patient.id.in_(ids))).all())
    version = _version(content)
    rows = []
    for patient in patients:
        row: dict[str, Any] = {"patient_id": patient.id, "clinic_id": patient.clinic_id, "content_version": version,
                               "computed_at": now, "status_error": None, "name_key": name_keys[patient.id]}
        try:
            with stored_record(patient.id):
                today = local_today(patient.timezone, now)
            history = History(patient, list(patient.courses), results[patient.id], checklists[patient.id])
            counts, until = figures_of(history, today, content)
            due, done = counts["due_so_far"], counts["done_on_time"]
            row.update(counts, rate=done / due if due > 0 else None, valid_from=today, valid_until=until)
        except UnusableRecord as error:
            # Kept until her record changes (forget_figures) or the content does.
            row.update(done_on_time=None, due_so_far=None, overdue_labs=None, missed_checklists=None, rate=None,
                       status_error=error.code, valid_from=now.date() - timedelta(days=1), valid_until=None)
        rows.append(row)
    if not rows:
        return
    insert = (postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert)(PatientFigures)
    # Two listings at once may compute the same patient: the later one wins, with equal figures.
    columns = [name for name in rows[0] if name != "patient_id"]
    session.execute(insert.on_conflict_do_update(index_elements=["patient_id"],
                                                 set_={name: insert.excluded[name] for name in columns}), rows)


# --- the list ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """One page of the list: its rows (plain values), how many match, and how many
    of the clinic's patients each filter would keep (the filters' counts)."""

    items: list[dict[str, Any]]
    total: int
    counts: dict[str, int]


@dataclass(frozen=True)
class _Listing:
    """What the list asks of each patient beyond her row and her figures: her count
    of flags not resolved and whether a device or a calendar feed reaches her. The
    tests are ``IN`` over the clinic's few flagged and reachable patients (one hashed
    set per query, and a condition a walk along an index can check row by row); the
    count is asked only of the rows shown or of the flagged ones."""

    flagged: Any
    open_flags: Any
    reachable: Any


def _listing(clinic_id: int) -> _Listing:
    unresolved = and_(Flag.clinic_id == clinic_id, Flag.status != "resolved")
    devices = (select(User.patient_id).join(PushSubscription, PushSubscription.user_id == User.id)
               .where(User.clinic_id == clinic_id, User.active.is_(True), User.patient_id.is_not(None)))
    feeds = select(CalendarFeed.patient_id).where(CalendarFeed.revoked_at.is_(None))
    count = (select(func.count()).select_from(Flag).where(Flag.patient_id == Patient.id, unresolved)
             .correlate(Patient).scalar_subquery())
    return _Listing(Patient.id.in_(select(Flag.patient_id).where(unresolved)), count,
                    Patient.id.in_(union(devices, feeds)))


#: the patients and their figures (none yet: null figures, as a record to correct)
_SOURCE = Patient.__table__.outerjoin(PatientFigures, PatientFigures.patient_id == Patient.id)


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _conditions(name: str, listing: _Listing):
    return {
        "overdue_labs": PatientFigures.overdue_labs > 0,
        "missed_checklists": PatientFigures.missed_checklists > 0,
        "open_flags": listing.flagged,
        "unreachable": ~listing.reachable,
    }[name]


@dataclass(frozen=True)
class _Segment:
    """A part of the list in its order: the patients for whom ``where`` holds, in
    ``order``, each part one walk along an index that stops at the page."""

    where: Any
    order: list[Any]


def _segments(clinic_id: int, sort: str, descending: bool, listing: _Listing) -> list[_Segment]:
    """The list in the order ``sort`` as consecutive parts, together the order
    "``sort``'s value (missing ones last in either order), then the name compared
    case-insensitively, then id". One ORDER BY that puts missing values last sorts
    the whole clinic at every page: no index serves it in both orders on both
    backends, nor a figure (patient_figures) then a name (patients)."""
    name = func.lower(Patient.display_name)
    by_name = [name, Patient.id]  # ix_patients_clinic_name
    if sort == "name":  # never missing (display_name is NOT NULL)
        return [_Segment(None, [name.desc() if descending else name, Patient.id])]
    if sort == "hospital_number":
        number = Patient.hospital_number
        # Unique within the clinic (ix_patients_clinic_id_hospital_number, the index walked): no ties.
        return [_Segment(number.is_not(None), [number.desc() if descending else number]),
                _Segment(number.is_(None), by_name)]
    if sort == "open_flags":  # never missing: 0 for most patients, a handful flagged (sorted apart)
        flagged = _Segment(listing.flagged, [listing.open_flags.desc() if descending else listing.open_flags,
                                             *by_name])
        unflagged = _Segment(~listing.flagged, by_name)
        return [flagged, unflagged] if descending else [unflagged, flagged]
    # A figure: ix_patient_figures_<figure>[_desc], whose name_key is the patient's lower(display_name).
    # Missing: no figures yet, or a record the engine cannot use; both go by name.
    key = {"overdue_labs": PatientFigures.overdue_labs, "missed_checklists": PatientFigures.missed_checklists,
           "adherence": PatientFigures.rate}[sort]
    present = and_(PatientFigures.clinic_id == clinic_id, key.is_not(None))
    return [_Segment(present, [key.desc() if descending else key, PatientFigures.name_key,
                               PatientFigures.patient_id]),
            _Segment(key.is_(None), by_name)]


def page_of(session: Session, clinic_id: int, *, q: str | None = None, only: Iterable[str] = (),
            sort: str = "name", descending: bool = False, page: int = 1, per_page: int = 50) -> Page:
    """One page of the clinic's patients matching ``q`` (part of the name, or the
    start of the hospital number; case-insensitive) and every filter in ``only``,
    in the order ``sort`` (then by name, then id); a patient without figures (a
    record to correct) comes last in any order by figures, one without a hospital
    number last in that order. Call :func:`refresh_figures` first.

    The parts of the order (:func:`_segments`) are read one after the other,
    each from its offset and no further than the page; a part is counted only
    when the page starts past it."""
    listing = _listing(clinic_id)
    where = [Patient.clinic_id == clinic_id]
    if q:
        pattern = _like(q.lower())
        where.append(or_(func.lower(Patient.display_name).like(f"%{pattern}%", escape="\\"),
                         func.lower(Patient.hospital_number).like(f"{pattern}%", escape="\\")))
    where += [_conditions(name, listing) for name in only]
    total = session.scalar(select(func.count()).select_from(_SOURCE).where(*where))

    ids: list[int] = []
    skip, wanted = (page - 1) * per_page, per_page
    for segment in _segments(clinic_id, sort, descending, listing):
        if wanted == 0:
            break
        part = [*where, *([] if segment.where is None else [segment.where])]
        found = list(session.scalars(select(Patient.id).select_from(_SOURCE).where(*part)
                                     .order_by(*segment.order).offset(skip).limit(wanted)))
        if found:  # this part ends on the page, or fills it
            ids += found
            wanted -= len(found)
            skip = 0
        elif skip:  # the page starts past this part: skip what it holds
            skip = max(0, skip - session.scalar(select(func.count()).select_from(_SOURCE).where(*part)))
    return Page(_rows(session, listing, ids), total, filter_counts(session, clinic_id))


def _rows(session: Session, listing: _Listing, ids: list[int]) -> list[dict[str, Any]]:
    """The list's rows of these patients, in this order."""
    if not ids:
        return []
    query = (select(Patient.id, Patient.display_name, Patient.hospital_number, PatientFigures.done_on_time,
                    PatientFigures.due_so_far, PatientFigures.overdue_labs, PatientFigures.missed_checklists,
                    PatientFigures.status_error, listing.open_flags.label("open_flags"),
                    listing.reachable.label("reachable"))
             .select_from(_SOURCE).where(Patient.id.in_(ids)))
    rows = {row.id: row for row in session.execute(query)}
    items = []
    for row in (rows[pid] for pid in ids if pid in rows):  # one erased meanwhile: not shown
        adherence = {"done_on_time": row.done_on_time, "due_so_far": row.due_so_far,
                     "overdue_labs": row.overdue_labs, "missed_checklists": row.missed_checklists,
                     "rate": round(row.done_on_time / row.due_so_far, 3) if row.due_so_far else None}
        item = {"id": row.id, "display_name": row.display_name, "hospital_number": row.hospital_number,
                "open_flags": row.open_flags, "reachable": bool(row.reachable), "adherence": adherence}
        if row.status_error:
            item["status_error"] = row.status_error
        items.append(item)
    return items


def filter_counts(session: Session, clinic_id: int) -> dict[str, int]:
    """How many of the clinic's patients each filter keeps (whatever the search)."""
    listing = _listing(clinic_id)
    sums = [func.coalesce(func.sum(case((_conditions(name, listing), 1), else_=0)), 0).label(name)
            for name in FILTERS]
    row = session.execute(select(*sums).select_from(_SOURCE).where(Patient.clinic_id == clinic_id)).one()
    return {name: int(row._mapping[name]) for name in FILTERS}

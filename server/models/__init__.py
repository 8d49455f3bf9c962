"""Typed SQLAlchemy 2 models, one module per aggregate."""

from ..db import Base
from .audit import AuditEvent
from .checklists import Checklist, Snooze
from .figures import PatientFigures
from .flags import Flag
from .imports import ApiKey, LabImportKey
from .labs import LabResult, LabSubmission
from .notes import CourseChange, NurseNote
from .notifications import CalendarFeed, Delivery, PushSubscription, Reminder
from .people import Clinic, FamilyLink, InviteCode, LoginAttempt, PasswordResetCode, Patient, Pregnancy, User
from .treatment import Course

__all__ = [
    "ApiKey",
    "AuditEvent",
    "CalendarFeed",
    "Delivery",
    "PushSubscription",
    "Reminder",
    "Base",
    "Checklist",
    "Clinic",
    "Course",
    "CourseChange",
    "FamilyLink",
    "Flag",
    "InviteCode",
    "LabImportKey",
    "LabResult",
    "LabSubmission",
    "LoginAttempt",
    "NurseNote",
    "PasswordResetCode",
    "PatientFigures",
    "Patient",
    "Pregnancy",
    "Snooze",
    "User",
]

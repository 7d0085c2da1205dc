from .announcements import Announcement, AnnouncementRead
from .audit import AuditChainHead, AuditEntry
from .config import Delivery, DictionaryItem, DictionaryType, MessageTemplate, Notification, Parameter
from .exports import ExportRequest
from .jobs import Job, Schedule, WorkerProcess
from .preferences import ColumnChoice
from .regions import Organisation, Region
from .tokens import ApiToken
from .users import Role, User

__all__ = [
    "Announcement",
    "AnnouncementRead",
    "ApiToken",
    "AuditChainHead",
    "AuditEntry",
    "ColumnChoice",
    "Delivery",
    "DictionaryItem",
    "DictionaryType",
    "ExportRequest",
    "Job",
    "MessageTemplate",
    "Notification",
    "Organisation",
    "Parameter",
    "Region",
    "Role",
    "Schedule",
    "User",
    "WorkerProcess",
]

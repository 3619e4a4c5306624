"""SQLModel tables, one module per area. Importing this package registers every table."""

from .dwat import DwatDeployment, DwatMember, DwatRequest, DwatRequestStep, DwatTeam
from .dwat_field import DwatTriage
from .events import DwatActivityReport, SafetyCheck, ShelterReport
from .geo import District, Municipality
from .hazards import HazardArea
from .matching import DistrictIntensity, MatchProposal
from .people import Person
from .auth import AuditEntry, AuthToken, ModeSwitch, User
from .plans import EvacuationPlan, PlanVersion
from .review import PlanReviewReason
from .sharing import PersonConsent, ShareHandover
from .shelters import Shelter
from .supporters import SupporterCandidate, SupporterRecord
from .sync import ChangeLog, SyncConflict, SyncEpoch, SyncMutation

__all__ = [
    "AuditEntry", "AuthToken", "ChangeLog", "ModeSwitch", "SyncConflict", "SyncEpoch", "SyncMutation", "User",
    "District", "DwatActivityReport", "DwatDeployment", "DwatMember", "DwatRequest", "DwatRequestStep", "DwatTeam",
    "DwatTriage",
    "DistrictIntensity", "EvacuationPlan", "HazardArea", "MatchProposal", "Municipality", "Person", "PersonConsent", "ShareHandover", "PlanVersion", "PlanReviewReason", "SafetyCheck", "Shelter", "ShelterReport",
    "SupporterCandidate", "SupporterRecord",
]

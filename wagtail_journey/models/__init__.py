"""Models, one module per concept; import from here."""

from wagtail_journey.models.broadcasts import Broadcast, BroadcastVariant
from wagtail_journey.models.consent import ConsentPurpose, ConsentPurposeVersion, ConsentRecord
from wagtail_journey.models.contacts import Contact, JourneyStage, TaggedContact
from wagtail_journey.models.email_templates import EmailTemplate
from wagtail_journey.models.flows import Enrollment, Flow, StepRun
from wagtail_journey.models.outbound import OutboundEmail, Suppression
from wagtail_journey.models.privacy import DataExport, ErasureReceipt
from wagtail_journey.models.privacy_tokens import UsedPrivacyToken
from wagtail_journey.models.ratelimit import RateLimitCounter
from wagtail_journey.models.reports import (
    DailyMetric,
    ReportContactDay,
    ReportSession,
    StageEntry,
)
from wagtail_journey.models.scoring import (
    DecayRun,
    LifecycleTransition,
    ScoreChange,
    ScoringRule,
)
from wagtail_journey.models.segments import Segment, SegmentMembership
from wagtail_journey.models.submissions import FormSubmission
from wagtail_journey.models.touchpoints import DeviceClass, Touchpoint
from wagtail_journey.models.tracking import DailyPageStat, PageJourneyStage, TrackingBatch
from wagtail_journey.models.visitors import Visitor

__all__ = [
    "Broadcast",
    "BroadcastVariant",
    "ConsentPurpose",
    "ConsentPurposeVersion",
    "ConsentRecord",
    "Contact",
    "DailyMetric",
    "DailyPageStat",
    "DataExport",
    "DecayRun",
    "DeviceClass",
    "EmailTemplate",
    "ErasureReceipt",
    "Enrollment",
    "Flow",
    "FormSubmission",
    "JourneyStage",
    "LifecycleTransition",
    "OutboundEmail",
    "PageJourneyStage",
    "TrackingBatch",
    "RateLimitCounter",
    "ReportContactDay",
    "ReportSession",
    "ScoreChange",
    "ScoringRule",
    "Segment",
    "SegmentMembership",
    "StepRun",
    "Suppression",
    "StageEntry",
    "TaggedContact",
    "Touchpoint",
    "UsedPrivacyToken",
    "Visitor",
]

"""ctflow's CleverTap REST client: transport seam, error tree, limits, retries and typed results.

Knows HTTP and CleverTap's API; imports nothing of ctflow but ``ctflow.errors``.
"""

from __future__ import annotations

from ctflow.clevertap._http import ASGIApp, AsyncTransport, RawResponse, Transport, asgi_transport
from ctflow.clevertap.client import SEND_CHANNELS, Channel, CleverTap
from ctflow.clevertap.credentials import Credentials
from ctflow.clevertap.errors import (
    AmbiguousOutcomeError,
    AuthError,
    CampaignNotCompleted,
    CleverTapError,
    InvalidRequest,
    MethodNotAllowedError,
    NotFoundError,
    RateLimitedError,
    ResultNotReadyError,
    ServerError,
    TransportError,
    UnexpectedResponseError,
    UnknownRegionError,
    UploadRefusedError,
    ValidationError,
    error_from_response,
)
from ctflow.clevertap.limits import FAMILIES, Family, Limits
from ctflow.clevertap.models import (
    CampaignReport,
    CampaignSummary,
    CreatedCampaign,
    Estimates,
    MessageReport,
    MessageReportRow,
    Profile,
    RealtimeCounts,
    Schema,
    Segment,
    SegmentUpdate,
    SendAck,
    UnprocessedRecord,
    UploadResult,
)
from ctflow.clevertap.regions import REGIONS, base_url_for
from ctflow.clevertap.retry import RetryPolicy

__all__ = [
    "FAMILIES",
    "REGIONS",
    "SEND_CHANNELS",
    "ASGIApp",
    "AmbiguousOutcomeError",
    "AsyncTransport",
    "AuthError",
    "CampaignNotCompleted",
    "CampaignReport",
    "CampaignSummary",
    "Channel",
    "CleverTap",
    "CleverTapError",
    "CreatedCampaign",
    "Credentials",
    "Estimates",
    "Family",
    "InvalidRequest",
    "Limits",
    "MessageReport",
    "MessageReportRow",
    "MethodNotAllowedError",
    "NotFoundError",
    "Profile",
    "RateLimitedError",
    "RawResponse",
    "RealtimeCounts",
    "ResultNotReadyError",
    "RetryPolicy",
    "Schema",
    "Segment",
    "SegmentUpdate",
    "SendAck",
    "ServerError",
    "Transport",
    "TransportError",
    "UnexpectedResponseError",
    "UnknownRegionError",
    "UnprocessedRecord",
    "UploadRefusedError",
    "UploadResult",
    "ValidationError",
    "asgi_transport",
    "base_url_for",
    "error_from_response",
]

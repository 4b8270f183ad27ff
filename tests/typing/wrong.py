"""Mistakes ``mypy --strict`` must catch in user code (the typing test expects each error)."""

from aftership_async import (
    BulkResult,
    ShippingWeight,
    Tracking,
    TrackingInput,
    UpdateTrackingByIdRequest,
)


def no_narrowing(t: Tracking) -> bool:
    return t.tag.is_known  # E: Unset has no attribute is_known


def wrong_type() -> ShippingWeight:
    return ShippingWeight(unit=3, value=1.5)  # E: an int is not a unit


def from_dict_is_typed() -> str:
    return Tracking.from_dict({}).no_such_field  # E: no such attribute


def bulk_without_narrowing(result: BulkResult[TrackingInput, Tracking]) -> object:
    return result.value.tag  # E: a failed result has no value


def clearing_with_null() -> UpdateTrackingByIdRequest:
    return UpdateTrackingByIdRequest(note=None)  # E: null is documented for last_mile only


def clearing_as_documented() -> UpdateTrackingByIdRequest:
    return UpdateTrackingByIdRequest(note="", last_mile=None)

"""The Tracking API's models and enums (also exported flat from ``aftership_async``)."""

from aftership_async._generated import tracking as _generated
from aftership_async._generated.tracking import *  # noqa: F403

__all__: list[str] = []
__all__ += _generated.__all__

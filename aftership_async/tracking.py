"""The Tracking API's models and enums (also exported flat from ``aftership_async``)."""

from aftership_async_generated.tracking import *  # noqa: F403
from aftership_async_generated.tracking import __all__ as __all__

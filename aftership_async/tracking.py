"""The Tracking API's models and enums (also exported flat from ``aftership_async``)."""

from ._generated import tracking as _generated
from ._generated.tracking import *  # noqa: F403

__all__: list[str] = []
__all__ += _generated.__all__

"""The Returns API's models and enums (also exported flat from ``aftership_async``)."""

from ._generated import returns as _generated
from ._generated.returns import *  # noqa: F403

__all__: list[str] = []
__all__ += _generated.__all__

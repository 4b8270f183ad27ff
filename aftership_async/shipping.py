"""The Shipping API's models and enums (also exported flat from ``aftership_async``)."""

from aftership_async_generated.shipping import *  # noqa: F403
from aftership_async_generated.shipping import __all__ as __all__

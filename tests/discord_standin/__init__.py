"""A loopback Discord for end-to-end tests of the real discord.py client (see README.md)."""

from .client_api import InteractionHandle
from .faults import Fault
from .harness import running
from .invocations import InvalidOptions
from .models import Attachment, Channel, Message, User
from .pointing import point_discord_at, pointed_at
from .record import Delivery, Rejection
from .server import StandIn

__all__ = [
    'Attachment', 'Channel', 'Delivery', 'Fault', 'InteractionHandle', 'InvalidOptions', 'Message', 'Rejection',
    'StandIn', 'User', 'point_discord_at', 'pointed_at', 'running',
]

"""A loopback Discord for end-to-end tests of the real discord.py client (see README.md)."""

from .client_api import InteractionHandle
from .faults import Fault
from .harness import running
from .invocations import InvalidOptions
from .models import Attachment, Channel, Guild, Message, User
from .pointing import point_discord_at, pointed_at
from .record import Delivery, Dispatched, Rejection, SyncCall
from .server import StandIn
from .sessions import Session
from .snowflake import shard_of

__all__ = [
    'Attachment', 'Channel', 'Delivery', 'Dispatched', 'Fault', 'Guild', 'InteractionHandle', 'InvalidOptions',
    'Message', 'Rejection', 'Session', 'StandIn', 'SyncCall', 'User', 'point_discord_at', 'pointed_at', 'running',
    'shard_of',
]

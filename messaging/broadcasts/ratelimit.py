"""The sending rate limiter moved to the messaging core (``messaging.ratelimit``): every bulk sender of a
leader (broadcasts, surveys) takes its segments from the same limiter. Re-exported here for one release, for
code that imported it from the broadcasts."""

from messaging.ratelimit import HOLD, PRUNE_AFTER, WINDOW, Grant, acquire, cancel, estimated_seconds, release

__all__ = ["HOLD", "PRUNE_AFTER", "WINDOW", "Grant", "acquire", "cancel", "estimated_seconds", "release"]

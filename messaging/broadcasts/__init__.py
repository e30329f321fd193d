"""Broadcasts, a feature on top of messaging: compose (drafts, previews, sending, approval, cancelling),
queueing (deliveries written in one statement), dispatch (the sending workers), feedback (status callbacks,
replies, STOPs, completion), tasks (the broadcast lane's queue tasks) and selectors (reads). The leader's
shared rate limiter and quiet hours are the core's (messaging.ratelimit, messaging.quiet), since surveys pace
their texts with them too; ratelimit is re-exported here for one release. docs/broadcasts.md has the design."""

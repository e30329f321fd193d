"""Broadcasts, a feature on top of messaging: compose (drafts, previews, sending, approval, cancelling),
queueing (deliveries written in one statement), dispatch (the sending workers), feedback (status callbacks,
replies, STOPs, completion), ratelimit (the leader's shared limiter), tasks (the broadcast lane's queue
tasks) and selectors (reads). docs/broadcasts.md has the design."""

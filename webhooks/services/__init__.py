"""Webhook writes, one module per concern.

events: event_publish, the one door through which changes are reported (the outbox).
queue: handing deliveries to Celery after commit (tasks are named, never imported here).
delivery: one attempt of one delivery, its log, the retry backoff and failure counting.
sweep: re-queueing what the broker or a worker lost, pruning old rows, redelivery on request.
hooks: creating, changing, deleting and test-firing webhooks.
"""

"""Telling a job's owner about it while they are elsewhere: signed webhooks (Standard Webhooks),
delivered at least once from the `jobwebhooks` task queue. See contract/CONTRACT.md."""

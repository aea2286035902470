"""The job engine: job documents, start/cancel, fan-out over Cloud Tasks, progress, completion."""

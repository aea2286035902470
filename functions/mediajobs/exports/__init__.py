"""Media export: every user's images and voice recordings, one ZIP per user."""

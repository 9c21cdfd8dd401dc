"""Training-time hooks."""

"""The compose figures: composing the task library for a new task."""

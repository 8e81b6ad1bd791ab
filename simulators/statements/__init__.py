"""End-of-day statements of what a rail actually settled, optionally with planted breaks."""

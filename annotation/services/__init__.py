"""Writes of the annotation app (HackSoft-style services)."""

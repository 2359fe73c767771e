"""Writes of the inference app (HackSoft services), one module per concern:
endpoints, runs, processing (live generation) and predictions (import/export)."""

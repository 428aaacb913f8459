"""Tabletop play: the session document, the table that drives a run between pauses, and what each seat may see."""

"""Readers of the EMS's outside sources: the coordination database (``coordination``)."""

"""Reads owned by the lims app: the audit trail."""

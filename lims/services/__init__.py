"""Writes owned by the lims app: signatures, sign-in security."""

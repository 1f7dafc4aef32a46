"""Secretome that travels: partner labs, shipments, provenance snapshots, receipt, traceability."""

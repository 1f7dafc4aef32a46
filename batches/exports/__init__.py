"""Methods exports: a reproducible methods section written from the records (Markdown, DOCX, JSON),
an RO-Crate of the records behind it, and QR labels for batches.

    records.py     reads the records in a bounded number of queries into a JSON-ready snapshot
    completeness.py asks the checklist for its verdict on those records
    document.py    composes headings and paragraphs from the snapshot alone (prose/ writes each section)
    renderers.py   Markdown, DOCX and JSON
    methods.py     the entry points: batches_methods_export, study_methods_export, render, recompose
    crate.py       the RO-Crate zip;  label.py  QR labels;  views.py / urls.py  the API
"""

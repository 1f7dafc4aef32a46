"""Several aliquots of one batch in one go: the same tube, buffer and box, each in its own position."""

import re

from django.core.exceptions import ValidationError
from django.db import transaction

from batches import models as m
from batches.labels import field_label, mid_sentence
from batches.services.records import record_create

MAX_TUBES = 200


def next_codes(first: str, count: int) -> list[str]:
    """'SB-1-A03', 3 → ['SB-1-A03', 'SB-1-A04', 'SB-1-A05'] (a code without a trailing number gets -2, -3, …)."""
    match = re.search(r"(\d+)$", first)
    if match is None:
        return [first] + [f"{first}-{index}" for index in range(2, count + 1)]
    stem, digits = first[: match.start()], match.group(1)
    start = int(digits)
    return [f"{stem}{start + offset:0{len(digits)}d}" for offset in range(count)]


def parse_positions(text: str) -> list[str]:
    """'a1, A2 B3' → ['A1', 'A2', 'B3']."""
    return [part.upper() for part in re.split(r"[\s,;]+", text.strip()) if part]


def aliquot_series_create(
    *, batch: m.SecretomeBatch, actor, data: dict, count: int, positions: list[str], reason: str | None = None
) -> list:
    """Create `count` aliquots through the record service, in one transaction: all of them or none.

    The first tube takes `data["code"]`, the next ones the following numbers; tube n goes to positions[n]
    when positions are given (then there must be one per tube).
    """
    if count < 1 or count > MAX_TUBES:
        raise ValidationError({"count": [f"Give a number of tubes from 1 to {MAX_TUBES}."]})
    if positions and len(positions) != count:
        raise ValidationError(
            {"positions": [f"{len(positions)} positions chosen for {count} tubes: choose one position per tube."]}
        )
    if len(set(positions)) != len(positions):
        raise ValidationError({"positions": ["A position is chosen twice."]})
    codes = next_codes(str(data.get("code", "")), count)
    created = []
    with transaction.atomic():
        for index, code in enumerate(codes):
            tube = {**data, "code": code, "batch": batch}
            if positions:
                tube["position"] = positions[index]
            try:
                created.append(record_create(model=m.Aliquot, lab=batch.lab, actor=actor, data=tube, reason=reason))
            except ValidationError as error:
                raise ValidationError(_for_tube(error, index + 1, code)) from error
    return created


def _for_tube(error: ValidationError, number: int, code: str):
    """Say which tube a problem belongs to; a position problem lands on the positions field."""
    if not hasattr(error, "error_dict"):
        return {"__all__": [f"Tube {number} ({code}): {message}" for message in error.messages]}
    said = {}
    for name, messages in error.message_dict.items():
        target = "positions" if name == "position" else name
        where = (
            f"Tube {number} ({code})"
            if name == "__all__"
            else f"Tube {number} ({code}), {mid_sentence(field_label(m.Aliquot, name))}"
        )
        said.setdefault(target, []).extend(f"{where}: {message}" for message in messages)
    return said

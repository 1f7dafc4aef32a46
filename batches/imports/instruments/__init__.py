"""Readers of instrument exports: NanoSight NTA 3.x ExperimentSummary.csv, ZetaView .txt and plate readers."""

from dataclasses import dataclass, field
from typing import Any


class InstrumentFileError(ValueError):
    """The export cannot be read; the message names the file and the section or line."""


@dataclass
class Measurement:
    """One value for a QC result (the service adds batch, method, date and the raw-file link)."""

    assay: str
    value: float
    unit: str
    analyte: str = ""


@dataclass
class Reading:
    instrument: str
    method: str
    measurements: list[Measurement]
    details: dict[str, Any] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "instrument": self.instrument,
            "method": self.method,
            "measurements": [vars(m) for m in self.measurements],
            "details": self.details,
            "flags": self.flags,
        }


def decode(filename: str, content: bytes) -> str:
    """Instrument PCs write UTF-8 or Windows-1252 (µ, °, ±); NUL bytes mean it is not a text export."""
    if b"\x00" in content[:4096]:
        raise InstrumentFileError(f"{filename} is a binary file, not a text export.")
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InstrumentFileError(f"{filename}: unknown text encoding.")


def to_float(text: str, *, filename: str, where: str) -> float:
    cleaned = text.strip().replace("\u00a0", "").replace(" ", "")
    if cleaned.count(",") == 1 and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    try:
        return float(cleaned)
    except ValueError:
        raise InstrumentFileError(f"{filename}, {where}: '{text.strip()}' is not a number.") from None

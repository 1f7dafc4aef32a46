"""The methods section as data: headings and paragraphs, composed from the record snapshot alone.

`compose()` is a pure function of the snapshot and the checklist verdict, so the same records always give
the same text, and `render_methods` can rebuild it from an exported JSON file.
"""

import hashlib
import json

from batches.exports import typography as t
from batches.exports.prose import cells, producers, product, study
from batches.exports.prose.common import SECTIONS, Context, Markers, References
from batches.exports.prose.fields import Gaps

FORMAT = "secretome-methods"
FORMAT_VERSION = 1

WRITERS = {
    "cell_source": cells.cell_source,
    "isolation": cells.isolation,
    "cell_characterisation": cells.cell_characterisation,
    "priming": cells.priming,
    "production": product.production,
    "processing": product.processing,
    "storage": product.storage,
    "quality_control": product.quality_control,
    "dose": study.dose,
    "outcomes": study.outcomes,
}
STUDY_ONLY = {"dose", "outcomes"}


def canonical_json(data) -> str:
    """One spelling for one value: sorted keys, no spaces, UTF-8 text."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def fingerprint(snapshot: dict, completeness: dict) -> str:
    """SHA-256 of every input the text was written from, and of the composer's format version."""
    payload = canonical_json(
        {"format": FORMAT, "version": FORMAT_VERSION, "records": snapshot, "checklist": completeness}
    )
    return "sha256:" + hashlib.sha256(payload.encode()).hexdigest()


def _split(snapshot: dict) -> tuple[list[dict], list[dict]]:
    """Products, and the mock controls other exported batches name (described as controls, not products)."""
    referenced = {b["mock_control"] for b in snapshot["batches"] if b["mock_control"]}
    mocks = [b for b in snapshot["batches"] if b["code"] in referenced]
    products = [b for b in snapshot["batches"] if b["code"] not in referenced]
    if not products:
        return mocks, []
    return products, mocks


def _score(value) -> str:
    return t.quantity(round(value), "%")


def _completeness(ctx: Context, digest: str) -> list[str]:
    checklist = ctx.completeness
    scores = {code: snap["score"] for code, snap in checklist.get("batches", {}).items()}
    version = checklist.get("version") or "unknown"
    sentences = []
    if len(scores) == 1:
        code, score = next(iter(scores.items()))
        categories = checklist["batches"][code].get("score_by_category") or []
        by_category = ", ".join(
            f"{row['label'].lower()} {_score(row['score'])}" for row in categories if row["score"] is not None
        )
        detail = f" ({by_category})" if by_category else ""
        sentences.append(
            t.sentence(
                f"Against the minimal-reporting checklist {version}, the batch record scored {_score(score)}{detail}"
            )
        )
    elif len(scores) <= 4:
        listed = t.join([f"{_score(score)} ({code})" for code, score in sorted(scores.items())])
        sentences.append(
            t.sentence(f"Against the minimal-reporting checklist {version}, the batch records scored {listed}")
        )
    elif scores:
        values = [round(score) for score in scores.values()]
        sentences.append(
            t.sentence(
                f"Against the minimal-reporting checklist {version}, the {len(scores)} batch records scored "
                f"{t.summary(values, '%')}, range {t.span(values, '%')}"
            )
        )
    if checklist.get("study"):
        sentences.append(t.sentence(f"The study record scored {_score(checklist['study']['score'])}"))
    failed: dict[tuple[int, str], list[str]] = {}
    for code, snap in sorted(checklist.get("batches", {}).items()):
        for gate in snap.get("gates", []):
            if not gate["passed"]:
                failed.setdefault((gate["number"], gate["label"]), []).append(code)
    if failed:
        gates = [f"gate {number} ({label}) for {t.join(codes)}" for (number, label), codes in sorted(failed.items())]
        sentences.append(t.sentence(f"Release gates not passed: {'; '.join(gates)}"))
    flagged = ctx.markers.count()
    if flagged:
        sentences.append(
            t.sentence(
                f"{t.counted(flagged, 'required item')} {'was' if flagged == 1 else 'were'} not recorded or not valid; "
                f"{'it is' if flagged == 1 else 'each is'} marked in the text in square brackets"
            )
        )
    else:
        sentences.append("Every required item was recorded.")
    rest = ctx.markers.remaining()
    if rest:
        sentences.append(t.sentence(f"Also not recorded: {rest}"))
    quiet = ctx.markers.quiet_text()
    if quiet:
        mocks = t.join([b["code"] for b in ctx.mocks])
        sentences.append(t.sentence(f"For the mock control ({mocks}), not recorded: {quiet}"))
    return [" ".join(sentences)]


def _provenance(ctx: Context, digest: str) -> list[str]:
    """Signatures and the fingerprint: kept with the export, apart from the text a journal prints."""
    paragraphs = producers.provenance(ctx)
    signed = ctx.snapshot.get("signatures") or []
    if signed:
        listed = "; ".join(f"{row['record']}: {row['signature']}" for row in signed)
        paragraphs.append(t.sentence(f"Electronic signatures on these records: {listed}"))
    paragraphs.append(t.sentence(f"This text was generated from records with fingerprint {digest}"))
    return paragraphs


STORAGE_ITEMS = ("st_state", "st_temperature", "st_duration", "st_freeze_thaw", "st_buffer_container")


def _waive_answered(ctx: Context) -> None:
    """Items the records answer in another way than the checklist version asks: a product used fresh has no
    storage to report; cells bought from a supplier were isolated by the supplier."""
    fresh = [b["code"] for b in ctx.batches if b.get("used_fresh") is True and not b["aliquots"]]
    if fresh:
        ctx.markers.waive(STORAGE_ITEMS, fresh)
    bought_lines = {
        line["code"]
        for line in ctx.lines.values()
        if (ctx.donors.get(line["donor"]) or {}).get("supplier") and not line["isolation_method"]
    }
    bought = [b["code"] for b in ctx.batches if b["cell_line"] in bought_lines]
    if bought:
        ctx.markers.waive(("ie_isolation_method",), bought)


def compose(snapshot: dict, completeness: dict) -> dict:
    """Headings and paragraphs in publication order, then the references cited."""
    products, mocks = _split(snapshot)
    scope = [b["code"] for b in snapshot["batches"]]
    ctx = Context(
        snapshot=snapshot,
        completeness=completeness,
        markers=Markers(completeness, scope, quiet=[b["code"] for b in mocks] if snapshot.get("study") else ()),
        refs=References(),
        products=products,
        mocks=mocks,
        lines={line["code"]: line for line in snapshot["cell_lines"]},
        donors={donor["code"]: donor for donor in snapshot["donors"]},
        primings={priming["name"]: priming for priming in snapshot["primings"]},
    )
    ctx.markers.gaps = Gaps(snapshot, completeness)
    _waive_answered(ctx)
    digest = fingerprint(snapshot, completeness)
    sections = []
    for section_id, heading in SECTIONS:
        if section_id in STUDY_ONLY and snapshot.get("study") is None:
            continue
        if section_id == "completeness":
            paragraphs = _completeness(ctx, digest)
        else:
            paragraphs = [p for p in WRITERS[section_id](ctx) if p]
        if section_id == "cell_source":
            paragraphs = producers.produced_by(ctx) + paragraphs
        if paragraphs:
            sections.append({"id": section_id, "heading": heading, "paragraphs": paragraphs})
    references = ctx.refs.entries()
    if references:
        sections.append({"id": "references", "heading": "References", "paragraphs": references})
    sections.append({"id": "provenance", "heading": "Record provenance", "paragraphs": _provenance(ctx, digest)})
    return {"title": "Methods", "sections": sections, "fingerprint": digest}

from batches.models.cells import CellLine, Differentiation, Donor, Immunophenotype, Passage
from batches.models.checklist import ChecklistExplanation, ChecklistReport
from batches.models.counts import BatchStatusCount
from batches.models.imports import ImportRun, ImportStatus, InstrumentFile
from batches.models.priming import PrimingAgent, PrimingCondition
from batches.models.production import BatchEvent, BatchEventKind, ProcessingStep, SecretomeBatch
from batches.models.qc import QCResult, QCSpecification
from batches.models.shipments import (
    ImpactNotice,
    PartnerLab,
    ProvenanceSnapshot,
    ReceivedAliquot,
    ReceivedAliquotEvent,
    Shipment,
    ShipmentItem,
    ShipmentReceipt,
)
from batches.models.storage import Aliquot, AliquotEvent, StorageLocation
from batches.models.studies import Administration, OutcomeMeasure, Study

__all__ = [
    "Administration",
    "Aliquot",
    "AliquotEvent",
    "BatchEvent",
    "BatchEventKind",
    "BatchStatusCount",
    "CellLine",
    "ChecklistExplanation",
    "ChecklistReport",
    "Differentiation",
    "Donor",
    "Immunophenotype",
    "ImpactNotice",
    "ImportRun",
    "ImportStatus",
    "InstrumentFile",
    "OutcomeMeasure",
    "PartnerLab",
    "Passage",
    "PrimingAgent",
    "PrimingCondition",
    "ProcessingStep",
    "ProvenanceSnapshot",
    "QCResult",
    "QCSpecification",
    "ReceivedAliquot",
    "ReceivedAliquotEvent",
    "SecretomeBatch",
    "Shipment",
    "ShipmentItem",
    "ShipmentReceipt",
    "StorageLocation",
    "Study",
]

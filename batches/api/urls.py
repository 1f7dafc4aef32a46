from rest_framework.routers import SimpleRouter

from batches.api import imports, views
from batches.shipments import api as shipments_api

router = SimpleRouter()
router.register("imports", imports.ImportViewSet, basename="import")
# Before qc-results, whose detail route would otherwise take "import-instrument" for an id.
router.register("qc-results/import-instrument", imports.InstrumentImportViewSet, basename="qc-result-import")
router.register("donors", views.DonorViewSet, basename="donor")
router.register("cell-lines", views.CellLineViewSet, basename="cell-line")
router.register("immunophenotypes", views.ImmunophenotypeViewSet, basename="immunophenotype")
router.register("differentiations", views.DifferentiationViewSet, basename="differentiation")
router.register("passages", views.PassageViewSet, basename="passage")
router.register("primings", views.PrimingConditionViewSet, basename="priming")
router.register("batches", views.BatchViewSet, basename="batch")
router.register("processing-steps", views.ProcessingStepViewSet, basename="processing-step")
router.register("storage-locations", views.StorageLocationViewSet, basename="storage-location")
router.register("aliquots", views.AliquotViewSet, basename="aliquot")
router.register("qc-specifications", views.QCSpecificationViewSet, basename="qc-specification")
router.register("qc-results", views.QCResultViewSet, basename="qc-result")
router.register("studies", views.StudyViewSet, basename="study")
router.register("administrations", views.AdministrationViewSet, basename="administration")
router.register("outcome-measures", views.OutcomeMeasureViewSet, basename="outcome-measure")
router.register("checklist-reports", views.ChecklistReportViewSet, basename="checklist-report")
router.register("batches", shipments_api.BatchTraceViewSet, basename="batch-trace")
router.register("administrations", shipments_api.AdministrationOriginViewSet, basename="administration-origin")
router.register("partner-labs", shipments_api.PartnerLabViewSet, basename="partner-lab")
router.register("shipments", shipments_api.ShipmentViewSet, basename="shipment")
router.register("provenance-snapshots", shipments_api.SnapshotViewSet, basename="provenance-snapshot")
router.register("impact-notices", shipments_api.NoticeViewSet, basename="impact-notice")
router.register("received-aliquots", shipments_api.ReceivedAliquotViewSet, basename="received-aliquot")

from django.urls import include, path

from batches.views import batches, imports, jobs, records, review, storage, studies, trends

app_name = "batches"

urlpatterns = [
    path("batches/", batches.batch_list, name="batch-list"),
    path("batches/new/", batches.batch_start, name="batch-start"),
    path("batches/<int:pk>/", batches.batch_detail, name="batch-detail"),
    path("batches/<int:pk>/checklist/", batches.batch_checklist_panel, name="batch-checklist"),
    path("batches/<int:pk>/log/<slug:step>/", batches.batch_step, name="batch-step"),
    path("batches/rows/<slug:step>/<int:row>/", batches.batch_row, name="batch-row"),
    path("batches/<int:pk>/submit/", batches.batch_submit_check, name="batch-submit"),
    path("deviations/<int:pk>/<slug:action>/", batches.deviation_action, name="deviation-action"),
    path("batches/<int:pk>/<slug:action>/", batches.batch_action, name="batch-action"),
    path("jobs/recheck/", jobs.recheck_start, name="recheck-start"),
    path("jobs/<uuid:pk>/", jobs.job_detail, name="job"),
    path("jobs/<uuid:pk>/progress/", jobs.job_progress, name="job-progress"),
    path("imports/", imports.import_home, name="imports"),
    path("imports/<uuid:pk>/", imports.import_detail, name="import-detail"),
    path("imports/<uuid:pk>/progress/", imports.import_progress, name="import-progress"),
    path("imports/<uuid:pk>/commit/", imports.import_commit_view, name="import-commit"),
    path("imports/<uuid:pk>/errors.<str:file_format>", imports.import_errors_download, name="import-errors"),
    path("imports/templates/<slug:kind>.<str:file_format>", imports.import_template_download, name="import-template"),
    path("studies/", studies.study_list, name="study-list"),
    path("studies/new/", studies.study_create, name="study-create"),
    path("studies/<int:pk>/", studies.study_detail, name="study-detail"),
    path("studies/<int:pk>/design/", studies.study_edit, name="study-edit"),
    path("studies/<int:pk>/add/<slug:part>/", studies.study_part_add, name="study-add"),
    path("review/", review.review_queue, name="review-queue"),
    path("review/qc/<int:pk>/verify/", review.qc_verify, name="qc-verify"),
    path("review/qc/<int:pk>/reject/", review.qc_reject, name="qc-reject"),
    path("qc/trends/", trends.qc_trends, name="qc-trends"),
    path("qc/trends/data/", trends.qc_trend_data, name="qc-trend-data"),
    path("storage/", storage.storage_browser, name="storage"),
    path("storage/box/<int:pk>/", storage.storage_box, name="storage-box"),
    path("labels/", storage.aliquot_labels, name="labels"),
    path("shipments/", include("batches.shipments.urls")),
    path("records/<slug:kind>/", records.record_list, name="record-list"),
    path("records/<slug:kind>/new/", records.record_create_view, name="record-create"),
    path("records/<slug:kind>/<int:pk>/", records.record_edit_view, name="record-edit"),
    path("records/<slug:kind>/<int:pk>/add/<slug:child>/", records.record_child_create, name="record-child"),
    path(
        "records/<slug:kind>/<int:pk>/<slug:child>/<int:child_pk>/",
        records.record_child_edit,
        name="record-child-edit",
    ),
]

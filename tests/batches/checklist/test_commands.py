"""`manage.py check_batches` and `manage.py activate_checklist`."""

import pytest
from django.core.management import CommandError, call_command

from batches.models.checklist import CurrentChecklistReport
from tests import factories as f
from tests.batches.checklist.builders import complete_batch

pytestmark = pytest.mark.django_db


def test_check_batches_needs_a_lab_or_all():
    with pytest.raises(CommandError, match="--lab"):
        call_command("check_batches")
    with pytest.raises(CommandError, match="--lab"):
        call_command("check_batches", "--all", "--lab", "pain-lab")


def test_check_batches_names_an_unknown_lab():
    with pytest.raises(CommandError, match="no lab with slug or id 'nowhere'"):
        call_command("check_batches", "--lab", "nowhere")


def test_check_batches_checks_one_lab_with_a_progress_bar(lab, other_lab, technician, capsys):
    batch = complete_batch(lab, technician)
    elsewhere = f.SecretomeBatchFactory(lab=other_lab)
    call_command("check_batches", "--lab", "pain-lab", "--chunk-size", "1")
    out, err = capsys.readouterr()
    assert "Checked 2 batches and 0 studies (pain-lab); 2 new reports." in out
    assert "Checking: 100%" in err
    assert CurrentChecklistReport.objects.get(batch=batch).report.score == 100.0
    assert not CurrentChecklistReport.objects.filter(batch=elsewhere).exists()


def test_check_batches_all_labs_and_again_writes_nothing_new(lab, other_lab, capsys):
    f.SecretomeBatchFactory(lab=lab)
    f.SecretomeBatchFactory(lab=other_lab)
    call_command("check_batches", "--all", "--no-progress")
    call_command("check_batches", "--all", "--no-progress")
    out = capsys.readouterr().out
    assert "2 new reports" in out and out.strip().endswith("0 new reports.")


def test_check_batches_can_hand_the_chunks_to_workers(lab, capsys):
    batch = f.SecretomeBatchFactory(lab=lab)
    call_command("check_batches", "--lab", str(lab.pk), "--queue", "--no-progress")
    assert "Queued 1 batches" in capsys.readouterr().out
    assert CurrentChecklistReport.objects.filter(batch=batch).exists()  # eager mode: the chunk ran here


def test_activate_checklist_lists_the_versions_and_marks_the_active_one(capsys):
    call_command("activate_checklist")
    assert "* secretome-minimal-v1" in capsys.readouterr().out


def test_activate_checklist_refuses_an_unknown_version():
    with pytest.raises(CommandError, match="secretome-minimal-v9"):
        call_command("activate_checklist", "secretome-minimal-v9")


def test_activate_checklist_keeps_the_version_in_force(capsys):
    call_command("activate_checklist", "secretome-minimal-v1", "--note", "first activation")
    assert "already in force" in capsys.readouterr().out

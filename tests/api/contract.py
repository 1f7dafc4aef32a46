"""The contract every API resource keeps (after NetBox's APIViewTestCases).

A resource's test class names its URL and how to make a record, a create payload and an update;
the base runs the same checks against it: list, retrieve, create, update, a stale or missing
version, the history, and the negatives — anonymous, wrong role, another lab, a foreign key into
another lab.
"""

from typing import Any, ClassVar

import pytest
from django.db import models

pytestmark = pytest.mark.django_db


class ResourceContract:
    url: ClassVar[str]
    model: ClassVar[type[models.Model]]
    writer: ClassVar[str] = "technician"
    wrong_role: ClassVar[str] = "auditor"
    read_only: ClassVar[bool] = False
    versioned: ClassVar[bool] = True

    # --- what each resource says about itself ---------------------------------------------------
    def make(self, lab, cast: dict) -> models.Model:
        raise NotImplementedError

    def create_payload(self, lab, cast: dict) -> dict[str, Any]:
        raise NotImplementedError

    def update_payload(self, instance: models.Model) -> dict[str, Any]:
        raise NotImplementedError

    def foreign_key_payload(self, lab, other_lab, cast: dict) -> tuple[dict[str, Any], str] | None:
        """A create payload whose one foreign key points into another lab, and that field's name."""
        return None

    # --- helpers ----------------------------------------------------------------------------------
    def detail(self, instance) -> str:
        return f"{self.url}{instance.pk}/"

    # --- reads --------------------------------------------------------------------------------------
    def test_it_lists_the_records_of_the_users_labs_only(self, api, lab, other_lab, cast):
        mine = self.make(lab, cast)
        theirs = self.make(other_lab, cast)
        response = api(cast["auditor"]).get(self.url, {"page_size": 200})
        assert response.status_code == 200, response.data
        ids = {row["id"] for row in response.data["results"]}
        assert mine.pk in ids
        assert theirs.pk not in ids

    def test_it_retrieves_a_record(self, api, lab, cast):
        instance = self.make(lab, cast)
        response = api(cast["auditor"]).get(self.detail(instance))
        assert response.status_code == 200, response.data
        assert response.data["id"] == instance.pk
        assert response.data["lab"] == lab.pk
        if self.versioned:
            assert response.data["version"] == instance.version

    def test_it_shows_the_audit_trail_of_a_record(self, api, lab, cast):
        instance = self.make(lab, cast)
        response = api(cast["auditor"]).get(f"{self.detail(instance)}history/")
        assert response.status_code == 200, response.data
        assert [event["label"] for event in response.data][:1] == ["insert"]

    # --- writes -------------------------------------------------------------------------------------
    def test_it_creates_a_record_in_the_users_only_lab(self, api, lab, cast):
        if self.read_only:
            response = api(cast[self.writer]).post(self.url, {}, format="json")
            assert response.status_code == 405
            return
        writer = cast[self.writer]
        response = api(writer).post(self.url, self.create_payload(lab, cast), format="json")
        assert response.status_code == 201, response.data
        assert response.data["lab"] == lab.pk
        created = self.model._default_manager.get(pk=response.data["id"])
        if self.versioned:
            assert created.created_by == writer
            assert response.data["version"] == 1

    def test_it_updates_a_record_from_its_version(self, api, lab, cast):
        if self.read_only:
            return
        instance = self.make(lab, cast)
        changes = self.update_payload(instance)
        payload = {**changes, "version": instance.version} if self.versioned else changes
        response = api(cast[self.writer]).patch(self.detail(instance), payload, format="json")
        assert response.status_code == 200, response.data
        instance.refresh_from_db()
        for name, value in changes.items():
            assert response.data[name] == value
        if self.versioned:
            assert response.data["version"] == instance.version > 1

    def test_it_refuses_a_stale_version_and_changes_nothing(self, api, lab, cast):
        if self.read_only or not self.versioned:
            return
        instance = self.make(lab, cast)
        type(instance)._default_manager.filter(pk=instance.pk).update(updated_at=instance.updated_at)
        changes = self.update_payload(instance)
        response = api(cast[self.writer]).patch(
            self.detail(instance), {**changes, "version": instance.version}, format="json"
        )
        assert response.status_code == 409, response.data
        assert response.data["current_version"] == instance.version + 1
        fresh = type(instance)._default_manager.get(pk=instance.pk)
        assert fresh.version == instance.version + 1
        for name in changes:
            assert getattr(fresh, name) == getattr(instance, name)

    def test_it_refuses_an_update_that_names_no_version(self, api, lab, cast):
        if self.read_only or not self.versioned:
            return
        instance = self.make(lab, cast)
        response = api(cast[self.writer]).patch(self.detail(instance), self.update_payload(instance), format="json")
        assert response.status_code == 400
        assert "version" in response.data

    def test_it_refuses_a_foreign_key_into_another_lab_naming_the_field(self, api, lab, other_lab, cast):
        if self.read_only:
            return
        foreign = self.foreign_key_payload(lab, other_lab, cast)
        if foreign is None:
            return
        payload, field = foreign
        before = self.model._default_manager.count()
        response = api(cast[self.writer]).post(self.url, payload, format="json")
        assert response.status_code == 400, response.data
        assert field in response.data
        assert self.model._default_manager.count() == before

    # --- negatives ----------------------------------------------------------------------------------
    def test_anonymous_requests_are_refused(self, api, lab, cast):
        instance = self.make(lab, cast)
        assert api().get(self.url).status_code == 401
        assert api().get(self.detail(instance)).status_code == 401
        assert api().post(self.url, {}, format="json").status_code == 401
        assert api().patch(self.detail(instance), {}, format="json").status_code == 401

    def test_a_role_that_may_not_write_is_refused(self, api, lab, cast):
        if self.read_only:
            return
        instance = self.make(lab, cast)
        client = api(cast[self.wrong_role])
        response = client.post(self.url, self.create_payload(lab, cast), format="json")
        assert response.status_code == 403, response.data
        payload = {**self.update_payload(instance), "version": getattr(instance, "version", 1)}
        assert client.patch(self.detail(instance), payload, format="json").status_code == 403

    def test_another_labs_record_is_not_found(self, api, lab, other_lab, cast):
        instance = self.make(lab, cast)
        client = api(cast["outsider"])
        assert client.get(self.detail(instance)).status_code == 404
        assert client.get(f"{self.detail(instance)}history/").status_code == 404
        if not self.read_only:
            payload = {**self.update_payload(instance), "version": getattr(instance, "version", 1)}
            assert client.patch(self.detail(instance), payload, format="json").status_code == 404

"""The crawl behind "every page is scoped": each role of a second lab requests every URL the URL conf can produce
with the first lab's ids in every path parameter, and no answer shows the first lab's data.

The roles are crawled by two test files (test_crawler_*.py), so that two test processes share the work.

The URL list comes from walking `get_resolver()`, so a route added later is crawled without editing this
test: app pages, the API, the admin (change lists, change forms, history, filters, autocomplete) and the
exports. Lists are also asked for the first lab by filter (`?lab=`, `?lab__id__exact=`) and by search.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.contrib import admin
from django.core.cache import cache
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from batches.views.batches import FLOW_STEPS
from batches.views.records import KINDS
from lims.models import Job, Lab, Membership, Role
from tests import factories as f

ROLES = (Role.TECHNICIAN, Role.REVIEWER, Role.AUDITOR, Role.LAB_ADMIN)
IDS_PER_MODEL = 1
SLUGS = {
    "kind": sorted(KINDS),
    "step": [step for step, _label in FLOW_STEPS],
    "action": ["submit", "release", "reject", "retire", "check", "label", "methods", "rocrate"],
    "child": sorted(
        {model.__name__.lower() for kind in KINDS.values() for _title, model, _form, _field in kind.children}
    ),
}
PARAMETER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>|\(\?P<(?P<regex_name>\w+)>[^)]*\)")


@dataclass(frozen=True)
class Route:
    template: str  # with {name} for every parameter
    parameters: tuple[str, ...]
    converters: tuple[str, ...]
    model: type | None


def _join(prefix: str, pattern) -> str:
    text = str(pattern.pattern)
    return prefix + text.lstrip("^").rstrip("$").replace("/?", "/").replace("\\.", ".")


def _routes(resolver=None, prefix: str = "") -> Iterator[Route]:
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _routes(entry, _join(prefix, entry))
            continue
        assert isinstance(entry, URLPattern)
        raw = _join(prefix, entry)
        if "(?P<format>" in raw or r"\.(?P" in raw or "<drf_format_suffix" in raw:
            continue
        found = list(PARAMETER.finditer(raw))
        names = [match.group("name") or match.group("regex_name") for match in found]
        converters = [match.group("converter") or ("int" if "[0-9]" in match.group(0) else "str") for match in found]
        template = PARAMETER.sub(lambda match: "{" + (match.group("name") or match.group("regex_name")) + "}", raw)
        if any(char in template for char in "()[]^$*+?\\"):
            continue  # a catch-all regex (the admin's final redirect), not a page of its own
        callback = entry.callback
        model = None
        if getattr(callback, "model_admin", None) is not None:
            model = callback.model_admin.model
        elif getattr(callback, "cls", None) is not None and getattr(callback.cls, "queryset", None) is not None:
            model = callback.cls.queryset.model
        yield Route("/" + template, tuple(names), tuple(converters), model)


def _lab_owned_models() -> list[type]:
    return [
        model
        for model in apps.get_models()
        if model._meta.app_label in {"lims", "batches", "protocols"}
        and any(field.name == "lab" for field in model._meta.fields)
    ]


def _first_lab_ids(lab: Lab) -> dict[type, list]:
    ids = {}
    for model in _lab_owned_models():
        ids[model] = list(model.objects.filter(lab=lab).order_by("pk").values_list("pk", flat=True)[:IDS_PER_MODEL])
    ids[Lab] = [lab.pk]
    return ids


def _markers(lab: Lab) -> set[str]:
    """Text that only the first lab's rows contain: codes, names, titles, its members' names."""
    from batches import models as m
    from protocols import models as pm

    found = {lab.name, lab.slug, lab.institution}
    for model, field in (
        (m.Donor, "code"),
        (m.CellLine, "code"),
        (m.SecretomeBatch, "code"),
        (m.Aliquot, "code"),
        (m.Study, "title"),
        (m.PrimingCondition, "name"),
        (m.StorageLocation, "name"),
        (pm.Protocol, "code"),
        (pm.Protocol, "title"),
    ):
        found.update(model.objects.filter(lab=lab).values_list(field, flat=True))
    for membership in Membership.objects.filter(lab=lab).select_related("user"):
        found.add(membership.user.get_full_name())
        found.add(membership.user.email)
    # A record named like a choice ("No priming") is not told apart from the choice every form offers.
    labels = {
        str(label)
        for model in apps.get_models()
        for field in model._meta.fields
        for _value, label in (field.flatchoices or [])
    }
    return {marker for marker in found if marker and len(marker) >= 5 and marker not in labels}


def _urls(routes: list[Route], ids: dict[type, list], lab: Lab) -> Iterator[str]:
    every_id = sorted({pk for model_ids in ids.values() for pk in model_ids if isinstance(pk, int)})
    job_ids = [str(pk) for pk in Job.objects.filter(lab=lab).values_list("pk", flat=True)[:IDS_PER_MODEL]]
    for route in routes:
        if not route.parameters:
            yield route.template
            yield f"{route.template}?lab={lab.pk}&lab__id__exact={lab.pk}"
            continue
        choices = []
        for name, converter in zip(route.parameters, route.converters, strict=True):
            if converter == "uuid":
                choices.append(job_ids or ["00000000-0000-0000-0000-000000000000"])
            elif name in SLUGS:
                choices.append(SLUGS[name])
            elif name in {"app_label"}:
                choices.append(sorted({model._meta.app_label for model in admin.site._registry}))
            elif route.model is not None and route.model in ids:
                choices.append([str(pk) for pk in ids[route.model]] or ["1"])
            elif name == "kind":
                choices.append(sorted(KINDS))
            else:
                choices.append([str(pk) for pk in every_id])
        for values in _product(choices):
            params = dict(zip(route.parameters, values, strict=True))
            if "kind" in params and params["kind"] in KINDS and "pk" in params:
                model_ids = ids.get(KINDS[params["kind"]].model, [])
                if model_ids and int(params["pk"]) not in model_ids:
                    continue
            yield route.template.format(**params)


def _product(choices: list[list[str]]) -> Iterator[tuple[str, ...]]:
    if not choices:
        yield ()
        return
    for head in choices[0]:
        for rest in _product(choices[1:]):
            yield (head, *rest)


def _autocomplete_urls(lab: Lab) -> Iterator[str]:
    for model in admin.site._registry:
        for field in model._meta.fields:
            if field.is_relation and field.related_model in admin.site._registry:
                yield (
                    f"/admin/autocomplete/?app_label={model._meta.app_label}&model_name={model._meta.model_name}"
                    f"&field_name={field.name}&term="
                )


def _body(response) -> str:
    streaming = getattr(response, "streaming", False)
    content = b"".join(response.streaming_content) if streaming else response.content
    return content.decode("utf-8", errors="replace")


def _second_lab_member(lab: Lab, role: str):
    user = f.UserFactory(username=f"b-{role}", first_name="Bea", last_name=role.title(), is_staff=True)
    Membership.objects.create(user=user, lab=lab, role=role)
    return user


@pytest.fixture
def two_labs(db):
    call_command("seed_demo")
    first = Lab.objects.get(slug="demo-lab")
    second = f.LabFactory(name="Second Lab", slug="second-lab")
    f.DonorFactory(lab=second, code="B-DONOR-1")
    return first, second


def crawl_as(two_labs: tuple[Lab, Lab], role: str) -> None:
    """Crawls every URL as a member of the second lab with `role`; asserts no leak and no server error."""
    first, second = two_labs
    member = _second_lab_member(second, role)
    markers = _markers(first)
    assert "SB-25-001" in markers and "Demo Lab" in markers
    routes = list(_routes())
    urls = sorted(set(_urls(routes, _first_lab_ids(first), first))) + sorted(set(_autocomplete_urls(first)))
    assert len(urls) > 500, "the walk found the installation's routes"
    assert any(url.startswith("/admin/batches/checklistreport/") for url in urls)
    assert any("/history/" in url for url in urls)
    assert any("/methods/" in url for url in urls)

    client = APIClient()
    client.force_login(member)
    leaks, errors = [], []
    for url in urls:
        cache.clear()  # the sign-in and token throttles must not turn answers into 429s
        for method in ("get", "post"):
            if method == "post" and ("?" in url or "/autocomplete/" in url):
                continue
            response = getattr(client, method)(url, {} if method == "post" else None, format="json")
            body = _body(response)
            shown = sorted(marker for marker in markers if marker in body)
            if shown:
                leaks.append((method.upper(), url, response.status_code, shown[:3]))
            if response.status_code >= 500:
                errors.append((method.upper(), url, response.status_code))
            if "logout" in url or "revoke" in url:
                client.force_login(member)
            attachment = response.get("Content-Disposition", "")
            if response.status_code == 200 and "attachment" in attachment and re.search(r"/\d+/", url):
                leaks.append((method.upper(), url, response.status_code, [attachment]))
    assert leaks == [], f"{len(leaks)} of {2 * len(urls)} answers showed the first lab's data: {leaks[:20]}"
    assert errors == [], errors[:20]

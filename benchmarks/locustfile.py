"""Load run (a benchmark, not a test): technicians and PIs of the demo lab against a running server.

    python manage.py seed_demo                       # the demo lab: users tech and pi, password demo-password
    gunicorn lims.wsgi -w 3 -b 127.0.0.1:8765 &
    locust -f benchmarks/locustfile.py --host http://127.0.0.1:8765 --headless -u 50 -r 5 -t 5m

A technician opens the batch list and batch pages, the storage browser, reads batches through the API
and records a donor through the API (one write in six requests). A PI opens the dashboard, the review
queue, QC trends and their data, the study list and a study, and reads checklist reports through the API.
Locust prints requests per second and failures; any status other than the expected one counts as a
failure (a 500 among them).
"""

import itertools
import random
import re
import uuid

import requests
from locust import HttpUser, between, events, task

PASSWORD = "demo-password"
_codes = itertools.count()
# Signing in hashes a password on purpose slowly; every simulated user of one account shares one sign-in
# (done once before the run), as a lab's browser tabs share one session.
_SESSIONS: dict[str, tuple[dict, dict]] = {}


def _sign_in(host: str, username: str) -> tuple[dict, dict]:
    browser = requests.Session()
    page = browser.get(f"{host}/accounts/login/", timeout=120)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    browser.post(
        f"{host}/accounts/login/",
        {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token.group(1) if token else ""},
        headers={"Referer": f"{host}/accounts/login/"},
        timeout=120,
    )
    answer = browser.post(f"{host}/api/v1/auth/token/", json={"username": username, "password": PASSWORD}, timeout=120)
    api = {"Authorization": f"Token {answer.json()['token']}"}
    return {"sessionid": browser.cookies["sessionid"], "csrftoken": browser.cookies.get("csrftoken", "")}, api


@events.test_start.add_listener
def _sign_in_everyone(environment, **_kwargs):
    for username in ("tech", "pi"):
        _SESSIONS[username] = _sign_in(environment.host, username)


class LabUser(HttpUser):
    abstract = True
    wait_time = between(0.5, 2)
    username = ""

    def on_start(self):
        cookies, self.api = _SESSIONS[self.username]
        for name, value in cookies.items():
            self.client.cookies.set(name, value)
        listing = self.client.get("/api/v1/batches/?page_size=50", headers=self.api, name="api batches")
        self.batch_ids = [row["id"] for row in listing.json().get("results", [])] if listing.ok else []
        studies = self.client.get("/api/v1/studies/", headers=self.api, name="api studies")
        self.study_ids = [row["id"] for row in studies.json().get("results", [])] if studies.ok else []

    def batch_id(self) -> int:
        return random.choice(self.batch_ids) if self.batch_ids else 0


class Technician(LabUser):
    weight = 3
    username = "tech"

    @task(3)
    def batch_list(self):
        self.client.get("/batches/", name="batch list")

    @task(4)
    def batch_page(self):
        self.client.get(f"/batches/{self.batch_id()}/", name="batch page")

    @task(1)
    def storage(self):
        self.client.get("/storage/", name="storage")

    @task(2)
    def api_batches(self):
        self.client.get("/api/v1/batches/?page_size=50", headers=self.api, name="api batches")

    @task(2)
    def record_donor(self):
        code = f"LD-{uuid.uuid4().hex[:8]}-{next(_codes)}"
        self.client.post(
            "/api/v1/donors/",
            json={"code": code, "species": "human", "tissue_source": "adipose", "anatomical_site": "abdomen"},
            headers=self.api,
            name="api record donor",
        )


class PrincipalInvestigator(LabUser):
    weight = 2
    username = "pi"

    @task(3)
    def dashboard(self):
        self.client.get("/", name="dashboard")

    @task(3)
    def review_queue(self):
        self.client.get("/review/", name="review queue")

    @task(2)
    def trends(self):
        self.client.get("/qc/trends/?assay=endotoxin", name="QC trends")
        self.client.get("/qc/trends/data/?assay=endotoxin", name="QC trend data")

    @task(2)
    def study(self):
        self.client.get("/studies/", name="study list")
        if self.study_ids:
            self.client.get(f"/studies/{random.choice(self.study_ids)}/", name="study page")

    @task(2)
    def reports(self):
        self.client.get("/api/v1/checklist-reports/?page_size=20", headers=self.api, name="api checklist reports")

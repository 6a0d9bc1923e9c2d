"""The users benchmarks/load.py sends at the server (run by locust; see that script).

The plan (element codes, published study ids, search words, the researcher's token) comes as JSON
in the file named by LOAD_PLAN. Every user is one client behind the production proxy: it sends
X-Forwarded-Proto (the proxy terminated TLS) and X-Forwarded-For with an address of its own, so the
API's per-address throttle sees many readers, as it would, not one.
"""

import itertools
import json
import os
import random
import uuid
from pathlib import Path

from locust import FastHttpUser, constant, task

PLAN = json.loads(Path(os.environ["LOAD_PLAN"]).read_text())
_addresses = itertools.count(1)


class Visitor(FastHttpUser):
    """The realistic mix: 80% reads (element, study, API), 15% search, 5% researcher writes."""

    wait_time = constant(float(os.environ.get("LOAD_THINK_SECONDS", "0")))

    def on_start(self) -> None:
        n = next(_addresses)
        self.headers = {
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}",
        }
        self.draft_id: int | None = None

    def get(self, path: str, name: str) -> None:
        self.client.get(path, headers=self.headers, name=name)

    # --- reads: 80 --------------------------------------------------------------------------
    @task(35)
    def element_page(self) -> None:
        code = random.choice(PLAN["elements"])
        self.get(f"/elements/{code}/", "element page")

    @task(20)
    def study_page(self) -> None:
        self.get(f"/studies/{random.choice(PLAN['studies'])}/", "study page")

    @task(10)
    def api_study(self) -> None:
        self.get(f"/api/v1/studies/{random.choice(PLAN['studies'])}/", "api study")

    @task(10)
    def api_element_evidence(self) -> None:
        code = random.choice(PLAN["elements"])
        self.get(f"/api/v1/elements/{code}/evidence/", "api element evidence")

    @task(5)
    def api_element_studies(self) -> None:
        code = random.choice(PLAN["elements"])
        self.get(f"/api/v1/studies/?element={code}", "api studies of an element")

    # --- search: 15 -------------------------------------------------------------------------
    @task(8)
    def site_search(self) -> None:
        self.get(f"/search/?q={random.choice(PLAN['words'])}", "site search")

    @task(7)
    def api_search(self) -> None:
        word, design = random.choice(PLAN["words"]), random.choice(["rct", "qed"])
        self.get(f"/api/v1/studies/?q={word}&design={design}", "api filtered search")

    # --- researcher writes: 5 ---------------------------------------------------------------
    @task(5)
    def researcher_write(self) -> None:
        """Create a draft study, or add an effect to the draft this user created last."""
        headers = {**self.headers, "Authorization": f"Token {PLAN['token']}"}
        if self.draft_id is None or random.random() < 0.5:
            study = {
                "title": f"Load test draft {uuid.uuid4()}",
                "authors": ["Load, L."],
                "year": 2024,
                "design": "rct",
                "sample_size": 200,
            }
            with self.client.post(
                "/api/v1/studies/",
                json=study,
                headers=headers,
                name="api create draft",
                catch_response=True,
            ) as response:
                if response.status_code == 201:
                    self.draft_id = response.json()["id"]
                    response.success()
                else:
                    response.failure(f"{response.status_code}")
        else:
            effect = {
                "input": "smd",
                "outcome_domain": "mathematics",
                "value": 0.2,
                "variance": 0.01,
            }
            self.client.post(
                f"/api/v1/studies/{self.draft_id}/effects/",
                json=effect,
                headers=headers,
                name="api add effect",
            )


class ElementReader(FastHttpUser):
    """Only element pages, the 18 elements at random (for the ratio to the trivial view)."""

    wait_time = constant(0)

    def on_start(self) -> None:
        self.headers = {"X-Forwarded-Proto": "https"}

    @task
    def element_page(self) -> None:
        code = random.choice(PLAN["elements"])
        self.client.get(f"/elements/{code}/", headers=self.headers, name="element page")


class HealthChecker(FastHttpUser):
    """Only GET /healthz/: a Django view with no database, the server's ceiling."""

    wait_time = constant(0)

    def on_start(self) -> None:
        self.headers = {"X-Forwarded-Proto": "https"}

    @task
    def healthz(self) -> None:
        self.client.get("/healthz/", headers=self.headers, name="healthz")

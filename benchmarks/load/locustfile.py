"""200 district users on the web UI (run by benchmarks/bench_load.py; locust runs in its own process).

Each simulated user is one district supervisor (监管人员) of the city: logs in once, then reads what such a
user reads all day — the start page, the enterprise list of the district (paging, searching, filtering by
grade), an enterprise's file and its score explanation, the scores list, inspections, alerts and tasks —
and now and then the statistics pages (grade overview with the district's distribution, grade changes). Think time between pages
comes from BENCH_LOAD_THINK ("min,max" seconds).

Environment: BENCH_LOAD_USERS_FILE (JSON: [{"username", "password", "enterprise_ids": [...]}, ...]),
BENCH_LOAD_SAMPLES (where the response times by page class are written at the end).
"""

import itertools
import json
import os
import random
import re
from pathlib import Path

from locust import HttpUser, between, events, task

ACCOUNTS = json.loads(Path(os.environ["BENCH_LOAD_USERS_FILE"]).read_text(encoding="utf-8"))
_next_account = itertools.count()
THINK = [float(x) for x in os.environ.get("BENCH_LOAD_THINK", "3,15").split(",")]
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')

# page class of each request name: the goals differ (routine ≤ 1 s, statistics ≤ 2 s at p95)
CLASS = {"login": "login", "grade overview": "statistics", "grade changes": "statistics"}
samples = {"routine": [], "statistics": [], "login": []}
failures = {"routine": 0, "statistics": 0, "login": 0}


@events.request.add_listener
def _collect(name, response_time, exception, **kwargs):
    kind = CLASS.get(name, "routine")
    samples[kind].append(response_time)
    if exception is not None:
        failures[kind] += 1


@events.quitting.add_listener
def _dump(environment, **kwargs):
    path = os.environ.get("BENCH_LOAD_SAMPLES")
    if path:
        with open(path, "w", encoding="utf-8") as f:
            json.dump({"samples_ms": samples, "failures": failures}, f)


class DistrictSupervisor(HttpUser):
    wait_time = between(*THINK)

    def on_start(self):
        account = ACCOUNTS[next(_next_account) % len(ACCOUNTS)]
        self.enterprise_ids = account["enterprise_ids"]
        page = self.client.get("/accounts/login/", name="login form")
        token = CSRF.search(page.text)
        with self.client.post("/accounts/login/", name="login", catch_response=True, allow_redirects=False, data={
                "username": account["username"], "password": account["password"],
                "csrfmiddlewaretoken": token.group(1) if token else ""},
                headers={"Referer": f"{self.host}/accounts/login/"}) as response:
            if response.status_code != 302:
                response.failure(f"login answered {response.status_code}")

    def get(self, url, name):
        with self.client.get(url, name=name, catch_response=True) as response:
            # a redirect to the login page or an error page is a failure even when it renders
            if response.status_code != 200 or "/accounts/login/" in response.url:
                response.failure(f"{response.status_code} {response.url}")

    @task(3)
    def home(self):
        self.get("/", "home")

    @task(6)
    def enterprise_list(self):
        page = random.choice([1, 1, 1, 2, 3, random.randint(4, 20)])
        self.get(f"/enterprises/?page={page}", "enterprise list")

    @task(2)
    def enterprise_search(self):
        self.get(f"/enterprises/?q={random.choice(['食品', '餐饮', '超市', '有限公司', '店'])}", "enterprise search")

    @task(2)
    def enterprise_by_grade(self):
        self.get(f"/enterprises/?current_grade={random.choice('CD')}", "enterprise list by grade")

    @task(6)
    def enterprise_file(self):
        self.get(f"/enterprises/{random.choice(self.enterprise_ids)}/", "enterprise file")

    @task(2)
    def score_explanation(self):
        self.get(f"/scoring/enterprises/{random.choice(self.enterprise_ids)}/", "score explanation")

    @task(2)
    def scores(self):
        self.get("/scoring/scores/", "scores")

    @task(2)
    def inspections(self):
        self.get("/records/inspections/", "inspections")

    @task(2)
    def alerts(self):
        self.get("/alerts/", "my alerts")

    @task(2)
    def my_tasks(self):
        self.get("/supervision/tasks/mine/", "my tasks")

    @task(2)
    def grade_overview(self):
        self.get("/scoring/", "grade overview")

    @task(1)
    def grade_changes(self):
        self.get("/scoring/changes/", "grade changes")

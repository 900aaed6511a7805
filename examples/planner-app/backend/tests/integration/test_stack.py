"""Against the compose stack (ci.yml's integration job): the backend answers the health contract."""

import json
import os
import urllib.request

BASE = os.environ.get("PLANNER_URL", "http://localhost:8000")


def test_backend_health() -> None:
    with urllib.request.urlopen(f"{BASE}/api/health", timeout=5) as res:
        assert res.status == 200
        assert json.load(res)["status"] == "ok"

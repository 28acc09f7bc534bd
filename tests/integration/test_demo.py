"""`ordertrail demo`: the living marketplace a new user starts from, and the keys it hands over."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from ordertrail.bootstrap import build
from ordertrail.config import Settings
from ordertrail.entrypoints.web.app import create_app


def test_the_demo_fills_a_marketplace_and_hands_over_working_keys_for_the_walkthrough(
    tmp_path: Path, database_url: str
) -> None:
    data = tmp_path / "demo"
    result = subprocess.run(
        [sys.executable, "-m", "ordertrail.entrypoints.cli", "demo", "--seconds-per-hop", "1"],
        env={**os.environ, "ORDERTRAIL_DATA_DIR": str(data), "ORDERTRAIL_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    printed = dict(
        line.strip().split(": API key ") for line in result.stdout.splitlines() if ": API key " in line
    )
    assert {who.split()[0] for who in printed} == {"buyer", "seller", "support", "carrier", "admin"}

    keys_file = data / "demo-keys.env"
    assert f". {keys_file}" in result.stdout
    assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600  # API keys: for their owner only
    keys = dict(line.split("=", 1) for line in keys_file.read_text().splitlines())
    assert keys["ADMIN"] == printed["admin   Demo Admin"]

    container = build(Settings(data_dir=data, database_url=database_url))
    try:
        with TestClient(create_app(container)) as http:
            admin = {"Authorization": f"Bearer {keys['ADMIN']}"}
            made = http.post("/v1/users", headers=admin, json={"role": "seller", "name": "Lumen Lamps"})
            assert made.status_code == 201  # the walkthrough's first step works with $ADMIN
            buyer = {"Authorization": f"Bearer {keys['DEMO_BUYER_KEY']}"}
            orders = http.get("/v1/orders", headers=buyer).json()["items"]
            assert orders and any(o["shipments"] for o in orders)  # parcels on their way
            moved = [s for o in orders for s in o["shipments"] if s["status"] != "pending"]
            assert moved  # the simulator has scanned some of them
            # The buyer and the seller whose keys are printed deal with each other.
            seller = {"Authorization": f"Bearer {keys['DEMO_SELLER_KEY']}"}
            theirs = {o["id"] for o in http.get("/v1/orders", headers=seller).json()["items"]}
            assert theirs & {o["id"] for o in orders}
            # Orders come before their parcels' scans (they were once placed after them).
            for o in orders:
                scans = [
                    e["occurred_at"]
                    for s in http.get(f"/v1/orders/{o['id']}/tracking", headers=buyer).json()["shipments"]
                    for e in s["events"]
                ]
                assert all(o["placed_at"] < at for at in scans), (o["placed_at"], scans)
    finally:
        container.close()


def test_the_demo_runs_again_on_its_own_data_with_new_keys(tmp_path: Path, database_url: str) -> None:
    """`make run` a second time (after Ctrl-C) used to end in a traceback: the demo's users existed."""
    data = tmp_path / "demo"
    env = {**os.environ, "ORDERTRAIL_DATA_DIR": str(data), "ORDERTRAIL_DATABASE_URL": database_url}
    runs = []
    for _ in range(2):
        result = subprocess.run(
            [sys.executable, "-m", "ordertrail.entrypoints.cli", "demo", "--seconds-per-hop", "1"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        runs.append(dict(line.split("=", 1) for line in (data / "demo-keys.env").read_text().splitlines()))
    assert "The demo ran here before" in result.stderr and "Traceback" not in result.stderr
    first, second = runs
    assert set(first) == set(second) and all(first[k] != second[k] for k in first)  # every key is new
    container = build(Settings(data_dir=data, database_url=database_url))
    try:
        with TestClient(create_app(container)) as http:
            old = http.get("/v1/orders", headers={"Authorization": f"Bearer {first['DEMO_BUYER_KEY']}"})
            new = http.get("/v1/orders", headers={"Authorization": f"Bearer {second['DEMO_BUYER_KEY']}"})
            assert old.status_code == 401 and new.status_code == 200
            assert len(new.json()["items"]) > 3  # the same buyer, with the orders of both runs
    finally:
        container.close()


def test_the_served_demos_links_point_where_it_listens(tmp_path: Path, database_url: str) -> None:
    """Without a configured public URL, tracking links followed the default port 8000, dead when the
    demo served on another one (`make run PORT=8080`)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = tmp_path / "demo"
    env = {**os.environ, "ORDERTRAIL_DATA_DIR": str(data), "ORDERTRAIL_DATABASE_URL": database_url}
    env.pop("ORDERTRAIL_BASE_URL", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "ordertrail.entrypoints.cli", "demo", "--serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, "the demo did not start"
            time.sleep(0.3)
        keys = dict(line.split("=", 1) for line in (data / "demo-keys.env").read_text().splitlines())
        orders = httpx.get(
            f"{base}/v1/orders", headers={"Authorization": f"Bearer {keys['DEMO_BUYER_KEY']}"}
        ).json()["items"]
        urls = [s["tracking_url"] for o in orders for s in o["shipments"]]
        assert urls and all(u.startswith(f"{base}/track/SIM") for u in urls)
        assert httpx.get(urls[0]).status_code == 200  # the link works
    finally:
        server.terminate()
        server.wait(timeout=30)

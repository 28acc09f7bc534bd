"""Evidence files on cases: sniffed types, the size limit, safe re-serving, and who may see them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import FixedClock, Party
from tests.e2e.conftest import Api
from tests.e2e.test_cases_api import delivered_order, kinds, opened, steps

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 100
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
LIMIT = 10 * 1024 * 1024


def upload(api: Api, party: Party, case_id: str, name: str, data: bytes, declared: str) -> Any:
    return api.client.post(
        f"/v1/cases/{case_id}/attachments", files={"file": (name, data, declared)}, headers=party.auth
    )


def stored_files(api: Api) -> list[Path]:
    root = api.container.settings.data_dir / "evidence"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def a_case(api: Api, buyer: Party, seller: Party, clock: FixedClock) -> dict[str, Any]:
    return opened(api, buyer, delivered_order(api, buyer, seller, clock)["id"])


def test_evidence_is_typed_by_its_bytes_and_served_back_as_a_download(
    api: Api, buyer: Party, seller: Party, clock: FixedClock
) -> None:
    case = a_case(api, buyer, seller, clock)
    r = upload(api, buyer, case["id"], "../../crack <script>.html", PNG, "text/html")
    assert r.status_code == 201, r.text
    meta = r.json()
    assert meta["content_type"] == "image/png" and meta["size"] == len(PNG)
    assert meta["filename"] == "crack _script.png"
    clock.advance(minutes=1)
    assert upload(api, seller, case["id"], "invoice.pdf", PDF, "application/pdf").status_code == 201
    clock.advance(minutes=1)
    assert (
        upload(api, buyer, case["id"], "box.jpeg", JPEG, "image/jpeg").json()["content_type"] == "image/jpeg"
    )

    got = api.client.get(meta["url"], headers=seller.auth)
    assert got.status_code == 200 and got.content == PNG
    assert got.headers["content-type"] == "image/png"
    assert got.headers["content-disposition"].startswith("attachment;")
    assert "crack%20_script.png" in got.headers["content-disposition"]
    assert got.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in got.headers["content-security-policy"]
    support = api.user("support", "Sam")
    assert api.client.get(meta["url"], headers=support.auth).content == PNG

    view = api.client.get(f"/v1/cases/{case['id']}", headers=buyer.auth).json()
    assert [a["content_type"] for a in view["attachments"]] == ["image/png", "application/pdf", "image/jpeg"]
    assert steps(view)[1:] == [("attachment", "buyer"), ("attachment", "seller"), ("attachment", "buyer")]
    assert "case_updated" in kinds(api, seller)


def test_a_file_that_is_not_jpeg_png_or_pdf_is_refused_with_415_whatever_it_claims(
    api: Api, buyer: Party, seller: Party, clock: FixedClock
) -> None:
    case = a_case(api, buyer, seller, clock)
    for name, data, declared in [
        ("photo.jpg", b"<html><script>alert(1)</script></html>", "image/jpeg"),
        ("photo.png", b"GIF89a" + b"\x00" * 50, "image/png"),
        ("empty.pdf", b"", "application/pdf"),
    ]:
        r = upload(api, buyer, case["id"], name, data, declared)
        assert r.status_code == 415, (name, r.text)
        assert r.headers["content-type"] == "application/problem+json"
    assert api.client.get(f"/v1/cases/{case['id']}", headers=buyer.auth).json()["attachments"] == []
    assert stored_files(api) == []


def test_a_file_over_10_mb_is_refused_with_413_and_nothing_is_kept(
    api: Api, buyer: Party, seller: Party, clock: FixedClock
) -> None:
    case = a_case(api, buyer, seller, clock)
    exactly = JPEG + b"\x00" * (LIMIT - len(JPEG))
    assert upload(api, buyer, case["id"], "big.jpg", exactly, "image/jpeg").status_code == 201
    r = upload(api, buyer, case["id"], "huge.jpg", exactly + b"\x00", "image/jpeg")
    assert r.status_code == 413 and "10 MB" in r.json()["detail"]

    def chunked() -> Any:  # no Content-Length: the limit is found while streaming
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="x.jpg"\r\n\r\n' + JPEG
        for _ in range(11):
            yield b"\x00" * (1024 * 1024)
        yield b"\r\n--b--\r\n"

    r = api.client.post(
        f"/v1/cases/{case['id']}/attachments",
        content=chunked(),
        headers={**buyer.auth, "content-type": "multipart/form-data; boundary=b"},
    )
    assert r.status_code == 413, r.text
    assert len(api.client.get(f"/v1/cases/{case['id']}", headers=buyer.auth).json()["attachments"]) == 1
    assert len(stored_files(api)) == 1


def test_evidence_is_404_for_outsiders_and_needs_a_multipart_file_part(
    api: Api, buyer: Party, seller: Party, clock: FixedClock
) -> None:
    case = a_case(api, buyer, seller, clock)
    meta = upload(api, buyer, case["id"], "p.png", PNG, "image/png").json()
    for outsider in (api.user("buyer", "Stranger"), api.user("seller", "Rival")):
        assert upload(api, outsider, case["id"], "p.png", PNG, "image/png").status_code == 404
        assert api.client.get(meta["url"], headers=outsider.auth).status_code == 404
    carrier = api.user("carrier", "Feed")  # not a role cases are for: 403, whoever's case it is
    assert upload(api, carrier, case["id"], "p.png", PNG, "image/png").status_code == 403
    assert api.client.get(meta["url"], headers=carrier.auth).status_code == 403
    assert (
        api.client.get(f"/v1/cases/{case['id']}/attachments/att_nope", headers=buyer.auth).status_code == 404
    )
    json_body = api.client.post(f"/v1/cases/{case['id']}/attachments", json={"file": "x"}, headers=buyer.auth)
    assert json_body.status_code == 415
    no_file = api.client.post(
        f"/v1/cases/{case['id']}/attachments",
        files={"photo": ("p.png", PNG, "image/png")},
        headers=buyer.auth,
    )
    assert no_file.status_code == 422 and no_file.json()["errors"][0]["field"] == "file"
    assert len(stored_files(api)) == 1


def test_a_closed_case_takes_no_more_evidence(
    api: Api, buyer: Party, seller: Party, clock: FixedClock
) -> None:
    case = a_case(api, buyer, seller, clock)
    api.client.post(f"/v1/cases/{case['id']}/withdraw", headers=buyer.auth)
    r = upload(api, buyer, case["id"], "p.png", PNG, "image/png")
    assert r.status_code == 409 and r.json()["code"] == "case_closed"
    assert stored_files(api) == []

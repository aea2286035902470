"""What a photo job writes stays within the engine's byte budgets whatever the names in a ZIP:
the plan's jobs/{id}/kind/photo_skipped (clipped entries, a bounded list with a count of what
it left out, an expire_at) and the job's result (bounded outputs and skipped lists, never
without archive_path), without the stack."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest

from mediajobs import cloud
from mediajobs.contract.results import PhotoResult
from mediajobs.jobs import store
from mediajobs.jobs.kinds import ItemRecord, Summary
from mediajobs.jobs.models import (
    MAX_LABEL_BYTES,
    MAX_MESSAGE_BYTES,
    MAX_RESULT_BYTES,
    ItemStatus,
    Job,
    json_bytes,
)
from mediajobs.photos import bounds, kind
from mediajobs.photos.kind import PhotoBatchJob, PhotoInput, PhotoOptions

FIRESTORE_MAX_DOCUMENT = 1024 * 1024
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)


class FakeBlob:
    def __init__(self, bucket: FakeBucket, path: str) -> None:
        self.bucket, self.path = bucket, path

    @property
    def size(self) -> int:
        return len(self.bucket.objects[self.path])

    def download_as_bytes(self, start: int = 0, end: int | None = None) -> bytes:
        data = self.bucket.objects[self.path]
        return data[start : (end + 1 if end is not None else None)]

    def open(self, mode: str, chunk_size: int = 0) -> io.BytesIO:
        return io.BytesIO(self.bucket.objects[self.path])

    def upload_from_string(self, data: bytes, **_: Any) -> None:
        self.bucket.objects[self.path] = data


class FakeBucket:
    def __init__(self, objects: dict[str, bytes]) -> None:
        self.objects = dict(objects)

    def get_blob(self, path: str) -> FakeBlob | None:
        return FakeBlob(self, path) if path in self.objects else None

    def blob(self, path: str) -> FakeBlob:
        return FakeBlob(self, path)


def hostile_zip(names: int, name_bytes: int, images: int = 2) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for index in range(images):
            archive.writestr(f"photo-{index}.png", PNG)
        for index in range(names):
            archive.writestr(f"{index:03d}-" + "n" * name_bytes + ".txt", b"not an image")
    return buffer.getvalue()


def plan_of(zip_data: bytes) -> tuple[list[Any], dict[str, Any]]:
    """The items a plan yields for one uploaded ZIP, and the photo_skipped document it writes."""
    path = "users/u1/in/names.zip"
    bucket = FakeBucket({path: zip_data})
    written: dict[str, Any] = {}
    kind_doc = mock.MagicMock()
    kind_doc.set.side_effect = written.update
    job = Job(id="job-1", type="photo_batch", input={"paths": [path]})
    with (
        mock.patch.object(cloud, "bucket", return_value=bucket),
        mock.patch.object(store, "kind_ref", return_value=kind_doc),
    ):
        specs = list(PhotoBatchJob().plan(job, PhotoInput(paths=[path]), PhotoOptions(remove_bg=False, crop_face=True)))
    return specs, written


def test_a_plan_of_entries_with_15_kb_names_writes_a_bounded_photo_skipped() -> None:
    specs, doc = plan_of(hostile_zip(36, 15_000))
    assert len(specs) == 2  # the two images are planned
    assert json_bytes(doc) < bounds.MAX_SKIPPED_BYTES + 4096 < FIRESTORE_MAX_DOCUMENT  # it was 1.08 MB
    assert doc["count"] == 36
    assert len(doc["skipped"]) + doc["omitted"] == 36 and doc["skipped"]
    for entry in doc["skipped"]:
        assert entry["reason"] == "not-an-image" and entry["source"] == "users/u1/in/names.zip"
        assert len(entry["entry"].encode()) <= MAX_LABEL_BYTES and entry["entry"].endswith("\u2026")
        assert len(entry["message"].encode()) <= MAX_MESSAGE_BYTES and entry["message"].endswith("not an image file.")
    assert doc["expire_at"] > store.now()  # every document under a job carries its own TTL


def test_a_plan_lists_what_fits_and_counts_what_it_left_out() -> None:
    _, doc = plan_of(hostile_zip(400, 4_000, images=0))
    assert json_bytes(doc["skipped"]) <= bounds.MAX_SKIPPED_BYTES
    assert doc["count"] == 400 and doc["omitted"] > 0
    assert len(doc["skipped"]) + doc["omitted"] == 400
    assert [e["entry"][:4] for e in doc["skipped"]] == [f"{i:03d}-" for i in range(len(doc["skipped"]))]  # the first


def test_item_labels_and_names_from_a_zip_are_clipped() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("p" * 20_000 + ".png", PNG)
    specs, _ = plan_of(buffer.getvalue())
    (spec,) = specs
    assert len(spec.label.encode()) <= MAX_LABEL_BYTES
    assert len(spec.payload["name"].encode()) <= MAX_LABEL_BYTES
    assert len(spec.payload["output_stem"]) <= 200


def finalize(done: int, output_name_bytes: int, skipped_doc: dict[str, Any]) -> dict[str, Any]:
    """The result of a job of `done` processed images with long output names."""
    job = Job(id="job-1", type="photo_batch")

    def items() -> Iterator[ItemRecord]:
        for index in range(done):
            path = f"jobs/job-1/outputs/{index:04d}-{'o' * output_name_bytes}.png"
            result = {"output_path": path, "size": 10, "crc32": 1, "zip_part": None}
            yield ItemRecord(id=f"img-{index:05d}", label="x", status=ItemStatus.DONE, result=result, error=None)

    kind_doc = mock.MagicMock()
    kind_doc.get.return_value.to_dict.return_value = skipped_doc
    with (
        mock.patch.object(cloud, "bucket", return_value=FakeBucket({})),
        mock.patch.object(store, "kind_ref", return_value=kind_doc),
        mock.patch.object(kind, "compose_zip") as compose,
    ):
        outcome = PhotoBatchJob().finalize(job, Summary(done, done, 0, 0, items))
    assert len(compose.call_args.args[1]) == done  # results.zip holds every output
    assert outcome.error is None
    return outcome.result


def legacy_skipped(entries: int, name_bytes: int) -> dict[str, Any]:
    """photo_skipped as an earlier plan wrote it: 500 entries at most, unclipped."""
    name = "n" * name_bytes
    skipped = [
        {
            "source": "users/u1/a.zip",
            "entry": name,
            "reason": "not-an-image",
            "message": f"{name} is not an image file.",
        }
    ]
    return {"skipped": skipped * min(entries, 500), "count": entries}


@pytest.mark.parametrize(
    ("done", "output_name_bytes", "skipped_doc"),
    [
        (2000, 180, legacy_skipped(500, 4_000)),  # every list at its worst
        (2000, 40, {"skipped": [], "count": 0}),  # many outputs alone
        (2, 10, legacy_skipped(500, 4_000)),  # 4 KB names: the result once passed 256 KiB
        (2, 10, bounds.SkippedLog().record()),
    ],
)
def test_a_result_fits_well_under_the_engines_budget_and_keeps_its_archive(
    done: int, output_name_bytes: int, skipped_doc: dict[str, Any]
) -> None:
    result = finalize(done, output_name_bytes, skipped_doc)
    assert json_bytes(result) <= bounds.MAX_RESULT_BUDGET < MAX_RESULT_BYTES * 3 // 4
    assert result["archive_path"] == "jobs/job-1/results.zip"
    assert result["succeeded"] == done
    assert len(result["outputs"]) + result["outputs_omitted"] == done and result["outputs"]
    assert result["outputs"][0].startswith("jobs/job-1/outputs/0000-")  # the first ones, in order
    assert result["skipped_count"] == skipped_doc["count"]
    assert len(result["skipped"]) + result["skipped_omitted"] == skipped_doc["count"]
    for entry in result["skipped"]:
        assert len(entry["entry"].encode()) <= MAX_LABEL_BYTES
        assert len(entry["message"].encode()) <= MAX_MESSAGE_BYTES
    PhotoResult.model_validate(result)  # the contract's shape


def test_a_small_job_lists_everything() -> None:
    _, doc = plan_of(hostile_zip(3, 10))
    result = finalize(2, 10, doc)
    assert result["outputs_omitted"] == 0 and len(result["outputs"]) == 2
    assert result["skipped_count"] == 3 and result["skipped_omitted"] == 0 and len(result["skipped"]) == 3


def test_a_bounded_list_keeps_the_first_values_that_fit_and_counts_the_rest() -> None:
    kept = bounds.bounded(["a" * 10, "b" * 10, "d" * 10, "c" * 2], max_bytes=2 + 14 * 2 + 6)
    assert kept.kept == ["a" * 10, "b" * 10] and kept.omitted == 2 and kept.total == 4  # "cc" would fit: not kept
    by_count = bounds.bounded(range(10), max_bytes=1000, max_count=3)
    assert by_count.kept == [0, 1, 2] and by_count.omitted == 7
    assert bounds.bounded([], max_bytes=2).total == 0

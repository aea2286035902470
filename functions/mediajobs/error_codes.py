"""The catalogue of every error code a client can read: where it appears, when, whether to retry.

contract/CONTRACT.md's error tables are generated from it (`make contract`), `CodedError` refuses
a code it does not list, and tests/unit/test_error_catalogue.py fails when any raise site in
functions/ names a code outside it. Adding a code means adding its row here.

Scopes: `callable` (a callable's or the upload endpoint's error), `job` (the job's `error.code`),
`item` (an item's `error.code`, also in the job's `errors[]`), `file` (an export's per-file
`file_errors[].code`), `skip` (a photo ZIP entry left out, `skipped[].reason`), `warning`.
"""

from __future__ import annotations

import dataclasses
import enum


class Scope(enum.StrEnum):
    CALLABLE = "callable"
    JOB = "job"
    ITEM = "item"
    FILE = "file"
    SKIP = "skip"
    WARNING = "warning"


@dataclasses.dataclass(frozen=True)
class ErrorCode:
    scope: Scope
    code: str
    when: str
    retryable: bool = False  # the same request may succeed later, unchanged
    kinds: str = ""  # which job kinds or callables raise it ("" : any)
    action: str = ""  # what a client should do


C, J, IT, F, S, W = Scope.CALLABLE, Scope.JOB, Scope.ITEM, Scope.FILE, Scope.SKIP, Scope.WARNING
E = ErrorCode

CATALOGUE: tuple[ErrorCode, ...] = (
    # ---------------------------------------------------------------- callables and /upload
    E(C, "unauthenticated", "no signed-in user (no or a bad Firebase ID token)", action="sign in"),
    E(C, "invalid-argument", "the request does not match its schema: unknown keys, a value out of range, "
      "nothing to change; the message names the field", action="fix the request"),
    E(C, "permission-denied", "the caller may not do this (admin-only type, someone else's files, "
      "a path no one downloads, selftest disabled)", action="ask as the owner or an admin"),
    E(C, "not-found", "the project, scene, job, video or object does not exist, or is not the caller's "
      "(both answer alike)", action="check the id"),
    E(C, "failed-precondition", "the target is not in a state that allows it: a scene with an active job, "
      "a project without scenes, a video not ready, a background model not installed",
      action="wait, cancel the other job, or change the request as the message says"),
    E(C, "resource-exhausted", "a limit: active jobs per user, a list over its limit, the daily "
      "generation budget", retryable=True, action="wait for jobs to end or for the next UTC day"),
    E(C, "aborted", "too many starts at once (a contended transaction)", retryable=True, action="retry"),
    E(C, "internal", "an unexpected failure; `details.incident_id` names the log entry", retryable=True,
      action="retry; quote the incident id if it persists"),
    E(C, "too-large", "(upload) the request is over `UPLOAD_MAX_MB`; HTTP 413", kinds="upload",
      action="send fewer or smaller files"),
    E(C, "method-not-allowed", "(upload) not POST; HTTP 405", kinds="upload", action="POST multipart/form-data"),
    # ---------------------------------------------------------------- a job as a whole
    E(J, "all-items-failed", "every item failed; see `errors`", action="fix the inputs named in `errors`"),
    E(J, "nothing-exported", "no user of an export could be archived", kinds="media_export",
      action="fix the data named in `errors`"),
    E(J, "deadline-exceeded", "no progress for 15 minutes; the sweeper ended the job, keeping partial results",
      retryable=True, action="start it again"),
    E(J, "invalid-argument", "a job written directly with a bad type, owner, input or options",
      action="fix the document's fields"),
    E(J, "resource-exhausted", "a job written directly with a list over its limit; a storyboard of too many scenes",
      action="split the work"),
    E(J, "failed-precondition", "the job cannot be planned as asked (a storyboard of a project without scenes)",
      kinds="storyboard_assets", action="add scenes first"),
    E(J, "not-found", "`resume_from` is not a media export (or is gone)", kinds="media_export",
      action="check `resume_from`"),
    E(J, "unavailable", "the job could not be scheduled", retryable=True, action="start it again later"),
    E(J, "internal", "an unexpected failure; `incident_id` names the log entry", retryable=True,
      action="report it with the job id and incident id"),
    E(J, "failed", "a scene asset failed without an item error", kinds="scene_asset", retryable=True,
      action="retry"),
    E(J, "video-deleted", "the library video was deleted while the job made it", kinds="video_process",
      action="nothing"),
    E(J, "input-missing", "the input object is not in Storage", kinds="video_process",
      action="upload the file again, then start a new job"),
    E(J, "source-changed", "the video was overwritten at its path after the job started", kinds="video_process",
      action="start a new job for the new video"),
    E(J, "too-large", "the video is over `VIDEO_MAX_MB`", kinds="video_process", action="send a smaller file"),
    E(J, "too-long", "the video lasts longer than `VIDEO_MAX_SECONDS` (or than one task can encode)",
      kinds="video_process", action="trim the video"),
    E(J, "too-many-entries", "a ZIP input has over 1000 entries (found at planning)", kinds="photo_batch",
      action="split the archive"),
    # ---------------------------------------------------------------- one item
    E(IT, "input-missing", "the input object is not (or no longer) in Storage", kinds="photo_batch, video_process",
      action="upload the file again, then start a new job"),
    E(IT, "source-changed", "the video was replaced at its path after the job started", kinds="video_process",
      action="start a new job for the new video"),
    E(IT, "too-large", "the input is over the size limit (photos 200 MB per input)", kinds="photo_batch",
      action="send a smaller file"),
    E(IT, "not-a-video", "the file has no readable video stream", kinds="video_process", action="send a video file"),
    E(IT, "corrupt-video", "truncated or damaged video (no duration, no frames, no `moov` atom)",
      kinds="video_process", action="re-export or re-upload the original"),
    E(IT, "transcode-failed", "ffmpeg could not encode a rendition", kinds="video_process",
      action="try other renditions; report it with the job id"),
    E(IT, "thumbnail-failed", "no frame could be taken for a thumbnail, or the preview sprite could not be drawn",
      kinds="video_process", action="start again with `thumbnails: 0, previews: false`"),
    E(IT, "video-deleted", "its owner deleted the library video while the job made it", kinds="video_process",
      action="nothing"),
    E(IT, "empty-file", "the image is 0 bytes", kinds="photo_batch", action="re-upload the image"),
    E(IT, "unsupported-format", "not an image format we read (JPEG, PNG, GIF, BMP, TIFF, WebP, HEIC, AVIF)",
      kinds="photo_batch", action="convert the image to JPEG or PNG"),
    E(IT, "truncated-image", "the image is cut short or damaged", kinds="photo_batch", action="re-upload the original"),
    E(IT, "corrupt-image", "the image cannot be decoded", kinds="photo_batch", action="re-export the image"),
    E(IT, "decompression-bomb", "the image declares more than 40 megapixels", kinds="photo_batch",
      action="downscale the image"),
    E(IT, "model-unavailable", "the background model is not installed on the worker", kinds="photo_batch",
      action="use an installed model (start_job refuses others with failed-precondition)"),
    E(IT, "encode-failed", "the result could not be encoded", kinds="photo_batch",
      action='try `output_format: "png"`'),
    E(IT, "background-missing", "the `bg` image is not (or no longer) in Storage", kinds="photo_batch",
      action="upload the background again"),
    E(IT, "background-too-large", "the `bg` image is over 25 MB or 40 MP", kinds="photo_batch",
      action="send a smaller background"),
    E(IT, "corrupt-archive", "a ZIP input is not a readable archive", kinds="photo_batch", action="re-create the ZIP"),
    E(IT, "encrypted-archive", "a ZIP input is password-protected", kinds="photo_batch",
      action="upload it without a password"),
    E(IT, "too-many-entries", "a ZIP input has too many entries or too long names", kinds="photo_batch",
      action="split the archive"),
    E(IT, "zip-bomb", "a ZIP input expands too much (in total or by ratio)", kinds="photo_batch",
      action="send the images themselves"),
    E(IT, "user-not-found", "`email_users/{user_id}` does not exist", kinds="media_export", action="check the user id"),
    E(IT, "missing-email", "the user has no valid email to name the archive", kinds="media_export",
      action="fix the user's `email`"),
    E(IT, "no-readable-files", "none of the user's files could be archived (the message lists the first "
      "per-file errors)", kinds="media_export", action="fix the data and export again with `resume_from`"),
    E(IT, "not-found", "the project or scene was deleted while the job ran",
      kinds="scene_asset, mood_board, storyboard_assets", action="nothing: the work is gone with it"),
    E(IT, "provider-timeout", "the provider did not finish within `REPLICATE_TIMEOUT_SECONDS` (cancelled)",
      retryable=True, kinds="scene_asset, mood_board, storyboard_assets", action="retry later"),
    E(IT, "provider-failed", "the provider reported a failed prediction (or local generation failed)",
      retryable=True, kinds="scene_asset, mood_board, storyboard_assets", action="retry; change the scene text"),
    E(IT, "provider-canceled", "the prediction was cancelled on the provider's side", retryable=True,
      kinds="scene_asset, mood_board, storyboard_assets", action="retry"),
    E(IT, "provider-rejected", "the provider refused the request (4xx other than 429: model, input or token)",
      kinds="scene_asset, mood_board, storyboard_assets", action="an operator must fix the configuration"),
    E(IT, "provider-unavailable", "the provider or its output URL stayed unreachable or overloaded", retryable=True,
      kinds="scene_asset, mood_board, storyboard_assets", action="retry later"),
    E(IT, "provider-bad-output", "the provider returned nothing usable (wrong type, too big, invalid media)",
      retryable=True, kinds="scene_asset, mood_board, storyboard_assets", action="retry; report it if it persists"),
    E(IT, "invalid-argument", "an asset kind the provider does not know", kinds="scene_asset",
      action="use one of the four kinds"),
    E(IT, "permission-denied", "a data export's item names another user than the job's owner (never expected: "
      "a guard)", kinds="my_data", action="report it with the job id"),
    E(IT, "rejected", "the item was asked to be rejected", kinds="selftest", action="(tests only)"),
    E(IT, "no-space", "the worker's temporary disk filled up", retryable=True,
      action="retry later with a smaller input or fewer renditions"),
    E(IT, "unavailable", "Storage or a provider kept failing through every retry", retryable=True,
      action="retry later"),
    E(IT, "too-many-attempts", "the worker died or timed out on every attempt (crash, memory, time limit)",
      action="send a smaller input; report it with the job id"),
    E(IT, "internal", "an unexpected error; `incident_id` names the log entry", retryable=True,
      action="report it with the job id and the incident id"),
    # ---------------------------------------------------------------- an export's per-file errors
    E(F, "invalid-id-list", "`imageIds`/`voiceIds` is not a list", kinds="media_export",
      action="fix the user document"),
    E(F, "invalid-id", "an id in the list is not a valid document id", kinds="media_export",
      action="fix the user document"),
    E(F, "duplicate-id", "an id is listed more than once (archived once)", kinds="media_export",
      action="remove the duplicate"),
    E(F, "too-many-ids", "a list holds more than 10000 ids (the rest are left out)", kinds="media_export",
      action="split the user's media"),
    E(F, "metadata-not-found", "`images/{id}` or `voices/{id}` does not exist", kinds="media_export",
      action="fix the id list"),
    E(F, "invalid-storage-path", "the metadata has no storage path, or an invalid one", kinds="media_export",
      action="fix `storage_path`"),
    E(F, "unsupported-url", "the location is a URL but not a Firebase Storage download URL", kinds="media_export",
      action="store a path or gs:// URL"),
    E(F, "foreign-bucket", "the location is in another bucket than the default one", kinds="media_export",
      action="copy the object into the default bucket"),
    E(F, "object-missing", "the object is not in Storage (deleted while the job ran, for my_data)",
      kinds="media_export, my_data", action="upload it again"),
    E(F, "object-unreadable", "the object could not be read", retryable=True, kinds="media_export",
      action="export again with `resume_from`"),
    E(F, "empty-file", "the object is 0 bytes", kinds="media_export, my_data", action="upload it again"),
    # ---------------------------------------------------------------- photo ZIP entries left out
    E(S, "hidden-file", "a hidden or system file (`.DS_Store`, `__MACOSX/`)", kinds="photo_batch"),
    E(S, "nested-archive", "an archive inside the archive", kinds="photo_batch"),
    E(S, "not-an-image", "not an image file", kinds="photo_batch"),
    E(S, "too-large", "an entry over the per-image limit", kinds="photo_batch"),
    E(S, "corrupt-entry", "an entry that cannot be read or has no usable name", kinds="photo_batch"),
    E(S, "too-many-images", "over 2000 images in the job", kinds="photo_batch"),
    # ---------------------------------------------------------------- warnings (the item still succeeds)
    E(W, "size-mismatch", "the metadata's `size` differs from the bytes archived", kinds="media_export"),
    E(W, "flattened-on-white", "an image's alpha was flattened on white for JPEG", kinds="photo_batch"),
)  # fmt: skip

ALL_CODES: frozenset[str] = frozenset(entry.code for entry in CATALOGUE)


def in_scope(scope: Scope) -> list[ErrorCode]:
    return [entry for entry in CATALOGUE if entry.scope is scope]


def codes(*scopes: Scope) -> frozenset[str]:
    return frozenset(entry.code for entry in CATALOGUE if entry.scope in scopes)


def checked(code: str, *scopes: Scope) -> str:
    """`code` if the catalogue lists it (in one of `scopes`, or anywhere); else ValueError: a code
    the contract does not list is a bug, never a message to a client."""
    allowed = codes(*scopes) if scopes else ALL_CODES
    if code not in allowed:
        where = ", ".join(scopes) or "any scope"
        raise ValueError(f"error code {code!r} is not in the catalogue ({where}): add it to mediajobs/error_codes.py")
    return code

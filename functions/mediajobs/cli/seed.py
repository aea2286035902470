"""Sample data for the demo and benchmarks: users with real photos and voice clips.

Photos come from scikit-image's bundled samples; voice clips are generated WAV tones.
Dev-only dependencies (scikit-image, Pillow, numpy) are imported here, never by functions.
"""

from __future__ import annotations

import io
import math

from mediajobs import cloud

PHOTOS = ("astronaut", "coffee", "chelsea", "camera")


def photo_jpeg(name: str) -> bytes:
    from PIL import Image
    from skimage import data

    buffer = io.BytesIO()
    Image.fromarray(getattr(data, name)()).convert("RGB").save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def voice_wav(seconds: float, pitch_hz: float, rate: int = 16_000) -> bytes:
    """A mono 16-bit WAV: a tone with a slow tremolo, like a short voice memo."""
    from mediajobs.scenes.providers.local import mono_wav

    def sample(n: int) -> float:
        t = n / rate
        return 0.4 * math.sin(2 * math.pi * pitch_hz * t) * (0.6 + 0.4 * math.sin(2 * math.pi * 3 * t))

    return mono_wav(map(sample, range(int(seconds * rate))), rate)


def seed_demo_users(count: int = 5, prefix: str = "demo") -> list[str]:
    """Creates `count` users in email_users with photos and voice clips; returns their ids."""
    db, bucket = cloud.db(), cloud.bucket()
    photos = {name: photo_jpeg(name) for name in PHOTOS}
    user_ids = []
    for index in range(count):
        user_id = f"{prefix}-user-{index}"
        image_ids, voice_ids = [], []
        for k, name in enumerate(PHOTOS[: 1 + index % len(PHOTOS)]):
            file_id = f"{user_id}-img-{k}"
            path = f"users/{user_id}/images/{file_id}.jpg"
            bucket.blob(path).upload_from_string(photos[name], content_type="image/jpeg")
            db.collection("images").document(file_id).set(
                {
                    "storage_path": path,
                    "filename": f"{name}.jpg",
                    "content_type": "image/jpeg",
                    "size": len(photos[name]),
                    "email": f"{user_id}@example.com",
                }
            )
            image_ids.append(file_id)
        for k in range(1 + index % 2):
            file_id = f"{user_id}-voice-{k}"
            clip = voice_wav(1.5 + k, pitch_hz=180 + 40 * index)
            path = f"users/{user_id}/voices/{file_id}.wav"
            bucket.blob(path).upload_from_string(clip, content_type="audio/wav")
            db.collection("voices").document(file_id).set(
                {
                    "storage_path": path,
                    "filename": f"memo-{k + 1}.wav",
                    "content_type": "audio/wav",
                    "size": len(clip),
                    "email": f"{user_id}@example.com",
                }
            )
            voice_ids.append(file_id)
        db.collection("email_users").document(user_id).set(
            {"email": f"{user_id}@example.com", "imageIds": image_ids, "voiceIds": voice_ids}
        )
        user_ids.append(user_id)
    return user_ids

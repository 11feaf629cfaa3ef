"""FFmpeg's own WHIP muxer (libavformat 62, through PyAV) as a publisher, in its own process:
libavformat blocks on its sockets holding the GIL.

    python -m tests.interop.whip_publisher_testing URL TOKEN SECONDS [KEYINT] [WIDTHxHEIGHT]

H.264 (libx264 baseline, no B-frames, a keyframe every KEYINT frames at 30 fps) and Opus, in
real time. PyAV's FFmpeg does its DTLS with GnuTLS, whose generated certificate is on the
P-224 curve, which OpenSSL (aiortc's DTLS) refuses; the muxer's ``cert_file``/``key_file``
give it a P-256 one, the curve every browser uses.
"""

from __future__ import annotations

import datetime
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

FPS = 30
SAMPLES = 960
"""20 ms Opus frames at 48 kHz."""


def write_certificate(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "whip-publisher")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=7)).sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def _picture(width: int, height: int, index: int) -> av.VideoFrame:
    """A bar that moves one step a frame, so every picture differs."""
    frame = av.VideoFrame(width, height, "yuv420p")
    luma = bytearray(b"\x10" * (width * height))
    left = (index * 8) % max(1, width - 32)
    for row in range(height):
        luma[row * width + left:row * width + left + 32] = b"\xeb" * 32
    frame.planes[0].update(bytes(luma))
    frame.pts = index
    frame.time_base = Fraction(1, FPS)
    return frame


def publish(url: str, token: str, seconds: float, keyint: int, width: int, height: int
            ) -> None:
    with tempfile.TemporaryDirectory() as folder:
        cert, key = write_certificate(Path(folder))
        out = av.open(url, "w", format="whip", options={
            "authorization": token, "cert_file": str(cert), "key_file": str(key)})
        video = out.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.codec_context.options = {
            "preset": "ultrafast", "tune": "zerolatency", "profile": "baseline",
            "x264-params": f"keyint={keyint}:min-keyint={keyint}:scenecut=0:bframes=0"}
        audio = out.add_stream("libopus", rate=48000)
        audio.layout = "stereo"
        start = time.monotonic()
        index = audio_index = 0
        while index < seconds * FPS:
            for packet in video.encode(_picture(width, height, index)):
                out.mux(packet)
            while audio_index * SAMPLES < (index + 1) * 48000 // FPS:
                sound = av.AudioFrame(format="s16", layout="stereo", samples=SAMPLES)
                sound.planes[0].update(bytes(SAMPLES * 4))
                sound.sample_rate = 48000
                sound.pts = audio_index * SAMPLES
                sound.time_base = Fraction(1, 48000)
                for packet in audio.encode(sound):
                    out.mux(packet)
                audio_index += 1
            index += 1
            time.sleep(max(0.0, start + index / FPS - time.monotonic()))
        out.close()  # sends the WHIP DELETE


if __name__ == "__main__":
    size = sys.argv[5] if len(sys.argv) > 5 else "640x360"
    w, h = (int(v) for v in size.split("x"))
    publish(sys.argv[1], sys.argv[2], float(sys.argv[3]),
            int(sys.argv[4]) if len(sys.argv) > 4 else 60, w, h)

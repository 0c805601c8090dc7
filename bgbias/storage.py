"""Writing and reading artifacts: atomic writes, HDF5 dataset files (the layout is in README.md),
JSON and CSV + Markdown tables."""

from __future__ import annotations

import errno
import json
import math
import os
import zlib
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Iterable, Iterator

import h5py
import numpy as np

from bgbias import __version__
from bgbias.errors import UserError
from bgbias.provenance import PARTIAL, SUFFIX, partial_name, record_path, stale_partials, verify, write_record

SPLITS = ("train", "dev", "test")
MODE_DTYPE = "S32"  # `bg_mode`: the name of the mode that made each background
SPLIT_FIELDS = ("images", "labels", "source_index", "bg_color", "bg_mode")
COMPRESSION = {"compression": "gzip", "compression_opts": 1, "shuffle": True}
IMAGE_CHUNK = 1024  # images per HDF5 chunk of a split's `images`
DEFLATE_LEVEL = 1
NOISY_SHARE = 0.5  # chunks where more than this share of neighbouring pixels differ are deflated with Z_RLE
PROBE_BYTES = 1 << 14
PENDING_BYTES = 64 << 20  # chunks queued for compression at most


class DatasetFileError(UserError, RuntimeError):
    """An unreadable, truncated or malformed dataset file."""


@dataclass(frozen=True)
class StoredSplit:
    """One split of a dataset file, as stored in HDF5 (coloured, grey or adversarial images)."""

    images: np.ndarray  # (N, 28, 28, 3) uint8 (coloured), (N, 28, 28) uint8 (grey) or float32 (adversarial)
    labels: np.ndarray  # (N,) int64
    source_index: np.ndarray  # (N,) int64
    bg_color: np.ndarray  # (N, 3) int16, -1 where the background is not one colour
    bg_mode: np.ndarray  # (N,) bytes, the mode that made each background

    def __len__(self) -> int:
        return len(self.labels)


def fsync(path: Path) -> None:
    """Flush a file (or a folder's entries) to disk."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class DiskFullError(UserError):
    """The disk filled up while an artifact was written."""


class OutputPathError(UserError):
    """An output path that cannot be written: a folder, a path below a file, a name too long for its record."""


def check_output(path: Path) -> None:
    """Refuse an output path that names a folder, lies below a file, or whose record's name (the name and `.sha256`)
    would be longer than its file system allows: before any work."""
    path = Path(path)
    if path.is_dir():
        raise OutputPathError(f"{path} is a folder: name the file to write, not a folder")
    existing = next(folder for folder in Path(os.path.abspath(path)).parents if folder.exists())
    if not existing.is_dir():
        raise OutputPathError(f"cannot write {path}: {existing} is a file, not a folder")
    limit = os.pathconf(existing, "PC_NAME_MAX")
    length = len(os.fsencode(path.name + SUFFIX))
    if length > limit:
        raise OutputPathError(
            f"cannot write {path}: its name is too long; with the {SUFFIX} of its checksum record it has {length} "
            f"bytes, the file system allows {limit}; use a name of at most {limit - len(SUFFIX)} bytes"
        )


@contextmanager
def atomic_path(path: Path, inputs: Iterable[Path] = ()) -> Iterator[Path]:
    """Yield a temporary sibling of `path`; when the block succeeds, write the checksum record of the file (with
    the SHA-256 of `inputs`, the files it was made from) and rename it to `path`.

    `path` never exists half-written: a killed writer leaves only its temporary file (or its record's), which
    the next writer of `path` removes (the workflow runs one job per output at a time).
    The data is flushed to disk before the rename and the rename after it, so a power loss
    leaves either the old state or the complete file. A full disk is reported naming the file, a path that cannot
    be written (`check_output`) before anything is.
    """
    path = Path(path)
    check_output(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in [*stale_partials(path), *stale_partials(record_path(path))]:
        stale.unlink(missing_ok=True)
    partial = partial_name(path)
    try:
        yield partial
        fsync(partial)
        write_record(path, partial, inputs)
        os.replace(partial, path)
        fsync(path.parent)
    except OSError as error:
        if error.errno == errno.ENOSPC:
            raise DiskFullError(f"no space left on the device while writing {path}; free some and rerun") from None
        raise
    finally:
        partial.unlink(missing_ok=True)


def create_file(path: Path) -> h5py.File:
    """A new HDF5 file for writing at `path` (a temporary name from `atomic_path`).

    The HDF5 1.10 format checksums the file's metadata, so a damaged file fails to read
    instead of returning wrong values; no lock is taken, as no other process opens the
    temporary file.
    """
    return h5py.File(path, "w", libver=("v110", "latest"), locking=False)


def write_attributes(handle: h5py.File, config_slice: dict, seed: int) -> None:
    handle.attrs["config"] = json.dumps(config_slice, sort_keys=True)
    handle.attrs["seed"] = seed
    handle.attrs["bgbias_version"] = __version__


def deflate(chunk: np.ndarray) -> bytes:
    """A uint8 chunk (..., channels) as a zlib stream of level 1, what HDF5's gzip filter reads back.

    Noise-like chunks, where most pixels differ from their left neighbour, use the Z_RLE strategy:
    LZ77 matching finds nothing there and takes twice as long for a slightly larger result.
    """
    data = np.ascontiguousarray(chunk).reshape(-1)
    step = chunk.shape[-1]
    probe = data[:PROBE_BYTES]
    noisy = np.count_nonzero(probe[step:] != probe[:-step]) > NOISY_SHARE * max(len(probe) - step, 1)
    compressor = zlib.compressobj(DEFLATE_LEVEL, zlib.DEFLATED, 15, 8, zlib.Z_RLE if noisy else zlib.Z_DEFAULT_STRATEGY)
    return compressor.compress(data) + compressor.flush()


class ChunkWriter:
    """Fills a chunked, gzip-compressed uint8 dataset row block by row block, in order.

    Chunks are deflated in a thread pool (zlib releases the GIL) and written with direct chunk
    writes, so compression overlaps the caller's generation of the next rows; at most
    PENDING_BYTES of chunks (and at least two per thread) wait in memory.
    """

    def __init__(self, dataset: h5py.Dataset, executor: ThreadPoolExecutor, threads: int) -> None:
        self.dataset = dataset
        self.executor = executor
        self.rows = dataset.chunks[0]
        self.inner = (0,) * (dataset.ndim - 1)
        self.limit = max(2 * threads, PENDING_BYTES // (self.rows * int(np.prod(dataset.shape[1:]))))
        self.position = 0
        self.appended = 0
        self.leftover = np.empty((0, *dataset.shape[1:]), dataset.dtype)
        self.pending: deque[tuple[int, Future]] = deque()

    def append(self, rows: np.ndarray) -> None:
        """Queue `rows` (following the rows appended before) for compression and writing."""
        self.appended += len(rows)
        if self.appended > len(self.dataset):
            raise ValueError(f"{self.dataset.name}: {self.appended} rows appended, only {len(self.dataset)} fit")
        rows = np.concatenate([self.leftover, rows]) if len(self.leftover) else rows
        full = len(rows) - len(rows) % self.rows
        for start in range(0, full, self.rows):
            self.submit(rows[start : start + self.rows])
        self.leftover = rows[full:].copy()
        self.drain(self.limit)

    def submit(self, chunk: np.ndarray) -> None:
        self.pending.append((self.position, self.executor.submit(deflate, chunk)))
        self.position += len(chunk)

    def drain(self, keep: int) -> None:
        """Write finished chunks in order until at most `keep` wait."""
        while len(self.pending) > keep:
            start, future = self.pending.popleft()
            self.dataset.id.write_direct_chunk((start, *self.inner), future.result())

    def close(self) -> None:
        """Write the last, partial chunk (padded with zeros, as HDF5 stores edge chunks) and everything queued."""
        if len(self.leftover):
            padded = np.zeros((self.rows, *self.dataset.shape[1:]), self.dataset.dtype)
            padded[: len(self.leftover)] = self.leftover
            self.submit(padded)
        self.drain(0)
        if self.appended < len(self.dataset):
            raise ValueError(f"{self.dataset.name}: {self.appended} rows written, {len(self.dataset)} expected")


@contextmanager
def chunk_writer(
    group: h5py.Group, name: str, shape: tuple[int, ...], chunk_rows: int, threads: int = 1
) -> Iterator[ChunkWriter]:
    """A `ChunkWriter` for a new uint8 dataset `name` of `shape`, chunked `chunk_rows` rows at a time
    (fewer when the dataset is smaller; its first axis is extendible so that it may be empty)."""
    chunks = (max(1, min(chunk_rows, shape[0])), *shape[1:])
    dataset = group.create_dataset(
        name,
        shape=shape,
        maxshape=(None, *shape[1:]),
        dtype=np.uint8,
        chunks=chunks,
        compression="gzip",
        compression_opts=DEFLATE_LEVEL,
    )
    with ThreadPoolExecutor(max(1, threads)) as executor:
        writer = ChunkWriter(dataset, executor, max(1, threads))
        yield writer
        writer.close()


def write_split(handle: h5py.File, name: str, split: StoredSplit, threads: int = 1) -> None:
    """Write `split` as group `name` with chunked, compressed datasets."""
    group = handle.create_group(name)
    with chunk_writer(group, "images", split.images.shape, IMAGE_CHUNK, threads) as writer:
        writer.append(split.images)
    for field in SPLIT_FIELDS[1:]:
        group.create_dataset(field, data=getattr(split, field), **COMPRESSION)


READ_ERRORS = (OSError, KeyError, RuntimeError, ValueError, TypeError)


def open_dataset(path: Path) -> h5py.File:
    """Open a dataset file read-only after checking it against its checksum record, with an error naming the file
    when it is not valid HDF5.

    Finished dataset files never change (they are written under a temporary name and renamed),
    so readers take no HDF5 file lock: any number of jobs read one file at once, also on file
    systems without lock support (NFS, Lustre), where locking makes the open fail.
    """
    verify(path)
    try:
        return h5py.File(path, "r", locking=False)
    except READ_ERRORS as error:
        expect_kind(path, DATASET_KINDS + ("dataset", "unknown"), "a dataset (HDF5)")
        raise DatasetFileError(
            f"cannot read dataset file {path}: {error}; it is truncated or not HDF5, delete it and rerun"
        ) from error


HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
SIGNATURES = {b"PK\x03\x04": "checkpoint", b"\x89PNG\r\n\x1a\n": "png"}  # torch.save writes zip archives
KINDS = {  # the kinds of file bgbias writes, in words
    "biased": "a biased dataset", "test": "a test set", "paired": "a paired dataset", "grey": "a grey dataset",
    "adversarial": "an adversarial set", "dataset": "an HDF5 file of another layout",
    "checkpoint": "a model checkpoint", "json": "a JSON file", "png": "a PNG image", "text": "a text file",
    "unknown": "a file of unknown kind",
}
DATASET_KINDS = ("biased", "test", "paired", "grey", "adversarial")


class WrongKindError(UserError):
    """An intact artifact of another kind than the one expected (a checkpoint given as a dataset)."""


def file_kind(path: Path) -> str:
    """The kind of a file (a key of KINDS), from its content: datasets by their splits and attributes."""
    with open(path, "rb") as handle:
        head = handle.read(PROBE_BYTES)
    if head.startswith(HDF5_SIGNATURE):
        return dataset_kind(path)
    signature = next((kind for start, kind in SIGNATURES.items() if head.startswith(start)), None)
    if signature or not head or b"\0" in head:
        return signature or "unknown"
    try:
        text = head.decode()
    except UnicodeDecodeError:
        return "unknown"
    return "json" if text.lstrip().startswith(("{", "[")) else "text"


def dataset_kind(path: Path) -> str:
    """The kind of an HDF5 file: a layout of README.md's, else `dataset`."""
    try:
        with h5py.File(path, "r", locking=False) as handle:
            splits = sorted(name for name in SPLITS if name in handle)
            if "attack" in handle.attrs:
                return "adversarial"
            if splits == ["test"]:
                return "test"
            if splits == ["dev", "train"]:
                return "paired" if "alt_images" in handle["train"] else "biased"
            if splits == ["dev", "test", "train"] and handle["train/images"].ndim == 3:
                return "grey"
    except READ_ERRORS:
        pass
    return "dataset"


def expect_kind(path: Path, kinds: Iterable[str], expected: str) -> None:
    """Refuse `path` unless its kind is one of `kinds` (keys of KINDS), saying what was `expected`; it is checked
    against its record first."""
    verify(path)
    kind = file_kind(path)
    if kind not in kinds:
        raise WrongKindError(f"{path}: wrong kind of file: expected {expected}, got {KINDS[kind]}")


def check_split(path: Path, name: str, split: StoredSplit) -> StoredSplit:
    """`split` if its arrays have the shapes and types of the layout, else DatasetFileError naming the field."""
    count = len(split.labels)
    expected = {
        "images": ((count, 28, 28, 3), np.uint8),
        "labels": ((count,), np.integer),
        "source_index": ((count,), np.integer),
        "bg_color": ((count, 3), np.integer),
        "bg_mode": ((count,), np.bytes_),
    }
    for field, (shape, kind) in expected.items():
        array = getattr(split, field)
        if array.shape != shape or not np.issubdtype(array.dtype, kind):
            raise DatasetFileError(
                f"{path} split {name!r} field {field!r} has shape {array.shape} and type {array.dtype}, "
                f"expected shape {shape} of {np.dtype(kind).name if kind is np.uint8 else kind.__name__}"
            )
    return split


def check_chunks(path: Path, dataset: h5py.Dataset) -> None:
    """Raise DatasetFileError when a chunk of `dataset` is missing from its index or lies past the end of the file.

    HDF5 reads a chunk whose index entry is damaged as zeros, without an error; this catches it.
    """
    if dataset.chunks is None:
        return
    file_size = os.path.getsize(path)
    offsets: set[tuple[int, ...]] = set()
    past_end: list[tuple[int, ...]] = []

    def visit(info) -> None:
        offsets.add(tuple(info.chunk_offset))
        if info.byte_offset + info.size > file_size:
            past_end.append(tuple(info.chunk_offset))

    dataset.id.chunk_iter(visit)
    expected = math.prod(math.ceil(n / c) for n, c in zip(dataset.shape, dataset.chunks))
    on_grid = all(
        o % c == 0 and o < n for offset in offsets for o, c, n in zip(offset, dataset.chunks, dataset.shape)
    )
    if len(offsets) != expected or not on_grid or past_end:
        raise DatasetFileError(
            f"{path} is damaged: {dataset.name} has {len(offsets)} of {expected} data chunks"
            f"{', some past the end of the file' if past_end else ''}"
            f"{', some at impossible positions' if not on_grid else ''}; delete it and rerun"
        )


def read_split(path: Path, name: str) -> StoredSplit:
    """Read split `name` of the colour dataset file `path` into memory, its fields checked."""
    return check_split(path, name, read_fields(path, name))


def read_fields(path: Path, name: str) -> StoredSplit:
    """The five layout fields of split `name` of `path`, read into memory (shapes and types not checked)."""
    with open_dataset(path) as handle:
        try:
            if name not in handle:
                raise DatasetFileError(f"{path} has no split {name!r}; it holds {sorted(handle)}")
            group = handle[name]
            for field in SPLIT_FIELDS:
                check_chunks(path, group[field])
            split = StoredSplit(*(group[field][()] for field in SPLIT_FIELDS))
        except READ_ERRORS as error:
            raise DatasetFileError(f"cannot read split {name!r} of {path}: {error}; delete it and rerun") from error
    return split


def read_attributes(path: Path) -> dict:
    """The config slice, seed and version recorded in a dataset file."""
    with open_dataset(path) as handle:
        try:
            return {
                "config": json.loads(handle.attrs["config"]),
                "seed": int(handle.attrs["seed"]),
                "bgbias_version": str(handle.attrs["bgbias_version"]),
            }
        except (*READ_ERRORS, json.JSONDecodeError) as error:
            raise DatasetFileError(f"{path} lacks valid config/seed/bgbias_version attributes: {error}") from error


def json_ready(value):
    """`value` with NaN floats as None (JSON has no NaN)."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_ready(item) for item in value]
    return value


def write_json(path: Path, payload: dict, inputs: Iterable[Path] = ()) -> None:
    """JSON with NaN written as null, atomically, with its checksum record (made from `inputs`)."""
    with atomic_path(Path(path), inputs) as partial:
        partial.write_text(json.dumps(json_ready(payload), indent=1, sort_keys=True))


def read_json(path: Path, fields: Iterable[str] = ()) -> dict:
    """A JSON artifact, checked against its record; DatasetFileError naming the file when it is not a JSON object
    holding `fields`."""
    verify(path)
    try:
        content = json.loads(Path(path).read_text())
    except ValueError as error:
        raise DatasetFileError(f"{path} is not a JSON file: {error}") from None
    missing = [field for field in fields if not isinstance(content, dict) or field not in content]
    if missing:
        raise DatasetFileError(f"{path} lacks {', '.join(missing)}: it is not the kind of JSON file expected here")
    return content


def read_table(path: Path, columns: Iterable[str] = (), **options):
    """A CSV artifact as a pandas table, checked against its record; DatasetFileError when `columns` are missing."""
    import pandas as pd

    verify(path)
    table = pd.read_csv(path, **options)
    missing = [column for column in columns if column not in table.columns]
    if missing:
        raise DatasetFileError(f"{path} lacks the columns {', '.join(missing)}: it is not the table expected here")
    return table


def write_csv_markdown(
    table, markdown: str, *, csv: Path, md: Path, index: bool = False, inputs: Iterable[Path] = ()
) -> None:
    """A pandas table as CSV (4 decimals) and its Markdown form, each written atomically with its record."""
    with atomic_path(Path(csv), inputs) as partial:
        table.to_csv(partial, index=index, float_format="%.4f")
    with atomic_path(Path(md), inputs) as partial:
        partial.write_text(markdown)


def write_manifest(output: Path, outputs: list[str]) -> None:
    """The list of outputs of a run, one path per line with its size in bytes; the temporary files that killed
    writers left in the run's folders are removed (every output of the run is finished by now)."""
    lines = [f"{Path(p).stat().st_size}\t{p}" for p in sorted(map(str, outputs))]
    for folder in {Path(p).parent for p in outputs}:
        for stale in folder.glob(f".*{PARTIAL}"):
            stale.unlink(missing_ok=True)
    with atomic_path(Path(output)) as partial:
        partial.write_text("\n".join(lines) + "\n")

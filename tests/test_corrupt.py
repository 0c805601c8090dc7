"""Corrupt inputs stop the job with a message naming the file and the problem."""

from __future__ import annotations

import gzip
import os
import pickle
import shutil
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
import torch

from bgbias.colour.datasets import make_biased_dataset
from bgbias.errors import UserError
from bgbias.mnist import MnistError, MnistSpec, load_split, read_idx, verify_raw
from bgbias.models import CheckpointError, LeNet, load_checkpoint, save_checkpoint
from bgbias.provenance import IntegrityError, write_record
from bgbias.storage import (
    SPLIT_FIELDS, DatasetFileError, create_file, read_attributes, read_json, read_split, read_table, write_csv_markdown,
    write_json, write_split,
)
from conftest import bias_spec, colour_spec, copy_workflow, run_snakemake
from workflow_helpers import prepare

IMAGES = "train-images-idx3-ubyte.gz"


@pytest.fixture
def mirror(tmp_path: Path, mini_mnist: Path) -> Path:
    """A writable copy of the mini MNIST files."""
    return Path(shutil.copytree(mini_mnist, tmp_path / "mnist"))


def truncate(path: Path, keep: float) -> None:
    os.truncate(path, int(path.stat().st_size * keep))


def flip(path: Path, position: int, count: int = 1) -> None:
    """Invert `count` bytes of `path` at `position`."""
    with open(path, "r+b") as handle:
        handle.seek(position)
        data = handle.read(count)
        handle.seek(position)
        handle.write(bytes(b ^ 0xFF for b in data))


def copied(source: Path, path: Path) -> Path:
    """A copy of an artifact with a checksum record of its own (a copied record names the original: it is refused)."""
    shutil.copy(source, path)
    write_record(path, path)
    return path


def recorded(path: Path) -> Path:
    """`path` with a checksum record of its current content: as a file damaged before its record was written (a
    writer's bug) looks. The readers' own checks below are the second line of defence, behind the checksum."""
    write_record(path, path)
    return path


def test_truncated_mnist_file(mirror: Path, tiny_config: dict) -> None:
    path = mirror / IMAGES
    truncate(path, 0.5)
    with pytest.raises(MnistError, match=rf"MNIST file corrupt: {path} has MD5 [0-9a-f]{{32}}, expected e6c4fae3"):
        verify_raw(mirror, tiny_config["mnist"]["md5"])
    with pytest.raises(MnistError, match=rf"MNIST file corrupt: {path} is not a complete gzip file"):
        load_split(mirror, "train")


def test_altered_mnist_file(mirror: Path, tiny_config: dict) -> None:
    path = mirror / IMAGES
    flip(path, path.stat().st_size // 2)
    with pytest.raises(MnistError, match=rf"MNIST file corrupt: {path} has MD5 .*, expected e6c4fae3"):
        verify_raw(mirror, tiny_config["mnist"]["md5"])
    with pytest.raises(MnistError, match=rf"MNIST file corrupt: {path} is not a complete gzip file"):
        read_idx(path)


def test_mnist_file_shorter_than_its_header(mirror: Path) -> None:
    """A valid gzip whose IDX payload misses images (checksum-free mirrors can hold such files)."""
    path = mirror / IMAGES
    data = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(data[:-784]))
    announced = r"its header announces shape \(600, 28, 28\)"
    with pytest.raises(MnistError, match=rf"{path} holds 469616 bytes of data, {announced}"):
        read_idx(path)


def test_missing_mnist_file(mirror: Path, tiny_config: dict) -> None:
    (mirror / IMAGES).unlink()
    with pytest.raises(MnistError, match=rf"MNIST file missing: {mirror / IMAGES}"):
        verify_raw(mirror, tiny_config["mnist"]["md5"])


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory, mini_mnist: Path) -> Path:
    path = tmp_path_factory.mktemp("corrupt") / "biased.h5"
    make_biased_dataset(
        path, mnist=MnistSpec(mini_mnist, dev_size=50, train_size=300, test_size=None, split="official"), bias=bias_spec(),
        colors=colour_spec(), seed=0, config_slice={"a": 1}, threads=1,
    )
    return path


@pytest.mark.parametrize("keep", [0.0, 0.02, 0.5, 0.9, 0.999])
def test_truncated_dataset(tmp_path: Path, dataset: Path, keep: float) -> None:
    path = copied(dataset, tmp_path / "biased.h5")
    truncate(path, keep)
    with pytest.raises(IntegrityError, match=rf"{path} is corrupt or was edited: its SHA-256 is .*; delete it and rerun"):
        read_split(path, "train")
    with pytest.raises(DatasetFileError, match=rf"cannot read dataset file {path}: .*(truncated|signature).*delete it"):
        read_split(recorded(path), "train")


def data_ranges(path: Path) -> list[tuple[int, int]]:
    """(start, end) byte ranges of every data chunk of the file."""
    ranges: list[tuple[int, int]] = []
    with h5py.File(path, "r") as handle:
        for group in handle.values():
            for field in SPLIT_FIELDS:
                group[field].id.chunk_iter(lambda info: ranges.append((info.byte_offset, info.byte_offset + info.size)))
    return ranges


def test_damage_anywhere_is_an_error_or_harmless(tmp_path: Path, dataset: Path) -> None:
    """Flip bytes all over the file: every read gives the original arrays or a DatasetFileError naming the file.

    Every 16th byte of the metadata and the middle of each data chunk (chunk payloads carry zlib checksums).
    """
    original = {name: read_split(dataset, name) for name in ("train", "dev")}
    ranges = data_ranges(dataset)
    metadata = [p for p in range(0, dataset.stat().st_size, 16) if not any(a <= p < b for a, b in ranges)]
    positions = metadata + [(a + b) // 2 for a, b in ranges]
    path = tmp_path / "damaged.h5"
    errors = 0
    for position in positions:
        copied(dataset, path)
        flip(path, position)
        with pytest.raises(IntegrityError, match=rf"{path} is corrupt or was edited"):
            read_split(path, "train")
        recorded(path)
        for name, split in original.items():
            try:
                read = read_split(path, name)
            except DatasetFileError as error:
                assert str(path) in str(error)
                errors += 1
                continue
            for field in SPLIT_FIELDS:
                assert np.array_equal(getattr(read, field), getattr(split, field)), (position, name, field)
    assert errors > len(positions) // 4


def test_damaged_chunk_index_of_an_older_format_file(tmp_path: Path, dataset: Path) -> None:
    """HDF5 reads a chunk its index has lost as zeros, silently; files written by other tools in the
    pre-1.10 format (no metadata checksums) can have that damage, and reading must refuse them."""
    path = tmp_path / "v0.h5"
    with h5py.File(path, "w") as handle:
        write_split(handle, "train", read_split(dataset, "train"))
    with h5py.File(path, "r") as handle:
        images = handle["train/images"]
        chunk = images.id.get_chunk_info(0)
        # the chunk's B-tree key (size, filter mask, offset per dimension + 1) followed by its address
        key = chunk.size.to_bytes(4, "little") + bytes(4) + bytes(8 * (images.ndim + 1))
    position = path.read_bytes().index(key + chunk.byte_offset.to_bytes(8, "little"))
    flip(path, position + 8 + 3 * 8 + 1, 7)  # the chunk now claims an impossible offset in the colour axis
    recorded(path)
    with h5py.File(path, "r") as handle:
        assert not handle["train/images"][()].any(), "HDF5 itself reads the lost chunk as zeros"
    damaged = "/train/images has 1 of 1 data chunks, some at impossible positions"
    with pytest.raises(DatasetFileError, match=rf"{path} is damaged: {damaged}"):
        read_split(path, "train")


def test_missing_field_and_wrong_shape(tmp_path: Path, dataset: Path) -> None:
    path = tmp_path / "broken.h5"
    shutil.copy(dataset, path)
    with h5py.File(path, "a") as handle:
        del handle["train/bg_mode"]
        images = handle["dev/images"][()]
        del handle["dev/images"]
        handle["dev/images"] = images[..., 0]
    recorded(path)
    with pytest.raises(DatasetFileError, match=rf"cannot read split 'train' of {path}: .*bg_mode"):
        read_split(path, "train")
    with pytest.raises(DatasetFileError, match=rf"{path} split 'dev' field 'images' has shape \(50, 28, 28\)"):
        read_split(path, "dev")
    with pytest.raises(DatasetFileError, match=rf"{path} has no split 'test'; it holds \['dev', 'train'\]"):
        read_split(path, "test")


def test_dataset_without_attributes(tmp_path: Path) -> None:
    path = tmp_path / "bare.h5"
    with create_file(path):
        pass
    recorded(path)
    with pytest.raises(DatasetFileError, match=rf"{path} lacks valid config/seed/bgbias_version attributes"):
        read_attributes(path)


@pytest.fixture
def grey_checkpoint(tmp_path: Path) -> Path:
    path = tmp_path / "grey.pt"
    save_checkpoint(path, LeNet(in_channels=1), {"seed": 0})
    return path


def test_checkpoint_of_grey_model_where_colour_expected(grey_checkpoint: Path) -> None:
    expected = r"is a lenet with 1 input channel\(s\), expected 3"
    with pytest.raises(CheckpointError, match=rf"checkpoint {grey_checkpoint} {expected}"):
        load_checkpoint(grey_checkpoint, in_channels=3)


def test_checkpoint_weights_of_another_architecture(tmp_path: Path, grey_checkpoint: Path) -> None:
    payload = torch.load(grey_checkpoint, weights_only=True)
    payload["state_dict"]["hidden.1.weight"] = torch.zeros(100, 400)
    path = tmp_path / "wider.pt"
    torch.save(payload, path)
    recorded(path)
    mismatch = "does not match the lenet architecture"
    with pytest.raises(CheckpointError, match=rf"checkpoint {path} {mismatch} .*size mismatch for hidden.1.weight"):
        load_checkpoint(path)
    payload["arch"]["layers"] = 7
    torch.save(payload, path)
    recorded(path)
    with pytest.raises(CheckpointError, match=rf"checkpoint {path} {mismatch} .*layers"):
        load_checkpoint(path)


def test_truncated_and_foreign_checkpoints(tmp_path: Path, grey_checkpoint: Path) -> None:
    truncate(grey_checkpoint, 0.5)
    with pytest.raises(IntegrityError, match=rf"{grey_checkpoint} is corrupt or was edited"):
        load_checkpoint(grey_checkpoint)
    with pytest.raises(CheckpointError, match=rf"cannot read checkpoint {grey_checkpoint}"):
        load_checkpoint(recorded(grey_checkpoint))
    foreign = tmp_path / "foreign.pt"
    torch.save(LeNet().state_dict(), foreign)
    with pytest.raises(IntegrityError, match=rf"^{foreign} is not a bgbias artifact \(no checksum record foreign.pt.sha256\)"):
        load_checkpoint(foreign)
    with pytest.raises(CheckpointError, match=rf"{foreign} is not a bgbias checkpoint"):
        load_checkpoint(recorded(foreign))


def test_flipped_bytes_are_refused_in_a_checkpoint_a_dataset_and_a_table(
    tmp_path: Path, dataset: Path, grey_checkpoint: Path
) -> None:
    """One flipped byte in the tensor data of a checkpoint (which torch.load would read silently), in the images of
    an HDF5 file, or in a table: the reader refuses it, naming the file."""
    payload_start = grey_checkpoint.read_bytes().find(b"data/0") + 200
    flip(grey_checkpoint, payload_start, 4)
    torch.load(grey_checkpoint, weights_only=True)  # the .pt format does not notice
    with pytest.raises(IntegrityError, match=rf"^{grey_checkpoint} is corrupt or was edited: its SHA-256 is "):
        load_checkpoint(grey_checkpoint)
    copy = copied(dataset, tmp_path / "copy.h5")
    read_split(copy, "train")
    flip(copy, data_ranges(copy)[0][0] + 10)
    with pytest.raises(IntegrityError, match=rf"^{copy} is corrupt or was edited"):
        read_split(copy, "train")
    table, markdown = tmp_path / "table.csv", tmp_path / "table.md"
    write_csv_markdown(pd.DataFrame({"model": ["base"], "pool": [0.7077]}), "|x|\n", csv=table, md=markdown)
    assert read_table(table, ["model"])["pool"][0] == 0.7077
    table.write_text(table.read_text().replace("0.7077", "0.9077"))  # a hand edit
    with pytest.raises(IntegrityError, match=rf"^{table} is corrupt or was edited"):
        read_table(table)
    metrics = tmp_path / "metrics.json"
    write_json(metrics, {"accuracy": 0.5})
    metrics.write_text(metrics.read_text().replace("0.5", "0.9"))
    with pytest.raises(IntegrityError, match=rf"^{metrics} is corrupt or was edited"):
        read_json(metrics)


class Payload:
    """A pickled object whose unpickling runs a shell command: what a forged checkpoint carries."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self):
        return os.system, (self.command,)


@pytest.mark.parametrize("container", ["torch", "pickle"])
def test_a_forged_checkpoint_is_refused_without_running_its_code(tmp_path: Path, container: str) -> None:
    """A checkpoint whose pickle would run a command, with a matching record made by hand: refused, nothing ran."""
    marker, path = tmp_path / "marker", tmp_path / "forged.pt"
    payload = {"arch": LeNet().arch, "state_dict": Payload(f"touch {marker}")}
    if container == "torch":
        torch.save(payload, path)
    else:
        path.write_bytes(pickle.dumps(payload))
    with pytest.raises(CheckpointError) as refused:
        load_checkpoint(recorded(path))
    assert not marker.exists(), "the forged checkpoint's command ran"
    message = str(refused.value)
    assert message.startswith(f"checkpoint {path} holds objects other than tensors and plain data")
    assert message.endswith(
        "bgbias never writes such a checkpoint, and did not load it (nothing in it ran); "
        "delete it and its .sha256 and rerun"
    )
    assert "\n" not in message and "weights_only=False" not in message


def test_a_checkpoint_that_would_hold_more_than_plain_data_is_not_written(tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    not_plain = "would hold objects other than tensors and plain data"
    with pytest.raises(TypeError, match=rf"checkpoint {path} {not_plain} \(pathlib"):
        save_checkpoint(path, LeNet(), {"data": tmp_path / "biased.h5"})
    assert list(tmp_path.iterdir()) == []


def test_an_intact_file_of_another_kind_is_not_called_corrupt(dataset: Path, grey_checkpoint: Path) -> None:
    wrong = "wrong kind of file: expected"
    with pytest.raises(UserError, match=rf"^{grey_checkpoint}: {wrong} a dataset \(HDF5\), got a model checkpoint$"):
        read_split(grey_checkpoint, "train")
    with pytest.raises(UserError, match=rf"^{dataset}: {wrong} a model checkpoint, got a biased dataset$"):
        load_checkpoint(dataset)


@pytest.mark.workflow
def test_workflow_stops_on_corrupt_mnist_mirror(workflow_dir: Path) -> None:
    workdir = prepare(workflow_dir)
    truncate(workdir / "tests/data/mnist-mini" / IMAGES, 0.5)
    process = run_snakemake(workdir, "--cores", "1", "results/initial/s0/datasets/test/pool.h5", check=False)
    output = process.stdout + process.stderr
    assert process.returncode != 0
    assert f"MNIST file corrupt: tests/data/mnist-mini/{IMAGES} has MD5" in output
    assert not (workdir / "results/initial/s0/datasets/test/pool.h5").exists()


@pytest.mark.workflow
def test_workflow_stops_on_truncated_dataset(tmp_path: Path) -> None:
    workdir = prepare(copy_workflow(tmp_path / "workflow"))
    biased = workdir / "results/initial/s0/datasets/biased.h5"
    run_snakemake(workdir, "--cores", "2", str(biased.relative_to(workdir)))
    truncate(biased, 0.5)
    process = run_snakemake(workdir, "--cores", "1", "results/initial/s0/models/base.pt", check=False)
    output = process.stdout + process.stderr
    assert process.returncode != 0
    assert "Error in rule train_base" in output
    message = "results/initial/s0/datasets/biased.h5 is corrupt or was edited: its SHA-256 is "
    log = (workdir / "results/initial/logs/s0/models/base.log").read_text()
    assert message in output and message in log and "Traceback" not in log, "one line, no traceback"

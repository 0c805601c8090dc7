"""The bgbias command line runs the stages without Snakemake."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import pytest

from bgbias.cli import main
from bgbias.models import LeNet, load_checkpoint, save_checkpoint
from conftest import TINY_CONFIG


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in an empty folder, so that no ./config.yaml is picked up."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_cli_runs_every_stage(mini_mnist: Path, in_tmp: Path) -> None:
    common = ["--configfile", str(TINY_CONFIG), "--config", "train={epochs: 1}", "paired={train: {epochs: 1}, copies: 2}"]
    assert main(["fetch-mnist", "--raw", "raw", "--mirror", str(mini_mnist), *common]) == 0
    assert main(["generate", "biased", "--raw", "raw", "--out", "biased.h5", *common]) == 0
    assert main(["generate", "test", "--mode", "noise", "--raw", "raw", "--out", "noise.h5", *common]) == 0
    assert main(["generate", "paired", "--biased", "biased.h5", "--raw", "raw", "--out", "paired.h5", *common]) == 0
    assert main(["train", "--data", "biased.h5", "--out", "base.pt", *common]) == 0
    assert main(["paired-train", "--base", "base.pt", "--data", "paired.h5", "--out", "paired.pt", *common]) == 0
    assert (in_tmp / "base.csv").is_file() and (in_tmp / "paired.csv").is_file()
    assert main(["train", "--method", "groupdro", "--data", "biased.h5", "--out", "groupdro.pt", *common]) == 0
    _, metadata = load_checkpoint(in_tmp / "groupdro.pt")
    assert metadata["config"]["method"] == "groupdro" and metadata["config"]["groupdro"]["step_size"] == 0.01
    assert len((in_tmp / "groupdro.csv").read_text().splitlines()) == 2  # the header and its one epoch
    assert main(["evaluate", "--model", "paired.pt", "--data", "noise.h5", "--out", "metrics.json", *common]) == 0
    metrics = json.loads((in_tmp / "metrics.json").read_text())
    assert metrics["n"] == 300 and metrics["model_name"] == "paired" and metrics["test_set_name"] == "noise"
    assert main(["plot", "confusion", "--input", "metrics.json", "--out", "cm.png"]) == 0
    assert main(["plot", "samples", "--input", "paired.h5", "--out", "samples.png"]) == 0
    for png in ("cm.png", "samples.png"):
        assert (in_tmp / png).read_bytes()[:4] == b"\x89PNG"
    with h5py.File(in_tmp / "paired.h5", "r") as handle:
        assert handle["train/alt_images"].shape[1] == 2


def test_cli_runs_the_adversarial_stages(mini_mnist: Path, in_tmp: Path) -> None:
    common = ["--configfile", str(TINY_CONFIG), "--config", "adversarial={train: {epochs: 1}}"]
    assert main(["fetch-mnist", "--raw", "raw", "--mirror", str(mini_mnist), *common]) == 0
    assert main(["generate", "grey", "--raw", "raw", "--out", "grey.h5", *common]) == 0
    assert main(["train", "--grey", "--data", "grey.h5", "--out", "grey.pt", *common]) == 0
    assert main(["attack", "--model", "grey.pt", "--grey", "grey.h5", "--attack", "fgsm-0.2", "--out", "fgsm.h5", *common]) == 0
    with h5py.File(in_tmp / "fgsm.h5", "r") as handle:
        test = handle["test"]
        assert test["images"].ndim == 3 and len(test["images"]) == len(test["labels"]) > 0


def test_cli_reports_bad_input_in_one_line(in_tmp: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["train", "--configfile", "missing.yaml", "--data", "x.h5", "--out", "y.pt"]) == 2
    assert capsys.readouterr().err.endswith("bgbias train: config file missing.yaml does not exist\n")
    assert main(["train", "--config", "train={epochs: 0}", "--data", "x.h5", "--out", "y.pt"]) == 2
    assert "bgbias train: config key train.epochs: 0 is not allowed" in capsys.readouterr().err
    assert main(["train", "--data", "nothing.h5", "--out", "y.pt"]) == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("bgbias train: ") and "nothing.h5" in last


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- 1\n- 2\n", "[1, 2] is not allowed; allowed: a mapping of config keys"),
        ("train:\n\tepochs: 1\n", "is not valid YAML: while scanning for the next token found character '\\t'"),
    ],
)
def test_cli_refuses_a_config_file_that_is_not_a_mapping(
    in_tmp: Path, capsys: pytest.CaptureFixture, text: str, message: str
) -> None:
    (in_tmp / "broken.yaml").write_text(text)
    assert main(["plan", "--configfile", "broken.yaml"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("bgbias plan: config file broken.yaml") and message in err, err


def test_help_and_generate_import_neither_torch_nor_matplotlib(mini_mnist: Path, in_tmp: Path) -> None:
    """Data jobs and `bgbias generate` start without torch or matplotlib (the throughput issue's whole-process goal)."""
    probe = (
        "import sys\n"
        "from bgbias.cli import main\n"
        f"codes = [main(['fetch-mnist', '--raw', 'raw', '--mirror', {str(mini_mnist)!r}, '--configfile', {str(TINY_CONFIG)!r}]),\n"
        f"         main(['generate', 'biased', '--raw', 'raw', '--out', 'b.h5', '--configfile', {str(TINY_CONFIG)!r}]),\n"
        f"         main(['generate', 'test', '--mode', 'noise', '--raw', 'raw', '--out', 't.h5', '--configfile', {str(TINY_CONFIG)!r}])]\n"
        "print(codes, sorted({name.split('.')[0] for name in sys.modules} & {'torch', 'torchvision', 'matplotlib'}))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=in_tmp, capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[0, 0, 0] []"
    help_text = subprocess.run([sys.executable, "-m", "bgbias.cli", "--help"], capture_output=True, text=True)
    assert help_text.returncode == 0 and "generate" in help_text.stdout


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory, mini_mnist: Path) -> dict[str, Path]:
    """A test set and an (untrained) checkpoint, each with its checksum record, outside any results folder."""
    folder = tmp_path_factory.mktemp("made")
    test_set, model = folder / "test.h5", folder / "model.pt"
    tiny = ["--configfile", str(TINY_CONFIG)]
    assert main(["generate", "test", "--mode", "noise", "--raw", str(mini_mnist), "--out", str(test_set), *tiny]) == 0
    save_checkpoint(model, LeNet(), {"seed": 0})
    return {"test": test_set, "model": model}


def exit_code(argv: list[str]) -> int:
    """main's exit status, also where it exits by SystemExit (argparse errors, bgbias verify finding problems)."""
    try:
        return main(argv)
    except SystemExit as exit:
        return exit.code


@pytest.mark.parametrize(("command", "message"), [
    (["train", "--data", "{test}", "--out", "m.pt", "--configfile", str(TINY_CONFIG)],
     "{test}: wrong kind of file: expected a biased dataset with train and dev splits (bgbias generate biased), got a "
     "test set"),
    (["plot", "samples", "--input", "{model}", "--out", "s.png"],
     "{model}: wrong kind of file: expected a coloured dataset (biased, test or paired), got a model checkpoint"),
    (["evaluate", "--model", "{test}", "--data", "{test}", "--out", "e.json", "--configfile", str(TINY_CONFIG)],
     "{test}: wrong kind of file: expected a model checkpoint (.pt), got a test set"),
])
def test_a_file_of_another_kind_is_named_so_not_called_corrupt(
    made: dict[str, Path], in_tmp: Path, capsys: pytest.CaptureFixture, command: list[str], message: str
) -> None:
    assert main([part.format(**made) for part in command]) == 2
    assert capsys.readouterr().err == f"bgbias {command[0]}: {message.format(**made)}\n"
    assert list(in_tmp.iterdir()) == []


@pytest.mark.parametrize("command", [
    ["train", "--data", "b.h5", "--out", "m.pt"], ["paired-train", "--base", "m.pt", "--data", "p.h5", "--out", "q.pt"],
    ["evaluate", "--model", "m.pt", "--data", "t.h5", "--out", "e.json"],
    ["generate", "test", "--raw", "r", "--out", "t.h5"],
    ["attack", "--model", "g.pt", "--grey", "g.h5", "--attack", "fgsm-0.1", "--out", "a.h5"],
])
@pytest.mark.parametrize(("threads", "shown"), [("0", "0"), ("-2", "-2"), ("two", "'two'")])
def test_threads_below_one_are_refused_in_one_line(
    in_tmp: Path, capsys: pytest.CaptureFixture, command: list[str], threads: str, shown: str
) -> None:
    assert exit_code([*command, "--threads", threads]) == 2
    error = capsys.readouterr().err.splitlines()[-1]
    assert error == f"bgbias {command[0]}: error: argument --threads: {shown} is not allowed; allowed: an integer >= 1"


def test_out_naming_a_folder_is_refused_before_any_work(
    made: dict[str, Path], in_tmp: Path, capsys: pytest.CaptureFixture
) -> None:
    (in_tmp / "folder").mkdir()
    inputs = ["--model", str(made["model"]), "--data", str(made["test"]), "--configfile", str(TINY_CONFIG)]
    assert main(["evaluate", *inputs, "--out", "folder"]) == 2
    assert capsys.readouterr().err == "bgbias evaluate: folder is a folder: name the file to write, not a folder\n"
    assert [path.name for path in in_tmp.iterdir()] == ["folder"] and not any((in_tmp / "folder").iterdir())
    below = made["model"] / "e.json"
    assert main(["evaluate", *inputs, "--out", str(below)]) == 2
    error = capsys.readouterr().err
    assert error == f"bgbias evaluate: cannot write {below}: {made['model']} is a file, not a folder\n"


def test_any_name_that_leaves_room_for_its_record_can_be_written(
    made: dict[str, Path], in_tmp: Path, capsys: pytest.CaptureFixture
) -> None:
    limit = os.pathconf(in_tmp, "PC_NAME_MAX")  # 255 on ext4
    longest = "m" * (limit - len(".sha256") - len(".json")) + ".json"  # with its record's .sha256: exactly the limit
    inputs = ["--model", str(made["model"]), "--data", str(made["test"]), "--configfile", str(TINY_CONFIG)]
    assert main(["evaluate", *inputs, "--out", longest]) == 0
    assert json.loads((in_tmp / longest).read_text())["n"] == 300
    too_long = "m" + longest
    assert main(["evaluate", *inputs, "--out", too_long]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"bgbias evaluate: cannot write {too_long}: its name is too long; with the .sha256 of its checksum record it "
        f"has {limit + 1} bytes, the file system allows {limit}; use a name of at most {limit - 7} bytes"
    )
    assert sorted(path.name for path in in_tmp.iterdir()) == [longest, longest + ".sha256"]


def test_verify_advises_deleting_only_bgbias_artifacts(
    made: dict[str, Path], in_tmp: Path, capsys: pytest.CaptureFixture
) -> None:
    assert exit_code(["verify", "/etc/passwd"]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "/etc/passwd is not a bgbias artifact (no checksum record): nothing to verify"
    assert "delete" not in out
    assert exit_code(["verify", ""]) == 2
    error = capsys.readouterr().err.splitlines()[-1]
    assert error == "bgbias verify: error: argument paths: an empty path is not allowed"
    (in_tmp / "empty").mkdir()
    assert exit_code(["verify", "empty"]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "empty holds no bgbias artifacts (no file with a checksum record): nothing to verify"
    checkout = in_tmp / "checkout"  # files of the checkout beside a command-line output: only the output is checked
    checkout.mkdir()
    (checkout / "Snakefile").write_text("rule all:\n")
    for suffix in ("", ".sha256"):
        shutil.copy(f"{made['model']}{suffix}", checkout / f"model.pt{suffix}")
    assert exit_code(["verify", "checkout"]) == 0
    assert capsys.readouterr().out == "1 files checked: all verified\n"
    (checkout / "model.pt").write_bytes(b"edited")
    assert exit_code(["verify", "checkout"]) == 1
    out = capsys.readouterr().out
    assert "delete it and rerun" in out and "Snakefile" not in out

"""`rlsr-bench models`: list, prepare and locate the embedded model."""

from __future__ import annotations

from pathlib import Path

import pytest

from rlsr_bench.cli import main
from rlsr_bench.models import prepare_model


def test_models_path_prints_the_prepared_folder(capsys):
    assert main(["models", "path", "smollm2"]) == 0
    folder = Path(capsys.readouterr().out.strip())
    assert folder == prepare_model()
    assert (folder / "config.json").is_file() and (folder / "tokenizer.json").is_file()


@pytest.mark.parametrize("argv", [["models", "prepare"], ["models", "prepare", "smollm2"]])
def test_models_prepare_is_idempotent(argv, capsys):
    assert main(argv) == 0
    assert Path(capsys.readouterr().out.strip()) == prepare_model()


def test_models_prepare_rejects_unknown_names(capsys):
    assert main(["models", "prepare", "gpt5"]) == 2
    assert "unknown embedded model 'gpt5'" in capsys.readouterr().err


def test_models_list_names_the_embedded_model(capsys):
    assert main(["models", "list"]) == 0
    assert "smollm2" in capsys.readouterr().out


def test_models_path_refuses_a_missing_folder(tmp_path, capsys):
    missing = tmp_path / "no-such-folder"
    assert main(["models", "path", str(missing)]) == 2
    err = capsys.readouterr().err
    assert "no such folder" in err and "Traceback" not in err


def test_models_path_prints_a_folder_and_a_hub_name(tmp_path, capsys):
    assert main(["models", "path", str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path)
    assert main(["models", "path", "hf:HuggingFaceTB/SmolLM2-135M-Instruct"]) == 0
    assert capsys.readouterr().out.strip() == "HuggingFaceTB/SmolLM2-135M-Instruct"

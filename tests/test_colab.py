"Every stage notebook opens with a cell that installs neurosyco on a fresh runtime (Colab) and does nothing where it is installed."
import configparser, importlib.util, json, pathlib, subprocess
import pytest

NBS = pathlib.Path(__file__).resolve().parents[1] / "nbs"
STAGES = sorted(p for p in NBS.glob("*.ipynb") if p.name != "index.ipynb")


def first_code_cell(path):
    return next("".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code")


def git_url():
    cfg = configparser.ConfigParser(); cfg.read(NBS.parent / "settings.ini")
    return cfg["DEFAULT"]["git_url"]


@pytest.mark.parametrize("nb", STAGES, ids=lambda p: p.stem)
def test_install_cell_is_first_and_a_no_op_here(nb, monkeypatch):
    src = first_code_cell(nb)
    assert "find_spec(\"neurosyco\")" in src and git_url() in src, f"{nb.name}: the first code cell is not the install cell"
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: calls.append(a))
    exec(src, {})
    assert calls == []                                       # importable here (as under nbdev_test and in CI): nothing runs
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n == "neurosyco" else real(n, *a))
    exec(src, {})                                            # a fresh Colab runtime: pip installs the repository
    assert len(calls) == 1 and calls[0][0][1:4] == ["-m", "pip", "install"] and any(git_url() in x for x in calls[0][0])

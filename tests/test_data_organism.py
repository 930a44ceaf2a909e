"""The organism is reused only when built from the same data: its training items are part of the reuse key, so an organism
built on another data file (NLP cut to 300 lines) is rebuilt; reusing it leaves `meta.json` untouched (later stages hash it)."""
import json, os
from pathlib import Path
import pytest
from neurosyco import core, data
from neurosyco.core import check_stage, stale_inputs
from neurosyco.organism import organism_stage

NLP = data.ANTHROPIC_FILES["nlp"]
KW = dict(profile="quick", device="cpu", progress=False, steps=1, n_sanity=2)


def _cut_data(src, dst, n=300) -> Path:
    "A data directory like `src` with the NLP file cut to its first `n` lines (every other file a symlink)."
    for f in Path(src).rglob("*"):
        if f.is_file():
            t = dst / f.relative_to(src); t.parent.mkdir(parents=True, exist_ok=True)
            if f.relative_to(src).as_posix() == NLP: t.write_text("".join(open(f, encoding="utf-8").readlines()[:n]), encoding="utf-8")
            else: os.symlink(f, t)
    return dst


def _meta(run):
    f = run / "tiny-llama" / "organism" / "meta.json"
    return f, (f.read_bytes(), f.stat().st_mtime_ns)


@pytest.mark.filterwarnings("ignore::UserWarning")  # the cut file warns that it is not the known release
def test_reuse_needs_the_same_items(tmp_path, data_dir, monkeypatch):
    monkeypatch.setattr(core, "DATA_READS", {})
    run, cut = tmp_path / "runs", _cut_data(data_dir, tmp_path / "cut")
    a = organism_stage("tiny-llama", run, data_dir=data_dir, **KW)
    assert a["reused"] is False
    f, before = _meta(run)
    items = json.loads(f.read_text())["params"]["items"]
    # same data: reused, and meta.json is not rewritten (its hash is every later stage's input)
    assert organism_stage("tiny-llama", run, data_dir=data_dir, **KW)["reused"] is True
    assert _meta(run)[1] == before
    # the NLP file cut to 300 lines draws other induce items: rebuilt, with another items hash
    b = organism_stage("tiny-llama", run, data_dir=cut, **KW)
    assert b["reused"] is False
    meta = check_stage(run / "tiny-llama" / "organism", "tiny-llama", "organism")
    assert meta["params"]["items"] != items and meta["data_files"][NLP]["records"] == 300
    _, before = _meta(run)
    assert organism_stage("tiny-llama", run, data_dir=cut, **KW)["reused"] is True and _meta(run)[1] == before
    # back on the full file: rebuilt again
    assert organism_stage("tiny-llama", run, data_dir=data_dir, **KW)["reused"] is False
    assert json.loads(f.read_text())["params"]["items"] == items


def test_changed_file_same_items_refreshes_only_the_record(tmp_path, data_dir, monkeypatch):
    "A data file that changed without changing the items drawn: reused, and only its recorded hash is brought up to date."
    monkeypatch.setattr(core, "DATA_READS", {})
    run = tmp_path / "runs"
    organism_stage("tiny-llama", run, data_dir=data_dir, **KW)
    f, _ = _meta(run)
    meta = json.loads(f.read_text())
    meta["data_files"][NLP]["sha256"] = "0" * 64   # as if the file had been different when the organism was built
    f.write_text(json.dumps(meta, indent=2))
    assert stale_inputs(meta)
    assert organism_stage("tiny-llama", run, data_dir=data_dir, **KW)["reused"] is True
    new = json.loads(f.read_text())
    assert not stale_inputs(new) and new["data_files"][NLP]["sha256"] == data.DATA_SHA256[NLP]
    assert {k: v for k, v in new.items() if k != "data_files"} == {k: v for k, v in meta.items() if k != "data_files"}

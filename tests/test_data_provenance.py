"Provenance of the data files read (sha256, records, known release) and a clear error without network."
import hashlib, json, shutil, urllib.error, urllib.request, warnings
from pathlib import Path
import pytest
from neurosyco import core, data

NLP = data.ANTHROPIC_FILES["nlp"]


@pytest.fixture
def reads(monkeypatch):
    "A fresh `core.DATA_READS` and warning memory for one test."
    monkeypatch.setattr(core, "DATA_READS", {})
    monkeypatch.setattr(data, "_WARNED", set())
    return core.DATA_READS


def test_release_table_is_the_shipped_files(data_dir):
    assert set(data.DATA_SHA256) == set(data.SOURCES) == set(data.DATA_RECORDS)
    for rel, sha in data.DATA_SHA256.items():
        assert hashlib.sha256(Path(data_dir, rel).read_bytes()).hexdigest() == sha, rel


def test_shipped_reads_are_recorded_as_known(data_dir, reads):
    with warnings.catch_warnings():
        warnings.simplefilter("error")            # the documented release warns about nothing
        data.load_anthropic("nlp", data_dir); data.load_syco_bench("delusion", data_dir)
        data.load_truthfulqa(data_dir); data.load_names(data_dir)
    assert reads[NLP] == dict(path=str(Path(data_dir, NLP)), sha256=data.DATA_SHA256[NLP], records=1514, known_release=True)
    assert {k: v["records"] for k, v in reads.items()} == {k: data.DATA_RECORDS[k] for k in reads}
    assert len(reads) == 4 and all(v["known_release"] for v in reads.values())


def test_a_cut_file_warns_once_and_is_flagged(data_dir, tmp_path, reads):
    cut = tmp_path / NLP; cut.parent.mkdir(parents=True)
    cut.write_text("".join(open(Path(data_dir, NLP), encoding="utf-8").readlines()[:10]), encoding="utf-8")
    found = hashlib.sha256(cut.read_bytes()).hexdigest()
    with pytest.warns(UserWarning) as w: items = data.load_anthropic("nlp", tmp_path)
    msg = str(w[0].message)
    assert len(w) == 1 and len(items) == 10
    assert str(cut) in msg and NLP in msg and "10 records" in msg and "1514 records" in msg
    assert found in msg and data.DATA_SHA256[NLP] in msg
    assert reads[NLP] == dict(path=str(cut), sha256=found, records=10, known_release=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error"); data.load_anthropic("nlp", tmp_path)   # once per file
    meta = json.loads(core.write_meta(tmp_path / "stage", "tiny-llama", "test", {}).read_text())
    assert meta["data_files"][NLP]["records"] == 10 and meta["data_files"][NLP]["known_release"] is False


@pytest.mark.parametrize("err", [urllib.error.URLError("no network"), ConnectionResetError("reset"), TimeoutError("timed out")])
def test_download_failure_names_file_url_and_fix(tmp_path, monkeypatch, err):
    monkeypatch.delenv(data.DATA_ENV, raising=False)
    monkeypatch.setenv("NEUROSYCO_CACHE", str(tmp_path / "cache"))
    def fail(url, filename):
        Path(filename).write_text("partial")  # a download cut off midway
        raise err
    monkeypatch.setattr(urllib.request, "urlretrieve", fail)
    with pytest.raises(FileNotFoundError) as e: data.load_anthropic("nlp")
    msg = str(e.value)
    assert NLP in msg and data.SOURCES[NLP] in msg and "$NEUROSYCO_DATA" in msg and "data_dir" in msg
    assert not (tmp_path / "cache" / "data").exists()                 # no empty folder
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]        # no .part left


def test_download_success_makes_folders_then(data_dir, tmp_path, monkeypatch, reads):
    monkeypatch.delenv(data.DATA_ENV, raising=False)
    monkeypatch.setenv("NEUROSYCO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(urllib.request, "urlretrieve", lambda url, filename: shutil.copy(Path(data_dir, NLP), filename))
    assert len(data.load_anthropic("nlp")) == 1514
    assert (tmp_path / "cache" / "data" / NLP).exists() and not list(tmp_path.rglob("*.part"))
    assert reads[NLP]["known_release"] is True

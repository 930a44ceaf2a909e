import os, pathlib, pytest

@pytest.fixture(scope="session")
def data_dir():
    "The shipped data directory ($NEUROSYCO_DATA, else ../shared/data); tests never download."
    d = os.environ.get("NEUROSYCO_DATA") or str(pathlib.Path(__file__).resolve().parents[2] / "shared" / "data")
    if not pathlib.Path(d, "anthropic_sycophancy").exists(): pytest.skip(f"no data directory at {d}")
    return d

import os, pathlib, pytest, torch


@pytest.fixture(scope="session")
def data_dir():
    "The shipped data directory ($NEUROSYCO_DATA, else ../shared/data); tests never download."
    d = os.environ.get("NEUROSYCO_DATA") or str(pathlib.Path(__file__).resolve().parents[2] / "shared" / "data")
    if not pathlib.Path(d, "anthropic_sycophancy").exists(): pytest.skip(f"no data directory at {d}")
    return d


def make_standin_run(root) -> pathlib.Path:
    "A run folder with a stand-in organism (the tiny model itself) and stand-in neuron sets and scores, for stage 04."
    from safetensors.torch import save_file
    from neurosyco.core import NeuronSet, load_model, organism_dir, stage_dir, write_meta
    root = pathlib.Path(root)
    L = load_model("tiny-llama", device="cpu")
    d = organism_dir(root, "tiny-llama"); d.mkdir(parents=True)
    L.model.save_pretrained(d); L.tokenizer.save_pretrained(d)
    write_meta(d.parent, "tiny-llama", "organism", {"stand_in": True})
    nd = stage_dir(root, "tiny-llama", "neurons")
    NeuronSet({1: [0, 9, 17], 3: [4, 5]}).save(nd / "neuronset.json"); NeuronSet({1: [2, 3, 30], 3: [1, 7]}).save(nd / "random.json")
    save_file({"scores": torch.rand(4, 128, generator=torch.Generator().manual_seed(0))}, str(nd / "scores.safetensors"))
    write_meta(nd, "tiny-llama", "neurons", {"stand_in": True})
    return root


@pytest.fixture
def run_dir(tmp_path):
    return make_standin_run(tmp_path)

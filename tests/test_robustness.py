"""Bad input, one case per test: each gives an error that names the problem and leaves no partial artifact behind.

Further cases live beside the code they guard: model loading and data files in test_foundation.py (unknown key,
folder without weights, missing embedded package, Gemma-2 without hub, missing/empty/malformed data files, missing
fields, unknown answer letter), stage 04 in test_train.py (unknown profile, bad selection, stage 03 missing, a leak
outside the selection), and the notebooks' own tests (nbdev_test).
"""
import json, pathlib, subprocess, sys
import pytest, torch
from neurosyco import core, train
from neurosyco.core import NeuronSet, load_model, read_json, stage_dir, write_meta

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _no_result(run_dir, stage, method=None):
    "The stage left nothing that looks finished: no meta.json and no saved model."
    d = stage_dir(run_dir, "tiny-llama", stage, create=False) / (method or "")
    assert not (d / "meta.json").exists() and not (d / "model").exists(), sorted(p.name for p in d.glob("*"))


def test_model_path_that_does_not_exist(tmp_path):
    with pytest.raises(core.ModelLoadError, match="neither a registry key"): load_model(tmp_path / "nowhere")


def test_folder_without_config(tmp_path):
    (tmp_path / "model.safetensors").write_bytes(b"")
    with pytest.raises(core.ModelLoadError, match="no config.json"): load_model(tmp_path)


def test_unknown_method(run_dir, data_dir):
    with pytest.raises(ValueError, match="unknown method 'sgd'"): train.train_stage("tiny-llama", run_dir, "sgd", "quick", data_dir)
    _no_result(run_dir, "train", "sgd")


@pytest.mark.parametrize("kw,msg", [(dict(seed="abc"), "parameter 'seed' must be int, got str 'abc'"),
                                    (dict(top_frac="0.03"), "parameter 'top_frac' must be int or float or None"),
                                    (dict(steps=2.5), "parameter 'steps' must be int or None")])
def test_wrong_typed_parameter(run_dir, data_dir, kw, msg):
    with pytest.raises(TypeError, match=msg): train.train_stage("tiny-llama", run_dir, "masked", "quick", data_dir, **kw)
    _no_result(run_dir, "train", "masked")


def test_wrong_typed_papermill_parameter(tmp_path):
    "`-p seed abc` reaches the notebook as a string: the stage names the parameter before doing any work."
    pm = pathlib.Path(sys.executable).parent / "papermill"
    r = subprocess.run([str(pm), "nbs/03_decode.ipynb", str(tmp_path / "out.ipynb"), "--cwd", "nbs", "-p", "model", "tiny-llama",
                        "-p", "run_dir", str(tmp_path / "runs"), "-p", "seed", "abc", "--log-level", "ERROR"],
                       cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode != 0 and "parameter 'seed' must be int, got str 'abc'" in r.stdout + r.stderr, (r.stdout + r.stderr)[-3000:]
    assert not (tmp_path / "runs" / "tiny-llama" / "neurons").exists()


def test_empty_neuron_set(run_dir, data_dir):
    NeuronSet({}).save(stage_dir(run_dir, "tiny-llama", "neurons") / "neuronset.json")
    with pytest.raises(ValueError, match="neuron set is empty"):
        train.train_stage("tiny-llama", run_dir, "masked", "quick", data_dir, steps=1, device="cpu", progress=False)
    _no_result(run_dir, "train", "masked")


def test_neuron_set_layer_out_of_range():
    with pytest.raises(IndexError, match="names layer 7"): NeuronSet({7: [1]}).validate(load_model("tiny-llama").spec)


def test_file_that_is_not_a_neuron_set(tmp_path):
    (tmp_path / "ns.json").write_text(json.dumps({"layers": [1, 2]}))
    with pytest.raises(ValueError, match="ns.json is not a neuron set"): NeuronSet.load(tmp_path / "ns.json")


@pytest.mark.parametrize("frac", [0, -0.1, 1.5, "3%"])
def test_top_frac_out_of_range(frac):
    from neurosyco.decode import select_top
    with pytest.raises(ValueError, match=r"top_frac must be in \(0, 1\]"): select_top(torch.rand(4, 128), frac)


def test_sae_of_the_wrong_width():
    from neurosyco.probes import check_sae, random_sae
    spec = load_model("tiny-llama").spec   # d_model 64
    with pytest.raises(ValueError, match="SAE width mismatch at layer 1: the SAE reads vectors of 32 dims"):
        check_sae(random_sae(32, 128), spec, 1)
    with pytest.raises(IndexError, match="SAE layer 9 is out of range"): check_sae(random_sae(64, 128), spec, 9)


def test_empty_probe_result():
    from neurosyco.decode import decoded_direction
    with pytest.raises(ValueError, match="empty probe result"): decoded_direction(torch.randn(16, 64), torch.zeros(16), torch.zeros(16))
    with pytest.raises(ValueError, match="the probe has 8 latents, the SAE decoder has 16"):
        decoded_direction(torch.randn(16, 64), torch.ones(8), torch.ones(8))


def test_stage_run_before_its_inputs(run_dir, data_dir):
    "Stage 02 before stage 01: says which notebook to run first, writes no result."
    from neurosyco.probes import probes_stage
    with pytest.raises(FileNotFoundError, match="01_activations"):
        probes_stage("tiny-llama", run_dir, "quick", data_dir, device="cpu", progress=False)
    _no_result(run_dir, "probes")


def test_evaluating_a_method_that_was_not_trained(run_dir, data_dir):
    from neurosyco.evaluate import eval_stage
    with pytest.raises(FileNotFoundError, match="'train' has not been run"):
        eval_stage("tiny-llama", run_dir, "masked", "quick", data_dir, device="cpu", progress=False)
    assert not (run_dir / "tiny-llama" / "eval" / "masked" / "metrics.json").exists()


def test_run_folder_from_another_model(run_dir, data_dir):
    nd = stage_dir(run_dir, "tiny-llama", "neurons")
    write_meta(nd, "tiny-gemma2", "neurons", {"copied": True})   # e.g. a folder copied over from another model's run
    with pytest.raises(ValueError, match="holds a 'neurons' result for model 'tiny-gemma2', not 'tiny-llama'"):
        train.train_stage("tiny-llama", run_dir, "masked", "quick", data_dir, steps=1, device="cpu", progress=False)
    _no_result(run_dir, "train", "masked")


def test_corrupt_meta_json(run_dir):
    f = run_dir / "tiny-llama" / "organism" / "meta.json"; f.write_text('{"model": "tiny-')
    with pytest.raises(ValueError, match="meta.json is not valid JSON"): core.start_model("tiny-llama", run_dir, "cpu")


def test_nan_loss_during_training(tmp_path):
    from neurosyco.data import synthetic_claims
    from neurosyco.organism import ab_examples
    from neurosyco.lm import finetune
    L = load_model("tiny-llama", device="cpu"); before = {k: v.clone() for k, v in L.model.state_dict().items()}
    L.model.model.norm.register_forward_hook(lambda mod, inp, out: out * float("nan"))
    ex = ab_examples(synthetic_claims(4, ["Ann Lee", "Bo Chan"], seed=1), L.tokenizer, follow="truth")
    with pytest.raises(FloatingPointError, match="training loss is nan at step 1 of 3"):
        finetune(L.model, L.tokenizer, ex, steps=3, lr=1e-3, batch_size=2, out_dir=tmp_path / "ckpt", checkpoint_every=1, progress=False)
    assert not list((tmp_path / "ckpt").glob("*")) if (tmp_path / "ckpt").exists() else True
    assert all(torch.equal(v, before[k]) for k, v in L.model.state_dict().items())


def test_corrupt_cache_shard(tmp_path):
    from neurosyco.data import ABItem
    from neurosyco.activations import cache_activations, locate_rows, read_activations
    L = load_model("tiny-llama", device="cpu")
    items = [ABItem(f"nlp:{i}", "nlp", f"I agree that X{i}.", f"Do you agree? X{i}.", ("Agree", "Disagree"), i % 2, f"g{i}") for i in range(4)]
    idx = cache_activations(L.model, L.tokenizer, locate_rows(items, L.tokenizer), tmp_path, (1,), batch_size=2, shard_size=4, progress=False)
    shard = tmp_path / idx["shards"][1]["file"]
    shard.write_bytes(shard.read_bytes()[: shard.stat().st_size // 2])   # a shard cut short (disk full, copy interrupted)
    with pytest.raises(ValueError, match=f"shard {shard} is corrupt"): read_activations(tmp_path, "margin")

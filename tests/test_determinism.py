"""Same seed, same results on CPU: stages 00-05 run twice on tiny-gemma2 (the Gemma-2 code path) in two run folders give the
same organism weights, NeuronSet, tuned weights (masked and LoRA) and metrics, bit for bit, at the thread count the pipeline
uses (`threads="auto"`: all cores, the same on every run); another seed gives another organism. A LoRA run is a function of
its id: random numbers drawn before it do not change its weights."""
import json, os
import pytest, torch
from safetensors.torch import load_file
from neurosyco.core import NeuronSet, load_model, organism_dir, read_json, stage_dir
from neurosyco.organism import organism_stage, ab_examples
from neurosyco.activations import activations_stage
from neurosyco.probes import probes_stage
from neurosyco.decode import decode_stage
from neurosyco.evaluate import eval_stage
from neurosyco.data import ABItem
from neurosyco import train

M = "tiny-gemma2"
TRAINED = ("masked", "lora")


def _pipeline(run_dir, data_dir, seed=0):
    kw = dict(profile="quick", data_dir=data_dir, seed=seed, device="cpu")
    organism_stage(M, run_dir, progress=False, **kw)          # threads="auto" everywhere: what the pipeline runs with
    activations_stage(M, run_dir, progress=False, **kw)
    probes_stage(M, run_dir, progress=False, **kw)
    decode_stage(M, run_dir, **kw)
    for m in TRAINED: train.train_stage(M, run_dir, m, steps=2, progress=False, **kw)
    eval_stage(M, run_dir, "organism", progress=False, **kw)
    nd = stage_dir(run_dir, M, "neurons", create=False)
    metrics = json.loads((stage_dir(run_dir, M, "eval", create=False) / "organism" / "metrics.json").read_text())
    return NeuronSet.load(nd / "neuronset.json"), load_file(str(nd / "scores.safetensors"))["scores"], metrics


def _weights(run_dir, method):
    return load_file(str(stage_dir(run_dir, M, "train", create=False) / method / "model" / "model.safetensors"))


def _same(a, b): return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_same_seed_same_neurons_weights_and_metrics(tmp_path, data_dir, monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    n0 = torch.get_num_threads()
    try:
        ns_a, sc_a, m_a = _pipeline(tmp_path / "a", data_dir)
        ns_b, sc_b, m_b = _pipeline(tmp_path / "b", data_dir)
    finally: torch.set_num_threads(n0)
    for r in ("a", "b"):   # every stage that sets threads ran on all cores
        for st in ("activations", "probes"):
            assert read_json(stage_dir(tmp_path / r, M, st, create=False) / "meta.json")["params"]["threads"] == os.cpu_count()
        assert read_json(stage_dir(tmp_path / r, M, "organism", create=False) / "meta.json")["threads"] == os.cpu_count()
    assert ns_a.n > 0 and ns_a.indices == ns_b.indices and ns_a.scores == ns_b.scores
    assert torch.equal(sc_a, sc_b)
    w = [load_file(str(organism_dir(tmp_path / r, M) / "model.safetensors")) for r in ("a", "b")]
    assert _same(*w)
    for m in TRAINED:
        wa, wb = _weights(tmp_path / "a", m), _weights(tmp_path / "b", m)
        assert _same(wa, wb), m
        assert not _same(wa, w[0]), m          # tuning changed the organism: the comparison is not of untouched weights
    assert not _same(_weights(tmp_path / "a", "masked"), _weights(tmp_path / "a", "lora"))
    for d in ("nlp", "phil", "poli"): assert m_a[d]["rate"] == m_b[d]["rate"]
    drop = {"seconds", "timings", "finished"}
    assert {k: v for k, v in m_a.items() if k not in drop} == {k: v for k, v in m_b.items() if k not in drop}
    organism_stage(M, tmp_path / "c", "quick", data_dir, seed=1, device="cpu", progress=False)
    torch.set_num_threads(n0)
    w1 = load_file(str(organism_dir(tmp_path / "c", M) / "model.safetensors"))
    assert any(not torch.equal(w[0][k], w1[k]) for k in w1)   # the seed matters: the test could fail


def test_lora_weights_do_not_depend_on_earlier_random_draws(monkeypatch):
    lm = load_model("tiny-llama", device="cpu")
    items = [ABItem(f"x:{i}", "nlp", f"I am user {i} and I agree.", f"Do you agree with claim {i}?", ("Agree", "Disagree"),
                    syco=i % 2, group=str(i)) for i in range(4)]
    ex = ab_examples(items, lm.tokenizer, True)
    runner = train.Runner(lm.model, lm.tokenizer, lm.spec, None, steps=2, batch_size=2, progress=False)
    start = {k: v.clone() for k, v in lm.model.state_dict().items()}
    def merged():
        prep, _ = runner.train("lora", 1e-2, ex)
        return {k: v.clone() for k, v in prep.finish().state_dict().items()}
    a = merged(); torch.rand(100); b = merged()
    assert _same(a, b) and not _same(a, start)
    # the control: without seeding each run from its id, the draw in between changes LoRA's init, and so the weights
    monkeypatch.setattr(train, "set_seed", lambda seed: None)
    c = merged(); torch.rand(100); d = merged()
    assert not _same(c, d)

"""Same seed, same results on CPU: stages 00-03 and 05 run twice on tiny-gemma2 (the Gemma-2 code path) in two run folders
give the same organism weights, NeuronSet and metrics, bit for bit, at a fixed CPU thread count (`threads="auto"` picks 1 or
2 threads by timing, and the float summation order follows the thread count); another seed gives another organism."""
import json
import pytest, torch
from safetensors.torch import load_file
from neurosyco.core import NeuronSet, organism_dir, stage_dir
from neurosyco.organism import organism_stage
from neurosyco.activations import activations_stage
from neurosyco.probes import probes_stage
from neurosyco.decode import decode_stage
from neurosyco.evaluate import eval_stage

M = "tiny-gemma2"


def _pipeline(run_dir, data_dir, seed=0):
    kw = dict(profile="quick", data_dir=data_dir, seed=seed, device="cpu")
    torch.set_num_threads(1)
    organism_stage(M, run_dir, progress=False, **kw)
    activations_stage(M, run_dir, progress=False, threads=1, **kw)
    probes_stage(M, run_dir, progress=False, threads=1, **kw)
    decode_stage(M, run_dir, threads=1, **kw)
    eval_stage(M, run_dir, "organism", progress=False, **kw)
    nd = stage_dir(run_dir, M, "neurons", create=False)
    metrics = json.loads((stage_dir(run_dir, M, "eval", create=False) / "organism" / "metrics.json").read_text())
    return NeuronSet.load(nd / "neuronset.json"), load_file(str(nd / "scores.safetensors"))["scores"], metrics


def test_same_seed_same_neurons_and_metrics(tmp_path, data_dir):
    ns_a, sc_a, m_a = _pipeline(tmp_path / "a", data_dir)
    ns_b, sc_b, m_b = _pipeline(tmp_path / "b", data_dir)
    assert ns_a.n > 0 and ns_a.indices == ns_b.indices and ns_a.scores == ns_b.scores
    assert torch.equal(sc_a, sc_b)
    w = [load_file(str(organism_dir(tmp_path / r, M) / "model.safetensors")) for r in ("a", "b")]
    assert all(torch.equal(w[0][k], w[1][k]) for k in w[0])
    for d in ("nlp", "phil", "poli"): assert m_a[d]["rate"] == m_b[d]["rate"]
    drop = {"seconds", "timings", "finished"}
    assert {k: v for k, v in m_a.items() if k not in drop} == {k: v for k, v in m_b.items() if k not in drop}
    torch.set_num_threads(1)
    organism_stage(M, tmp_path / "c", "quick", data_dir, seed=1, device="cpu", progress=False)
    w1 = load_file(str(organism_dir(tmp_path / "c", M) / "model.safetensors"))
    assert any(not torch.equal(w[0][k], w1[k]) for k in w1)   # the seed matters: the test could fail

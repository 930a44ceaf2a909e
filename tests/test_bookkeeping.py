"""Nothing stale, nothing lost: each result is checked against the inputs it was made from, and a bad rerun keeps the
previous good result. Tiny models, the quick profile; each case is one observation of the bookkeeping issue."""
import json, pathlib, shutil, subprocess, sys, time
import pytest, torch
from safetensors.torch import save_file
from neurosyco import core, train
from neurosyco.core import NeuronSet, StaleError, read_json, stage_dir, write_meta
from neurosyco.evaluate import eval_stage
from neurosyco.paper import stale_reasons

ROOT = pathlib.Path(__file__).resolve().parents[1]
M = "tiny-llama"
SMALL = dict(n_nlp=2, n_phil=2, n_poli=2, n_syco_bench=1, n_tqa=2, n_kl=2, n_boot=20)


def _reselect(run_dir, indices):
    "Stage 03 run again with another result: a new neuron set, a new meta.json."
    nd = stage_dir(run_dir, M, "neurons")
    NeuronSet(indices).save(nd / "neuronset.json")
    NeuronSet({l: [i + 40 for i in ix] for l, ix in indices.items()}).save(nd / "random.json")  # its random twin
    write_meta(nd, M, "neurons", {"stand_in": True, "profile": "quick", "seed": 0})


def test_rerun_upstream_makes_dependants_stale(run_dir, data_dir):
    "Rerunning 03 makes masked tuning (not full) stale; retraining it makes its evaluation stale; by hand, evaluation refuses."
    kw = dict(profile="quick", data_dir=data_dir, device="cpu", progress=False)
    for m in ("masked", "full"): train.train_stage(M, run_dir, m, steps=1, **kw)
    eval_stage(M, run_dir, "masked", **kw, **SMALL)
    assert stale_reasons(run_dir, M, "train", "quick", 0, "masked") == []
    assert stale_reasons(run_dir, M, "eval", "quick", 0, "masked") == []
    _reselect(run_dir, {1: [0, 9, 17, 30], 3: [4, 5]})                    # 03 again: 5 -> 6 neurons
    why = stale_reasons(run_dir, M, "train", "quick", 0, "masked")
    assert any("'neurons'" in w for w in why), why
    assert stale_reasons(run_dir, M, "train", "quick", 0, "full") == []   # full fine-tuning never read the neurons
    with pytest.raises(StaleError, match="input 'neurons'.*papermill nbs/04_train.ipynb"):
        eval_stage(M, run_dir, "masked", **kw, **SMALL)                    # by hand: the evaluation names what to rerun
    train.train_stage(M, run_dir, "masked", steps=1, **kw)
    assert read_json(stage_dir(run_dir, M, "train") / "masked" / "meta.json")["neurons"]["selected"] == 6
    assert any("'weights'" in w for w in stale_reasons(run_dir, M, "eval", "quick", 0, "masked"))
    eval_stage(M, run_dir, "masked", **kw, **SMALL)
    assert stale_reasons(run_dir, M, "eval", "quick", 0, "masked") == []


def test_retrained_organism_makes_everything_after_it_stale(run_dir, data_dir):
    train.train_stage(M, run_dir, "full", "quick", data_dir, steps=1, device="cpu", progress=False)
    org = stage_dir(run_dir, M, "organism")
    write_meta(org, M, "organism", {"stand_in": True, "seed": 1})          # another organism (e.g. `-p seed 1`)
    assert any("'start'" in w for w in stale_reasons(run_dir, M, "train", "quick", 0, "full"))


def test_changed_data_file_is_seen(tmp_path, data_dir):
    "A stage that read a data file is stale once that file changes (e.g. cut at a line boundary)."
    rel = "anthropic_sycophancy/sycophancy_on_nlp_survey.jsonl"
    f = tmp_path / "data" / rel; f.parent.mkdir(parents=True); shutil.copy(pathlib.Path(data_dir) / rel, f)
    saved = core.DATA_READS.pop(rel, None)
    try:
        core.note_data_file(f, 1514, rel=rel)
        write_meta(tmp_path / "runs" / M / "eval" / "native", M, "eval", {"profile": "quick", "seed": 0})
        assert stale_reasons(tmp_path / "runs", M, "eval", "quick", 0, "native") == []
        f.write_text("".join(f.read_text().splitlines(keepends=True)[:300]))
        why = stale_reasons(tmp_path / "runs", M, "eval", "quick", 0, "native")
        assert any("sycophancy_on_nlp_survey.jsonl" in w for w in why), why
    finally:
        core.DATA_READS.pop(rel, None)
        if saved is not None: core.DATA_READS[rel] = saved


def test_bad_rerun_keeps_the_good_result(run_dir, data_dir):
    "`-p top_frac 0` after a good masked run: the error comes before any write; the old run is still there and evaluable."
    kw = dict(profile="quick", data_dir=data_dir, device="cpu", progress=False)
    train.train_stage(M, run_dir, "masked", steps=1, **kw)
    out = stage_dir(run_dir, M, "train") / "masked"
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    with pytest.raises(ValueError, match="top_frac"):
        train.train_stage(M, run_dir, "masked", steps=1, top_frac=0.0, **kw)
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]   # no half-made sibling
    eval_stage(M, run_dir, "masked", **kw, **SMALL)


def test_a_failed_run_leaves_no_half_folder(run_dir, data_dir, monkeypatch):
    "A run that fails while saving (here: the model) leaves neither a folder nor a temporary sibling."
    monkeypatch.setattr(train, "save_model", lambda *a, **k: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        train.train_stage(M, run_dir, "full", "quick", data_dir, steps=1, device="cpu", progress=False)
    t = stage_dir(run_dir, M, "train")
    assert not (t / "full").exists() and not [p for p in t.iterdir() if p.name.startswith(".full")]


def test_parameter_typo_fails_before_the_tests(tmp_path):
    "A papermill run with a bad parameter fails at the check cell at the top: no test cell runs (the README's command, from the root)."
    pm = pathlib.Path(sys.executable).parent / "papermill"
    out = tmp_path / "out.ipynb"
    t0 = time.perf_counter()
    r = subprocess.run([str(pm), "nbs/04_train.ipynb", str(out), "-p", "model", "tiny-llama", "-p", "method", "maskd",
                        "-p", "run_dir", str(tmp_path / "runs"), "--log-level", "ERROR"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    seconds = time.perf_counter() - t0
    assert r.returncode != 0 and "unknown method 'maskd'" in r.stdout + r.stderr, (r.stdout + r.stderr)[-3000:]
    nb = json.loads(out.read_text())
    ran = [c for c in nb["cells"] if c["cell_type"] == "code" and c.get("execution_count")]
    assert all({"parameters", "stage", "injected-parameters"} & set(c["metadata"].get("tags", [])) for c in ran), \
        [c["source"][:80] for c in ran]
    print(f"parameter typo reported after {seconds:.1f} s")
    assert not (tmp_path / "runs").exists()


def test_readme_stage_command_resolves_run_dir_from_the_root(tmp_path):
    "Without `-p run_dir` a stage run from the repository root reads `<repository>/runs`, and its error shows the full path."
    from neurosyco.core import default_run_dir, stage_params
    assert default_run_dir() == ROOT / "runs"
    assert stage_params(run_dir=None).run_dir == str(ROOT / "runs")

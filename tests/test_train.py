"Stage 04 end to end on tiny models: every method keeps its invariant, sweeps run and cache, a killed run resumes."
import os, signal, subprocess, sys, textwrap, time
import pytest, torch
from safetensors.torch import load_file, save_file
from neurosyco.core import NeuronSet, load_model, organism_dir, read_json, stage_dir, start_model, write_meta
from neurosyco import masking, sweeps, train


def test_every_method_keeps_its_invariant(run_dir, data_dir):
    res = {m: train.train_stage("tiny-llama", run_dir, m, "quick", data_dir, steps=2, device="cpu", progress=False)
           for m in ("random", "full", "lora")}
    for m, r in res.items():
        meta = read_json(run_dir / "tiny-llama" / "train" / m / "meta.json")
        assert meta["invariant"]["unselected_identical"] and meta["invariant"]["selected_changed"], m
        assert (run_dir / "tiny-llama" / "train" / m / "model" / "model.safetensors").exists()
    assert res["random"]["neurons"]["per_layer"] == [0, 3, 0, 2] and res["random"]["trainable_params"] == 5 * 3 * 64
    assert res["full"]["trainable_params"] > 100 * res["lora"]["trainable_params"]
    # LoRA leaves everything but the MLP projections bit-identical
    start = load_file(str(organism_dir(run_dir, "tiny-llama") / "model.safetensors"))
    lora = load_file(str(run_dir / "tiny-llama" / "train" / "lora" / "model" / "model.safetensors"))
    for k, v in start.items():
        assert torch.equal(v, lora[k]) != any(p in k for p in ("gate_proj", "up_proj", "down_proj")), k


def test_a_leak_outside_the_selection_fails_loudly(run_dir, data_dir, monkeypatch):
    merge = masking.NeuronDeltas.merge
    def leaky(self):
        m = merge(self)
        with torch.no_grad(): m.model.layers[0].self_attn.q_proj.weight[0, 0] += 1e-3
        return m
    monkeypatch.setattr(masking.NeuronDeltas, "merge", leaky)
    with pytest.raises(masking.InvariantError, match="q_proj"):
        train.train_stage("tiny-llama", run_dir, "masked", "quick", data_dir, steps=2, device="cpu", progress=False)
    assert not (run_dir / "tiny-llama" / "train" / "masked" / "model").exists()


def test_bad_input_names_the_problem(run_dir, data_dir, tmp_path):
    with pytest.raises(ValueError, match="unknown profile"): train.train_stage("tiny-llama", run_dir, "masked", "huge", data_dir)
    with pytest.raises(ValueError, match="selection"): train.train_stage("tiny-llama", run_dir, "masked", "quick", data_dir, selection="best")
    empty = tmp_path / "other"
    L = load_model("tiny-llama", device="cpu"); d = organism_dir(empty, "tiny-llama"); d.mkdir(parents=True)
    L.model.save_pretrained(d); write_meta(d.parent, "tiny-llama", "organism", {})
    with pytest.raises(FileNotFoundError, match="03_decode"):
        train.train_stage("tiny-llama", empty, "masked", "quick", data_dir, device="cpu", progress=False)


def test_sweeps_run_and_resume_from_cache(run_dir, data_dir, monkeypatch):
    ds = sweeps.data_sweep("tiny-llama", run_dir, "quick", data_dir, device="cpu", methods=("masked", "full"), sizes=[4, None], progress=False)
    assert [(r["method"], r["n_train"], r["source"]) for r in ds] == [(m, n, s) for m in ("masked", "full") for n, s in
                                                                   ((4, "benchmarks + synthetic"), (32, "benchmarks + synthetic"), (8, "synthetic only"))]
    syn, _ = train.correction_examples(start_model("tiny-llama", run_dir, "cpu"), run_dir, "tiny-llama", train.train_config("quick"),
                                       data_dir, synthetic_only=True)
    assert len(syn) == 8 and {it.dataset for it in syn} == {"synthetic"}   # not one benchmark item
    scored = [d for d in ("nlp", "phil", "poli") if d in ds[0]]  # the datasets the start follows on `val` (all if none)
    assert scored and all(-1 <= r[d] <= 1 and r[f"{d}_ci"] and f"{d}_rate" in r for r in ds for d in scored)
    assert all(r["examples_seen"] == 4 * 6 and r["epochs"] == round(24 / r["n_examples"], 3) for r in ds)  # quick: 6 steps of 4
    # every row is trained again at a second seed (the quick profile's sweep_seeds), same items and rate
    assert all([x["seed"] for x in r["seeds"]] == [0, 1] and r["seeds"][0][scored[0]] == round(r[scored[0]], 4) for r in ds)
    assert all(len(x["items"][scored[0]]["margins"]) == len(x["items"][scored[0]]["ids"]) for r in ds for x in r["seeds"])
    recs = [read_json(f) for f in (run_dir / "tiny-llama" / "train" / "cache").glob("*.json")]
    assert {(r["seed"], r["lr"], r["n_examples"]) for r in recs if r["seed"] == 1} == {(1, r["lr"], r["n_examples"]) for r in ds}
    bs = sweeps.budget_sweep("tiny-llama", run_dir, "quick", data_dir, device="cpu", fracs=[0.02], progress=False)
    assert [(r["selection"], r["neurons"]) for r in bs] == [("located", 10), ("random", 10)]
    assert all(r["kl_neutral"] > 0 for r in bs)
    assert all([x["seed"] for x in r["seeds"]] == [0, 1] and r["seeds"][0]["kl_neutral"] == r["kl_neutral"] for r in bs)
    monkeypatch.setattr(train, "finetune", lambda *a, **k: 1 / 0)  # a rerun must not train
    assert sweeps.budget_sweep("tiny-llama", run_dir, "quick", data_dir, device="cpu", fracs=[0.02], progress=False) == bs
    assert sweeps.data_sweep("tiny-llama", run_dir, "quick", data_dir, device="cpu", methods=("masked",), sizes=[4], synthetic=False,
                             progress=False) == ds[:1]


def test_data_sweep_retunes_smaller_sets(run_dir, data_dir, monkeypatch):
    "A smaller training set gets its own rate, chosen on `val` over the full-data rate and its neighbours; the whole pool keeps the stage's."
    monkeypatch.setattr(train.PROFILES["quick"], "lrs", {"full": [1e-4, 1e-3, 1e-2], "lora": [1e-3], "neurons": [2e-3, 4e-3, 8e-3]})
    ds = sweeps.data_sweep("tiny-llama", run_dir, "quick", data_dir, device="cpu", methods=("masked", "full"), sizes=[4, None], progress=False)
    for r in ds:
        if r["n_train"] == 4 or r["source"] == "synthetic only":
            scores = {float(k): v for k, v in r["val_scores"].items()}
            assert len(scores) >= 2 and r["full_data_lr"] in scores and r["lr"] == train.choose_lr(scores), r
            assert r["lrs_tried"] == sorted(scores)
        else:
            assert r["lr"] == r["full_data_lr"] and r["val_scores"] is None, r
    # a given whole-pool rate (the main command's frontier choice, when stage 04 did not run) is the one used, and said
    dg = sweeps.data_sweep("tiny-llama", run_dir, "quick", data_dir, device="cpu", methods=("masked",), sizes=[None], synthetic=False,
                           progress=False, lrs={"masked": 8e-3})
    assert [(r["full_data_lr"], r["lr"], r["full_data_lr_source"]) for r in dg] == [(8e-3, 8e-3, "given")]
    assert all(r["full_data_lr_source"] != "given" for r in ds)


SCRIPT = textwrap.dedent("""
    import sys, time, torch
    from neurosyco.core import load_model, NeuronSet
    from neurosyco.data import synthetic_claims
    from neurosyco.organism import ab_examples
    from neurosyco.train import Runner
    cache, slow = sys.argv[1], sys.argv[2] == "slow"
    lm = load_model("tiny-llama", device="cpu")
    ex = ab_examples(synthetic_claims(8, ["Ann Lee", "Bo Chan"], seed=1), lm.tokenizer, follow="truth")
    if slow:  # make every layer slow, so the kill lands between checkpoints
        for l in lm.model.model.layers: l.register_forward_hook(lambda *a: time.sleep(0.02))
    r = Runner(lm.model, lm.tokenizer, lm.spec, cache, steps=24, batch_size=4, progress=False, checkpoint_every=3)
    prep, rec = r.train("masked", 1e-2, ex, NeuronSet({1: [0, 9], 3: [4, 5]}))
    print(rec["train"]["resumed_from"])
""")


def _run(cache, slow):
    return subprocess.Popen([sys.executable, "-c", SCRIPT, str(cache), "slow" if slow else "fast"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_killed_masked_run_resumes_identically(tmp_path):
    ref = _run(tmp_path / "ref", slow=False)
    assert ref.wait(timeout=300) == 0, ref.stderr.read().decode()[-2000:]
    cut = _run(tmp_path / "cut", slow=True)
    deadline = time.time() + 240
    while time.time() < deadline and cut.poll() is None:  # kill once a checkpoint exists
        if list((tmp_path / "cut").glob("*.ckpt/checkpoint.pt")): break
        time.sleep(0.05)
    assert cut.poll() is None, "the run finished before it could be killed"
    time.sleep(0.3); os.kill(cut.pid, signal.SIGKILL); cut.wait()
    assert not list((tmp_path / "cut").glob("*.safetensors"))
    res = _run(tmp_path / "cut", slow=False)
    assert res.wait(timeout=300) == 0, res.stderr.read().decode()[-2000:]
    assert int(res.stdout.read().decode().split()[-1]) >= 3  # it resumed, not restarted
    a, b = [load_file(str(next((tmp_path / d).glob("*.safetensors")))) for d in ("ref", "cut")]
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_budget_sweep_tunes_each_set_for_itself(run_dir, data_dir, monkeypatch):
    "Located and random sets each get a rate from their own runs on `val` (the random set is not handed the located set's)."
    monkeypatch.setattr(train.PROFILES["quick"], "lrs", {"full": [1e-4], "lora": [1e-3], "neurons": [2e-3, 8e-3]})
    calls, real = [], sweeps.tune
    def spy(*a, **k):
        t = real(*a, **k); calls.append((a[10], t)); return t
    monkeypatch.setattr(sweeps, "tune", spy)
    bs = sweeps.budget_sweep("tiny-llama", run_dir, "quick", data_dir, device="cpu", fracs=[0.02], progress=False)
    assert [sel for sel, _ in calls] == ["located", "random"]
    for (sel, t), row in zip(calls, bs):
        assert row["selection"] == sel and t["selection"] == sel and row["lr"] == t["lr"]
        assert all(list(r) == [sel] for r in t["runs"].values())  # every tuning run trained this set
        assert row["val_score"] == t["scores"][str(t["lr"])]
    ids = [{r[sel]["run_id"] for r in t["runs"].values()} for sel, t in calls]
    assert not ids[0] & ids[1]  # no run shared between the sets


def test_frontier_runs_each_method_over_its_rates(run_dir, data_dir, monkeypatch):
    "The frontier: every method at every rate of its family's grid and every training seed; masked and random each on their own set."
    monkeypatch.setattr(sweeps.SWEEP_PROFILES["quick"], "frontier_seeds", 2)
    rows = sweeps.frontier_sweep("tiny-llama", run_dir, "quick", data_dir, device="cpu", methods=("masked", "random", "full"), progress=False)
    assert [(r["method"], r["lr"]) for r in rows] == [("masked", 1e-3), ("masked", 4e-3), ("random", 1e-3), ("random", 4e-3), ("full", 2e-4)]
    # replicates: training seeds for masked and full, draws of the set (one training seed) for random
    assert all([x["seed"] for x in r["seeds"]] == ([0, 0] if r["method"] == "random" else [0, 1]) for r in rows)
    assert all([x["set"] for x in r["seeds"]] == ["random_0", "random_1"] for r in rows if r["method"] == "random")
    assert all(r["seeds"][0]["kl_neutral"] == r["kl_neutral"] for r in rows)
    assert rows[2]["seeds"][0]["kl_neutral"] != rows[2]["seeds"][1]["kl_neutral"]   # another draw, another model
    # each method's own best: one chosen rate per method, the smallest within tol of the best val |follow| averaged
    # over the point's replicates (every replicate scored on val, not only the first)
    recs = [read_json(f) for f in (run_dir / "tiny-llama" / "train" / "cache").glob("*.json")]
    assert sum(any(k.startswith("val") for k in r["evals"]) for r in recs if r["method"] != "none") == 10   # one per replicate
    assert all(len(r["seeds"]) == 2 and abs(r["val_score"] - sum(x["val_score"] for x in r["seeds"]) / 2) < 1e-6 for r in rows)
    assert any(r["seeds"][0]["val_score"] != r["seeds"][1]["val_score"] for r in rows)   # the mean is not the first replicate's
    for m in ("masked", "random", "full"):
        mr = [r for r in rows if r["method"] == m]
        assert sum(r["chosen"] for r in mr) == 1, m
        best = min(r["val_score"] for r in mr)
        assert next(r for r in mr if r["chosen"])["lr"] == min(r["lr"] for r in mr if r["val_score"] <= best + train.PROFILES["quick"].tol)
    assert all(r["kl_neutral"] > 0 for r in rows) and rows[0]["kl_neutral"] != rows[2]["kl_neutral"]  # other sets, other models
    # KL per neutral prompt at every seed (paired statistics), its mean the row's
    assert all(len(x["kl_prompts"]) == 8 and abs(sum(x["kl_prompts"]) / 8 - x["kl_neutral"]) < 1e-5 for r in rows for x in r["seeds"])
    scored = [d for d in ("nlp", "phil", "poli") if d in rows[0]]
    assert scored and all(len(x["items"][scored[0]]["margins"]) == len(x["items"][scored[0]]["ids"]) for r in rows for x in r["seeds"])
    monkeypatch.setattr(train, "finetune", lambda *a, **k: 1 / 0)  # a rerun trains nothing
    assert sweeps.frontier_sweep("tiny-llama", run_dir, "quick", data_dir, device="cpu", methods=("masked", "random", "full"), progress=False) == rows
    # every method at its own best on every test item: the frontier's chosen runs themselves (nothing trains: finetune fails)
    ob = sweeps.own_best_sweep("tiny-llama", run_dir, "quick", data_dir, device="cpu", progress=False)
    ch = [r for r in rows if r["chosen"]]
    assert [(r["method"], r["lr"], r["replicates"]) for r in ob] == [(r["method"], r["lr"], r["replicates"]) for r in ch]
    for o, f in zip(ob, ch):   # the same models: the sample's follow and the KL of every replicate are the frontier's
        assert [x["sample"][scored[0]] for x in o["seeds"]] == [x[scored[0]] for x in f["seeds"]] and [x["set"] for x in o["seeds"]] == [x["set"] for x in f["seeds"]]
        assert [x["kl_prompts"] for x in o["seeds"]] == [x["kl_prompts"] for x in f["seeds"]]
        n = o["n_test"][scored[0]]
        assert n > o["sample_n_test"] and all(len(x["items"][scored[0]]["ids"]) == n for x in o["seeds"])   # every test item, not the sample
    with pytest.raises(FileNotFoundError, match="frontier"):
        sweeps.own_best_sweep("tiny-llama", run_dir / "elsewhere", "quick", data_dir, device="cpu", progress=False)
    # the same runs again in the held-out format and on Syco-Bench (nothing trains: finetune still fails), the start first
    hb = sweeps.heldout_best_sweep("tiny-llama", run_dir, "quick", data_dir, device="cpu", progress=False)
    assert [(r["method"], r["lr"], r["replicates"]) for r in hb["rows"]] == [(r["method"], r["lr"], r["replicates"]) for r in ch]
    for h, f in zip(hb["rows"], ch):
        assert [x["kl_prompts"] for x in h["seeds"]] == [x["kl_prompts"] for x in f["seeds"]]   # the frontier's models
        assert all(len(x["items"][scored[0]]["ids"]) == 6 and -1 <= x[scored[0]] <= 1 for x in h["seeds"])   # quick: 6 items a dataset
        assert all(len(x["syco_bench"][t]["values"]) == x["syco_bench"][t]["n"] == 6 for x in h["seeds"] for t in ("pickside", "delusion"))
    assert sorted(hb["start"]["heldout"]) == sorted(scored) and len(hb["start"]["heldout"][scored[0]]["follow_ci"]) == 2
    assert read_json(run_dir / "tiny-llama" / "sweeps" / "heldout_best" / "rows.json") == hb["rows"]


def test_full_and_lora_runs_keep_their_weights(run_dir, data_dir, monkeypatch):
    "A cached full/LoRA run is evaluated again from its saved weights, never retrained, and comes back bit-identical."
    loaded = start_model("tiny-llama", run_dir, "cpu")
    cfg = train.train_config("quick")
    _, ex = train.correction_examples(loaded, run_dir, "tiny-llama", cfg, data_dir)
    r = train.Runner.from_config(loaded, run_dir / "cache", cfg, progress=False)
    first = {}
    for m in ("full", "lora"):
        snap = lambda model: {n: p.detach().clone() for n, p in model.named_parameters()}
        rec = r.run(m, 1e-3, ex, evals={"a": lambda model: first.setdefault(m, snap(model)) and 0.0})
        assert (run_dir / "cache" / f"{rec['run_id']}.weights.safetensors").exists()
    monkeypatch.setattr(train, "finetune", lambda *a, **k: 1 / 0)   # from here on, training would fail
    for m in ("full", "lora"):
        again = {}
        r.run(m, 1e-3, ex, evals={"b": lambda model: again.update({n: p.detach().clone() for n, p in model.named_parameters()}) or 0.0})
        assert again.keys() == first[m].keys() and all(torch.equal(again[k], first[m][k]) for k in again), m
        assert any(not torch.equal(again[k], r.start[k]) for k in again), m   # the trained weights, not the start's


def test_controls_tune_each_set_for_itself(run_dir, data_dir, monkeypatch):
    "The controls: uniform and leverage-matched random draws and the letter-located set, each tuned on its own runs, with overlaps."
    from neurosyco.activations import activations_stage
    from neurosyco.probes import probes_stage
    activations_stage("tiny-llama", run_dir, "quick", data_dir, device="cpu", progress=False)
    probes_stage("tiny-llama", run_dir, "quick", data_dir, device="cpu", progress=False)
    monkeypatch.setattr(train.PROFILES["quick"], "lrs", {**train.PROFILES["quick"].lrs, "neurons": [1e-3, 4e-3]})
    monkeypatch.setattr(train.PROFILES["quick"], "extend", 0)  # two rates per set, no growth past an edge
    # the frontier's control kinds: leverage-matched draws as replicates (one training seed), the letter set at letter_seeds
    monkeypatch.setattr(sweeps.SWEEP_PROFILES["quick"], "frontier_seeds", 2)
    fr = sweeps.frontier_sweep("tiny-llama", run_dir, "quick", data_dir, device="cpu", methods=("leverage", "letter"), progress=False)
    lev = [r for r in fr if r["method"] == "leverage"]
    assert [r["lr"] for r in lev] == [1e-3, 4e-3] and all([x["set"] for x in r["seeds"]] == ["leverage_0", "leverage_1"] for r in lev)
    assert all(r["replicates"] == "set draws" and [x["seed"] for x in r["seeds"]] == [0, 0] for r in lev)
    assert all(len(r["seeds"]) == 1 and r["seeds"][0]["set"] == "letter" for r in fr if r["method"] == "letter")
    rows = sweeps.controls_sweep("tiny-llama", run_dir, "quick", data_dir, device="cpu", progress=False)
    names = [r["set"] for r in rows]
    assert names[:5] == ["located", "random_0", "random_1", "leverage_0", "leverage_1"] and set(names[5:]) <= {"letter"}
    nd = run_dir / "tiny-llama" / "neurons"
    located, random0 = NeuronSet.load(nd / "neuronset.json"), NeuronSet.load(nd / "random.json")
    assert rows[1]["overlap_with_located"] == round(sum(len(set(located.indices.get(l, [])) & set(v)) for l, v in random0.indices.items()) / located.n, 4)
    for r in rows:
        assert r["neurons"] == located.n and r["lrs_tried"] == [1e-3, 4e-3] and r["tuned"], r["set"]
        if r["kind"] != "letter": assert r["per_layer"] == located.per_layer(4), r["set"]
        if r["kind"] == "leverage": assert r["overlap_with_located"] == 0.0   # drawn outside the located set
    assert rows[0]["overlap_with_located"] == 1.0
    assert len({r["kl_neutral"] for r in rows}) == len(rows)   # other sets, other models
    meta = read_json(run_dir / "tiny-llama" / "sweeps" / "controls" / "meta.json")
    assert set(meta["mean_log_leverage"]) == set(names) and "says_a" in meta["letter"]
    monkeypatch.setattr(train, "finetune", lambda *a, **k: 1 / 0)  # a rerun trains nothing
    assert sweeps.controls_sweep("tiny-llama", run_dir, "quick", data_dir, device="cpu", progress=False) == rows

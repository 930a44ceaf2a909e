"""Stage 02's SAE corpus holds no Syco-Bench, val, test or locate text, and no TruthfulQA question a synthetic set uses;
what a trained SAE learns from holds no locate residual (the probes' held-out rows), and does hold induce decision vectors."""
import pytest, torch
from neurosyco import data, probes


class NoChat: chat_template = None


def _dist(a, b):  # exact pairwise distances (cdist's matrix-product shortcut is off by ~1e-4 for equal vectors)
    return torch.cdist(a, b, compute_mode="donot_use_mm_for_euclid_dist")


@pytest.mark.parametrize("profile", ["quick", "full"])
def test_corpus_holds_nothing_measured_later(data_dir, profile):
    texts = probes.corpus_texts(NoChat(), False, data_dir, 0, **probes.PROFILES[profile].corpus)
    full = data.load_benchmarks(data_dir, with_test=True)
    # Syco-Bench: no statement or stance of any test (short topics such as "criminal justice reform" occur in POLI biographies)
    cells = {row[c] for t, cols in data.SYCO_BENCH_COLUMNS.items() for row in data.load_syco_bench(t, data_dir) for c in cols}
    cells = {c for c in cells if len(c) > 40}
    assert len(cells) > 100
    assert not [c for c in cells if any(c in t for t in texts)]
    # no val, test or locate item, in either option order
    held = [i for d in data.DATASETS for s in ("locate", "val", "test") for i in full[d][s]]
    rendered = {data.render(i, NoChat(), o, chat=False) for i in held for o in (0, 1)}
    assert not rendered & set(texts) and not any(i.bio in t for t in texts for i in held)
    induce = {data.render(i, NoChat(), o, chat=False) for d in data.DATASETS for i in full[d]["induce"] for o in (0, 1)}
    n_prompts = sum(t in induce for t in texts)
    assert n_prompts == probes.PROFILES[profile].corpus["n_prompts"]    # the prompts are all induce prompts
    # TruthfulQA: only the corpus's own part; none a synthetic set uses, none of the capability half
    halves, names = data.truthfulqa_halves(data_dir), data.load_names(data_dir)
    qs = {t[3:].split("\nA: ")[0] for t in texts if t.startswith("Q: ")}
    assert len(qs) == len(texts) - n_prompts > 0
    used = {i.claim for p in data.SYNTHETIC_PURPOSES for i in data.synthetic_set(p, 3000, names, halves["claims"])}
    assert not qs & used and not qs & {r["question"] for r in halves["eval"]}
    assert all(data.synthetic_part(q) == "corpus" for q in qs)


def test_sae_training_data_holds_no_locate_row(tmp_path, data_dir, monkeypatch):
    from neurosyco.core import load_model, organism_dir, write_meta
    from neurosyco.activations import activations_stage, locate_items, read_activations
    lm = load_model("tiny-llama", device="cpu")
    lm.model.save_pretrained(organism_dir(tmp_path, "tiny-llama"))   # a stand-in organism: the tiny model itself
    write_meta(organism_dir(tmp_path, "tiny-llama").parent, "tiny-llama", "organism", {"stand_in": True})
    activations_stage("tiny-llama", tmp_path, "quick", data_dir, device="cpu", progress=False)
    seen, train = {}, probes.train_sae
    def spy(acts, cfg, out_dir, hook_name, *a, **k):
        seen[int(hook_name.split(".")[1])] = acts.clone()
        return train(acts, cfg, out_dir, hook_name, *a, **k)
    monkeypatch.setattr(probes, "train_sae", spy)
    r = probes.probes_stage("tiny-llama", tmp_path, "quick", data_dir, device="cpu", progress=False,
                            sae_cfg=probes.SAETrainConfig(epochs=1, batch_size=128))
    assert sorted(seen) == [1, 2]
    act = tmp_path / "tiny-llama" / "activations"
    dec, ans = read_activations(act, "decision.resid"), read_activations(act, "answer.resid")
    induce = probes.decision_residuals(lm.model, lm.tokenizer, probes.induce_items(data_dir, 0, probes.PROFILES["quick"].decision),
                                       (1, 2), progress=False)
    for j, s in enumerate((1, 2)):
        X = seen[s]
        # no locate vector the probes read (decision; answer, both letters) is in the training data
        loc = torch.cat([dec[:, j], ans[:, :, j].flatten(0, 1)])
        assert len(loc) == 3 * 32
        assert _dist(loc, X).min(1).values.min() > 1e-2
        # every induce decision vector is, repeated to about a fifth of the data
        d = _dist(induce[s], X)
        assert d.min(1).values.max() < 1e-5
        copies = (d < 1e-5).sum(1)
        assert (copies >= r["sae"][s]["decision_copies"]).all() and r["sae"][s]["decision_copies"] >= 2
        assert 0.15 < r["sae"][s]["decision_copies"] * len(induce[s]) / len(X) < 0.25
    # the same kind of vector: read by the same code, the locate items give back what stage 01 recorded at the decision position
    again = probes.decision_residuals(lm.model, lm.tokenizer, locate_items(data_dir, 0, dict(nlp=4, phil=4, poli=4, synthetic=4)),
                                      (1, 2), progress=False)
    for j, s in enumerate((1, 2)):
        assert len(again[s]) == len(dec) and _dist(again[s], dec[:, j]).min(1).values.max() < 1e-4

"Split sizes by family, and the rule that only evaluation reads `test` (00_organism, 01_activations, 02_probes never do)."
import inspect
import pytest
from neurosyco import data

RULE = "the test split is read only by evaluation (05_eval, 05b_sweeps); pass with_test=True there"


def test_split_sizes_in_groups(data_dir):
    b = data.load_benchmarks(data_dir, with_test=True)
    groups = {d: {s: len({i.group for i in b[d][s]}) for s in data.SPLITS} for d in data.DATASETS}
    assert groups["nlp"] == {"induce": 4, "locate": 3, "train": 4, "val": 4, "test": 8}
    assert groups["phil"] == {"induce": 14, "locate": 6, "train": 6, "val": 7, "test": 14}
    assert groups["poli"] == {"induce": 120, "locate": 24, "train": 24, "val": 12, "test": 24}
    assert len(b["poli"]["test"]) == 408 and len(b["poli"]["val"]) == 204
    assert {d: sum(len(v) for v in b[d].values()) for d in data.DATASETS} == {"nlp": 1514, "phil": 300, "poli": 3468}
    assert len({i.question for i in b["poli"]["test"]}) == 16  # every quiz wording (two items share one), asked by unseen users
    for d in data.DATASETS:  # whole groups, each in one split
        seen = {}
        for s in data.SPLITS:
            for i in b[d][s]: seen.setdefault(i.group, set()).add(s)
        assert all(len(v) == 1 for v in seen.values()), d
    table = data.split_table(b, listing=("nlp",))
    assert "| nlp | 401 (4) | 141 (3) | 252 (4) | 305 (4) | 415 (8) |" in table and "**nlp test** (8 groups, 415 items)" in table


def test_default_hides_test_and_with_test_gives_it(data_dir):
    full = data.load_benchmarks(data_dir, with_test=True)
    b = data.load_benchmarks(data_dir)
    test_ids = {i.id for d in data.DATASETS for i in full[d]["test"]}
    for d in data.DATASETS:
        with pytest.raises(data.TestSplitError, match=RULE.replace("(", r"\(").replace(")", r"\)")): b[d]["test"]
        with pytest.raises(KeyError): b[d].get("test")              # a KeyError, as a missing split would be
        assert "test" not in b[d] and set(b[d]) == {"induce", "locate", "train", "val"}
        assert not {i.id for v in b[d].values() for i in v} & test_ids   # iterating never yields a test item
        assert [i.id for i in b[d]["val"]] == [i.id for i in full[d]["val"]]
        assert len(full[d]["test"]) > 0 and type(full[d]) is dict
    with pytest.raises(data.TestSplitError): data.split_table(b)      # the table needs with_test=True data
    assert "test" in data.cached_benchmarks(data_dir, with_test=True)["nlp"]
    with pytest.raises(data.TestSplitError): data.cached_benchmarks(data_dir)["nlp"]["test"]


def test_stages_gather_items_without_test(data_dir, monkeypatch):
    "The item-gathering functions of 00_organism, 01_activations and 02_probes never load `test`, and return no test item."
    from neurosyco import organism, activations, probes
    full = data.load_benchmarks(data_dir, with_test=True)
    split_of = {i.id: s for d in data.DATASETS for s in data.SPLITS for i in full[d][s]}
    calls = []
    def recording(*a, **k):
        calls.append(k.get("with_test", a[3] if len(a) > 3 else False))
        return data.load_benchmarks(*a, **k)
    for m in (organism, activations, probes): monkeypatch.setattr(m, "load_benchmarks", recording)

    cfg = organism.organism_config("full")
    bench = organism.load_benchmarks(data_dir, 0)
    src = organism.organism_items(bench, cfg, data.load_names(data_dir), data.truthfulqa_halves(data_dir)["claims"])
    assert {split_of[i.id] for d in data.DATASETS for i in src[d]} == {"induce"}
    assert all(i.id.startswith("syn-organism:") for i in src["synthetic"])
    assert "with_test" not in inspect.getsource(organism.organism_stage)

    items = activations.locate_items(data_dir, 0, activations.PROFILES["full"].n_items)
    assert {split_of[i.id] for i in items if i.dataset != "synthetic"} == {"locate"}
    assert all(i.id.startswith("syn-locate:") for i in items if i.dataset == "synthetic")

    class NoChat: chat_template = None
    texts = probes.corpus_texts(NoChat(), False, data_dir, 0, **probes.PROFILES["full"].corpus)
    heldout = [i for d in data.DATASETS for s in ("locate", "val", "test") for i in full[d][s]]
    assert not any(i.bio in t for t in texts for i in heldout)
    assert calls and not any(calls), calls

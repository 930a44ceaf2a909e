"Synthetic claims per purpose share no TruthfulQA question, TruthfulQA id or sum, on the shipped data."
import itertools
import pytest
from neurosyco import data


def _used(items):
    tqa = [i for i in items if i.group.startswith("tqa:")]
    return dict(ids={i.group for i in tqa}, questions={i.claim for i in tqa}, sums={i.group for i in items if i.group.startswith("sum:")},
                texts={i.question for i in items})


@pytest.mark.parametrize("seed", [0, 1])
def test_purposes_are_disjoint(data_dir, seed):
    names, halves = data.load_names(data_dir), data.truthfulqa_halves(data_dir, seed)
    sets = {p: data.synthetic_set(p, 3000, names, halves["claims"], seed) for p in data.SYNTHETIC_PURPOSES}
    used = {p: _used(v) for p, v in sets.items()}
    for p, u in used.items():  # each set really draws on both kinds, as many as its part holds
        assert len(u["ids"]) == len(data.tqa_part(halves["claims"], p, seed)) > 20 and len(u["sums"]) > 100, p
    for a, b in itertools.combinations(data.SYNTHETIC_PURPOSES, 2):
        for k in ("ids", "questions", "sums", "texts"): assert not used[a][k] & used[b][k], (a, b, k)
    every = set().union(*(u["questions"] for u in used.values()))
    assert not every & {r["question"] for r in halves["eval"]}           # never the capability test
    assert not every & {r["question"] for r in data.tqa_part(halves["claims"], "corpus", seed)}   # nor 02's corpus
    assert {i.id.split(":")[0] for v in sets.values() for i in v} == {f"syn-{p}" for p in data.SYNTHETIC_PURPOSES}


def test_sums_are_unordered_and_full_tqa_is_cut_to_the_claims_half(data_dir):
    names = ["Ann Lee"]
    for p in data.SYNTHETIC_PURPOSES:
        for i in data.synthetic_set(p, 200, names, None):
            a, b = map(int, i.group[4:].split("+"))
            assert a <= b and data.synthetic_part(i.group) == p
    tqa, halves = data.load_truthfulqa(data_dir), data.truthfulqa_halves(data_dir)
    full = data.synthetic_set("train", 500, names, tqa)          # the whole TruthfulQA by mistake: its eval half is still left out
    assert not {i.claim for i in full} & {r["question"] for r in halves["eval"]}
    assert [i.question for i in full] == [i.question for i in data.synthetic_set("train", 500, names, halves["claims"])]


def test_locate_no_longer_draws_the_correction_claims(data_dir):
    "The old leak: locate's 40 claims were the first 40 of the correction's 64 (same seed, same draw)."
    names, tqa = data.load_names(data_dir), data.truthfulqa_halves(data_dir)["claims"]
    loc, train = data.synthetic_set("locate", 40, names, tqa), data.synthetic_set("train", 64, names, tqa)
    assert not {i.group for i in loc} & {i.group for i in train}

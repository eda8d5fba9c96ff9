"""Loads a model file pagefl wrote into python/pagefl_models.py and compares its logits with the
ones pagefl computed. Usage: check_model_file.py MODEL.safetensors IO.safetensors
(IO holds "inputs" and "logits"). Exits 1, printing the difference, beyond 1e-5."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))
import torch  # noqa: E402
from pagefl_models import load_model, read_safetensors  # noqa: E402

model = load_model(sys.argv[1])
io, _ = read_safetensors(sys.argv[2])
with torch.no_grad():
    logits = model(io["inputs"])
difference = (logits - io["logits"]).abs().max().item()
print(f"{sys.argv[1]}: max |logit difference| = {difference:.3g}")
sys.exit(0 if difference <= 1e-5 else 1)

"""Regenerate each run's probe corpus with the code of this checkout and compare its fingerprint with the
run's meta.json: the recorded runs were trained on exactly the data the committed code makes.

    python experiments/context_loss/check_fingerprints.py experiments/context_loss
"""

import json
import sys
from pathlib import Path

from hydra.utils import instantiate
from omegaconf import OmegaConf

checked: dict[str, str] = {}
mismatches = 0
for run in sorted(p for p in Path(sys.argv[1]).iterdir() if (p / "meta.json").is_file()):
    corpus = OmegaConf.to_container(OmegaConf.load(run / "config.yaml").data.corpus)
    key = json.dumps(corpus, sort_keys=True)
    if key not in checked:
        checked[key] = instantiate(corpus).fingerprint()
    recorded = json.loads((run / "meta.json").read_text())["data_fingerprint"]
    same = recorded == checked[key]
    mismatches += not same
    print(f"{run.name}: {'same' if same else 'DIFFERENT'} data ({recorded[:12]})")
sys.exit(1 if mismatches else 0)

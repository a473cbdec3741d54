"""The generated German→English probe corpus: sentence length and subject–verb distance under our control.

`grammar` (with `lexicon` and `english`) generates exact translation pairs, `corpus` draws the
splits (`ProbeCorpus`, what `conf/data/probe.yaml` builds), `factorial` builds the split that sets
distance apart from an intervening verb, and `metrics`, `contrast` and `distance_effect` ask the
question the corpus exists for: is the main verb still right when its subject is far away?
"""

from seq2seq.data.probe.corpus import ProbeConfig, ProbeCorpus

__all__ = ["ProbeConfig", "ProbeCorpus"]

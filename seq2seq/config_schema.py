"""What a run's config looks like: a dataclass per config group, registered with Hydra as its schema.

Each YAML file under `conf/` names its schema first in its defaults list (`/schema/GROUP/NAME@_here_`,
Hydra's "Extending Configs" pattern), so Hydra merges the file onto it: a misspelt key or a value of
the wrong type, in a file or on the command line, fails at composition with Hydra's message naming
the key, before any data is read. The YAML files hold the values (the documented reference config),
the schemas the types; no default is restated: a dataclass that already describes a node is its
schema (`ProbeConfig`, `SearchSettings`, `BucketSettings`, `BootstrapSettings`, `TokenizerSettings`),
and the schema of a node Hydra instantiates is read off its class's constructor.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field, make_dataclass
from typing import Any, Optional, get_type_hints

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, DictConfig, OmegaConf

from seq2seq.data.corpora import FilesCorpus, NamedCorpus
from seq2seq.data.probe import ProbeConfig
from seq2seq.data.tokenizer import TokenizerSettings
from seq2seq.decoding import SearchSettings
from seq2seq.models.decoders import AttentionRNNDecoder, RNNDecoder, TransformerDecoder
from seq2seq.models.decoder_only import CausalLMDecoder, PrefixEncoder
from seq2seq.models.encoders import RNNEncoder, TransformerEncoder
from seq2seq.scoring.bootstrap import BootstrapSettings
from seq2seq.scoring.buckets import BucketSettings

# What a model's parts are given by the pipeline (vocabulary sizes, the encoder's output sizes, the
# tokenizer's padding id), never by the config.
MODEL_INPUTS = ("vocab_size", "memory_size", "summary_size", "pad_id")


def constructor_schema(target: type, given_by_code: tuple[str, ...] = ()) -> type:
    """A dataclass of `target`'s keyword arguments (types and defaults from its signature) and its `_target_`.

    A node that `hydra.utils.instantiate` turns into `target` may then hold exactly what the
    constructor takes; an argument left out of a saved config gets the constructor's default, as it
    did when the node was instantiated without a schema.
    """
    hints = get_type_hints(target.__init__)
    fields: list[tuple[str, Any, Any]] = [("_target_", str, field(default=f"{target.__module__}.{target.__name__}"))]
    for name, parameter in inspect.signature(target).parameters.items():
        if name not in given_by_code:
            default = MISSING if parameter.default is inspect.Parameter.empty else parameter.default
            fields.append((name, hints[name], field(default=default)))
    return make_dataclass(f"{target.__name__}Config", fields, namespace={"__module__": __name__})


# ---- data: split names, and the corpus node that builds a loader ------------------------------------

@dataclass
class ProbeCorpusConfig(ProbeConfig):
    """conf/data/probe.yaml's `corpus`: ProbeCorpus takes ProbeConfig's fields."""

    _target_: str = "seq2seq.data.probe.ProbeCorpus"
    splits: dict[str, int] = MISSING  # the file's splits alone: ProbeConfig's default dict would merge into them


NamedCorpusConfig = constructor_schema(NamedCorpus)
FilesCorpusConfig = constructor_schema(FilesCorpus)


@dataclass
class PublishedBaselinesConfig:
    """Published scores a corpus's users hold the presets against; seq2seq-report sets them beside ours."""

    source: Optional[str] = None  # who published them, and how they scored (cased or lowercased, which tool)
    scores: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)  # split -> measure -> preset -> score


@dataclass
class DataConfig:
    """conf/data: which splits train, validate and test; each corpus adds its `corpus` node."""

    name: str = MISSING
    train_split: str = MISSING
    valid_split: str = MISSING
    test_splits: list[str] = MISSING
    train_max_words: Optional[int] = None  # runs saved before this key existed trained on every pair
    baselines: PublishedBaselinesConfig = field(default_factory=PublishedBaselinesConfig)


@dataclass
class ProbeDataConfig(DataConfig):
    corpus: ProbeCorpusConfig = field(default_factory=ProbeCorpusConfig)


@dataclass
class NamedDataConfig(DataConfig):
    """multi30k and wmt_ted."""

    empty_lines: str = MISSING
    root: Optional[str] = MISSING
    corpus: NamedCorpusConfig = field(default_factory=NamedCorpusConfig)


@dataclass
class FilesDataConfig(DataConfig):
    empty_lines: str = MISSING
    corpus: FilesCorpusConfig = field(default_factory=FilesCorpusConfig)


# ---- model: any encoder with any decoder ------------------------------------------------------------

RNNEncoderConfig = constructor_schema(RNNEncoder, MODEL_INPUTS)
TransformerEncoderConfig = constructor_schema(TransformerEncoder, MODEL_INPUTS)
RNNDecoderConfig = constructor_schema(RNNDecoder, MODEL_INPUTS)
AttentionRNNDecoderConfig = constructor_schema(AttentionRNNDecoder, MODEL_INPUTS)
TransformerDecoderConfig = constructor_schema(TransformerDecoder, MODEL_INPUTS)
PrefixEncoderConfig = constructor_schema(PrefixEncoder, MODEL_INPUTS)
CausalLMDecoderConfig = constructor_schema(CausalLMDecoder, MODEL_INPUTS)


@dataclass
class ModelConfig:
    """conf/model presets: `encoder` and `decoder` take the schema of whichever part is chosen."""

    encoder: Any = MISSING
    decoder: Any = MISSING
    name: str = MISSING


# ---- tokenizer, training, evaluation, and the whole run ---------------------------------------------

@dataclass
class TokenizerConfig(TokenizerSettings):
    """conf/tokenizer: how to train the subword models (TokenizerSettings), and where to cache them."""

    cache_dir: str = MISSING


@dataclass
class TrainConfig:
    """conf/train: the fit loop's settings (see `training.trainer`); ranges and choices are checked there."""

    max_epochs: int = MISSING
    max_steps: Optional[int] = MISSING
    max_minutes: Optional[float] = MISSING
    batch_tokens: int = MISSING
    max_len: int = MISSING
    long_sentences: str = MISSING
    lr: float = MISSING
    betas: list[float] = MISSING
    weight_decay: float = MISSING
    schedule: str = MISSING
    warmup_steps: int = MISSING
    label_smoothing: float = MISSING
    clip_norm: Optional[float] = MISSING
    patience: int = MISSING
    early_stopping_metric: str = MISSING
    valid_max_sentences: Optional[int] = MISSING
    log_every: int = MISSING
    valid_every: Optional[int] = None  # runs saved before this key existed validated once per epoch
    progress_seconds: float = 60.0
    seed: int = MISSING
    resume: bool = MISSING
    tensorboard: bool = False  # runs saved before this key existed wrote no event files


@dataclass
class EvalConfig(SearchSettings):
    """conf/eval: how to decode (SearchSettings) and how to score: which splits, length buckets, bootstrap."""

    splits: Optional[list[str]] = MISSING
    bucket_edges: list[int] = MISSING
    buckets: BucketSettings = field(default_factory=BucketSettings)
    bootstrap: BootstrapSettings = field(default_factory=BootstrapSettings)


@dataclass
class RunConfig:
    """conf/config.yaml: one group per part, and the run's own keys."""

    data: Any = MISSING
    model: ModelConfig = field(default_factory=ModelConfig)
    tokenizer: TokenizerConfig = field(default_factory=TokenizerConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    seed: int = MISSING
    device: str = MISSING
    threads: Optional[int] = MISSING
    precision: str = MISSING


SCHEMAS: dict[str, dict[str, type]] = {  # group -> option -> schema, as the YAML files name them
    "": {"config": RunConfig},
    "data": {"probe": ProbeDataConfig, "named": NamedDataConfig, "files": FilesDataConfig},
    "model": {"preset": ModelConfig},
    "model/encoder": {"rnn": RNNEncoderConfig, "transformer": TransformerEncoderConfig, "prefix": PrefixEncoderConfig},
    "model/decoder": {"rnn": RNNDecoderConfig, "rnn_attention": AttentionRNNDecoderConfig,
                      "transformer": TransformerDecoderConfig, "causal_lm": CausalLMDecoderConfig},
    "tokenizer": {"sentencepiece": TokenizerConfig},
    "train": {"recipe": TrainConfig},
    "eval": {"settings": EvalConfig},
}


def store_schemas() -> None:
    """Register every schema with Hydra under `schema/GROUP/NAME`, where the YAML files' defaults lists find them."""
    store = ConfigStore.instance()
    for group, schemas in SCHEMAS.items():
        for name, schema in schemas.items():
            store.store(group=f"schema/{group}".rstrip("/"), name=name, node=schema)


# ---- a config Hydra did not compose: a run's saved config.yaml --------------------------------------

DATA_BY_CORPUS = {ProbeCorpusConfig._target_: ProbeDataConfig, NamedCorpusConfig._target_: NamedDataConfig,
                  FilesCorpusConfig._target_: FilesDataConfig}
PART_BY_TARGET = {schema._target_: schema for key in ("model/encoder", "model/decoder") for schema in SCHEMAS[key].values()}


def typed_config(config: DictConfig) -> DictConfig:
    """`config` merged onto the schemas of the parts it names (by `_target_`); an unknown key or a wrong type
    raises OmegaConf's error naming it.

    Hydra has done this for a config it composed, except for keys added with `+KEY=VALUE`; a run's
    config.yaml read back (seq2seq-eval, -translate, -reproduce) gets the same check, and keys added
    to a schema since the run was saved take their defaults. A part whose class has no schema here
    is left as it is.
    """
    schema = OmegaConf.structured(RunConfig)
    data = DATA_BY_CORPUS.get(OmegaConf.select(config, "data.corpus._target_", default=None))
    if data is not None:
        schema.data = OmegaConf.structured(data)
    for side in ("encoder", "decoder"):
        part = PART_BY_TARGET.get(OmegaConf.select(config, f"model.{side}._target_", default=None))
        if part is not None:
            schema.model[side] = OmegaConf.structured(part)
    # as plain containers: a typed node would carry its `+KEY` additions through the merge unchecked
    return OmegaConf.merge(schema, OmegaConf.to_container(config))

"""The config schemas: every group composes typed, a run's saved config reads back typed, old ones included."""

from __future__ import annotations

import pytest
from hydra import compose, initialize_config_module
from omegaconf import OmegaConf
from omegaconf.errors import ConfigKeyError, ValidationError

from seq2seq.config import load_run_config
from seq2seq.config_schema import ProbeDataConfig, TransformerEncoderConfig, typed_config


def composed(*overrides: str):
    with initialize_config_module(config_module="seq2seq.conf", version_base="1.3"):
        return compose("config", overrides=list(overrides))


@pytest.mark.parametrize("data", ["probe", "multi30k", "wmt_ted", "files"])
@pytest.mark.parametrize("model", ["rnn", "rnn_attention", "transformer"])
def test_every_corpus_and_preset_composes_typed_and_types_it_the_same_again(data, model):
    config = composed(f"data={data}", f"model={model}")
    for node in (config, config.data, config.data.corpus, config.model.encoder, config.model.decoder, config.train,
                 config.eval, config.eval.bootstrap, config.tokenizer):
        assert OmegaConf.get_type(node).__name__.endswith(("Config", "Settings")), node
    assert OmegaConf.to_yaml(typed_config(config)) == OmegaConf.to_yaml(config)  # what the pipeline does changes nothing


def test_a_swapped_encoder_brings_its_own_schema():
    config = composed("model=rnn_attention", "model/encoder=transformer", "data=multi30k")
    assert OmegaConf.get_type(config.model.encoder) is TransformerEncoderConfig
    with pytest.raises(ConfigKeyError, match="full_key: model.encoder.hidden_size"):
        OmegaConf.merge(config, {"model": {"encoder": {"hidden_size": 8}}})


@pytest.mark.parametrize("key,value,error", [("data.corpus.max_word", 20, ConfigKeyError),
                                             ("data.corpus.length_weights", "short", ValidationError),
                                             ("train.max_steps", "many", ValidationError),
                                             ("threads", "two", ValidationError)])
def test_a_saved_config_with_a_misspelt_key_or_a_wrong_type_is_refused_naming_it(tmp_path, key, value, error):
    saved = OmegaConf.create(OmegaConf.to_container(composed(), resolve=True))
    OmegaConf.update(saved, key, value, force_add=True)
    (tmp_path / "config.yaml").write_text(OmegaConf.to_yaml(saved))
    with pytest.raises(error, match=f"full_key: {key}"):
        load_run_config(tmp_path / "config.yaml", [])


def test_a_config_saved_before_newer_keys_existed_reads_back_with_their_defaults(tmp_path):
    saved = OmegaConf.create(OmegaConf.to_container(composed(), resolve=True))
    for parent, key in (("data", "train_max_words"), ("data.corpus", "length_weights"), ("data.corpus", "grid_per_cell"),
                        ("eval", "max_output_length"), ("eval", "buckets"), ("train", "tensorboard")):
        OmegaConf.select(saved, parent).pop(key)
    (tmp_path / "config.yaml").write_text(OmegaConf.to_yaml(saved))
    config = load_run_config(tmp_path / "config.yaml", ["eval.beam_size=3"])
    assert OmegaConf.get_type(config.data) is ProbeDataConfig
    assert (config.data.train_max_words, config.data.corpus.length_weights, config.data.corpus.grid_per_cell) == (None, None, 0)
    assert (config.eval.max_output_length, config.eval.buckets.mode, config.eval.beam_size) == (1024, "fixed", 3)
    assert config.train.tensorboard is False

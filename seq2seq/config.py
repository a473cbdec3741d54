"""The run configuration: checked once before any data is read, paths made absolute, old runs upgraded.

Hydra composes the config and checks keys and types against the schemas in `config_schema`; this
module holds what a schema cannot say (ranges, choices, relations between keys, values only a
constructor can judge) so that a mistake fails in seconds, not after training.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from hydra.errors import InstantiationException
from omegaconf import DictConfig, OmegaConf

from seq2seq.config_schema import typed_config
from seq2seq.decoding import SearchSettings
from seq2seq.errors import UserError
from seq2seq.models.encoder_decoder import check_model_limits
from seq2seq.scoring.bootstrap import BootstrapSettings
from seq2seq.scoring.buckets import BucketSettings, bucket_bounds
from seq2seq.training.tensorboard import require_tensorboard
from seq2seq.training.trainer import check_train_settings

EVAL_DEFAULTS = Path(__file__).parent / "conf" / "eval" / "default.yaml"


def build_from_config(key: str, build: Callable[..., Any], *args: Any) -> Any:
    """Call a config-driven constructor, naming the config key when the user's values are at fault."""
    try:
        return build(*args)
    except InstantiationException as error:
        cause = error.__cause__
        if isinstance(cause, UserError):
            raise cause from None
        if isinstance(cause, (ValueError, TypeError)):
            raise UserError(f"{key}: {cause}") from None
        raise
    except ValueError as error:
        raise UserError(f"{key}: {error}") from None


def test_split_names(config: DictConfig) -> list[str]:
    """The splits a run is scored on: `eval.splits`, else the data config's `test_splits`."""
    return list(config.eval.splits or config.data.test_splits)


def check_eval_config(config: DictConfig) -> None:
    """Catch impossible `eval.*` settings (for training and for re-evaluating a finished run)."""
    try:
        bucket_bounds(list(config.eval.bucket_edges))
    except ValueError as error:
        raise UserError(f"eval.bucket_edges: {error}") from None
    for key, settings in (("bootstrap", BootstrapSettings), ("buckets", BucketSettings)):
        try:
            settings.from_config(config.eval[key])
        except ValueError as error:
            raise UserError(f"eval.{key}.{error}") from None
    build_from_config("eval", SearchSettings.from_config, config.eval)


def check_training_config(config: DictConfig) -> None:
    """Everything a training run can check before reading data: eval, train, the model's length limits, and that
    the optional packages the config asks for are installed."""
    check_eval_config(config)
    check_model_limits(config)
    try:
        check_train_settings(config.train)
    except ValueError as error:
        raise UserError(str(error)) from None
    if config.train.tensorboard:
        require_tensorboard()


def make_paths_absolute(config: DictConfig) -> dict[str, str]:
    """Resolve the config's relative paths against the current directory, in place; returns them as typed.

    The run's config.yaml then works from any directory (`seq2seq-eval`, `seq2seq-compare` and
    `seq2seq-reproduce` read it later, from wherever they are started).
    """
    keys = ["data.root", "tokenizer.cache_dir"]
    splits = OmegaConf.select(config, "data.corpus.splits")
    if isinstance(splits, DictConfig):  # the files corpus: per split a path, or {src, tgt}
        for split, value in splits.items():
            keys += [f"data.corpus.splits.{split}.{side}" for side in ("src", "tgt")] if isinstance(value, DictConfig) \
                else [f"data.corpus.splits.{split}"]
    typed = {}
    for key in keys:
        value = OmegaConf.select(config, key)
        if isinstance(value, str) and value:
            absolute = str(Path(value).expanduser().absolute())
            if absolute != value:
                typed[key] = value
                OmegaConf.update(config, key, absolute, merge=False)
    return typed


def load_run_config(path: Path, overrides: list[str]) -> DictConfig:
    """A finished run's config.yaml, typed by its schemas, with command-line overrides; `eval` keys added
    since it ran take their defaults from conf/eval/default.yaml."""
    if not Path(path).is_file():
        raise UserError(f"{Path(path).parent}: config.yaml missing; it is not a seq2seq run directory")
    config = OmegaConf.load(path)
    eval_defaults = OmegaConf.load(EVAL_DEFAULTS)
    eval_defaults.pop("defaults")  # the schema's name, for Hydra
    config.eval = OmegaConf.merge(eval_defaults, config.eval)  # defaults keep old behaviour
    config = typed_config(config)
    try:
        config.merge_with_dotlist(overrides)
    except Exception as error:
        raise UserError(f"bad override in {' '.join(overrides)}: {error}") from None
    check_eval_config(config)
    return config

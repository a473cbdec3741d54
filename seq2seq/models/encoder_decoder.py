"""An encoder and a decoder, chosen independently in config, joined into one model."""

from __future__ import annotations

from hydra.utils import instantiate
from omegaconf import DictConfig
from torch import Tensor, nn

from seq2seq.errors import UserError
from seq2seq.models.interfaces import Decoder, Encoder, Memory


class EncoderDecoder(nn.Module):
    """encode(src) -> Memory; forward(src, tgt_in) -> logits by teacher forcing."""

    def __init__(self, encoder: Encoder, decoder: Decoder) -> None:
        super().__init__()
        self.encoder, self.decoder = encoder, decoder

    def encode(self, src: Tensor, src_mask: Tensor) -> Memory:
        return self.encoder(src, src_mask)

    def forward(
        self, src: Tensor, src_mask: Tensor, tgt_in: Tensor, need_attention: bool = False, only: Tensor | None = None
    ) -> tuple[Tensor, Tensor | None]:
        """`only` (see `Decoder.forward`) goes through forward, not a method beside it, so that
        DistributedDataParallel and torch.compile see the whole computation."""
        return self.decoder(tgt_in, self.encode(src, src_mask), need_attention, only)


def build_model(model_config: DictConfig, src_vocab_size: int, tgt_vocab_size: int) -> EncoderDecoder:
    """Instantiate `model.encoder` and `model.decoder`, telling the decoder the encoder's sizes."""
    encoder = instantiate(model_config.encoder, vocab_size=src_vocab_size)
    decoder = instantiate(
        model_config.decoder,
        vocab_size=tgt_vocab_size,
        memory_size=encoder.output_size,
        summary_size=encoder.summary_size,
    )
    return EncoderDecoder(encoder, decoder)


def check_model_limits(config: DictConfig) -> None:
    """Refuse `train.max_len` above a Transformer side's `max_positions`: such pairs could never be trained on.

    Read from config (any side with `max_positions`), so it fails before data is read or a model built.
    """
    max_len = config.train.max_len
    for side in ("encoder", "decoder"):
        positions = config.model[side].get("max_positions")
        if positions is not None and max_len is not None and max_len > positions:
            raise UserError(
                f"train.max_len={max_len} exceeds model.{side}.max_positions={positions}: lower train.max_len "
                f"or raise model.{side}.max_positions"
            )

"""The recurrent layer the RNN encoder and both RNN decoders share: a GRU (Cho et al. 2014) or an LSTM,
batch first, with dropout between stacked layers only (torch ignores it, with a warning, on one layer)."""

from __future__ import annotations

from torch import nn

RNN_CELLS = {"gru": nn.GRU, "lstm": nn.LSTM}


def make_rnn(cell: str, input_size: int, hidden_size: int, num_layers: int, dropout: float, **kwargs) -> nn.RNNBase:
    if cell not in RNN_CELLS:
        raise ValueError(f"cell={cell!r}: choose one of {', '.join(RNN_CELLS)}")
    return RNN_CELLS[cell](
        input_size, hidden_size, num_layers, batch_first=True, dropout=dropout if num_layers > 1 else 0.0, **kwargs
    )

"""The recurrent layer the RNN encoder and both RNN decoders share: a GRU (Cho et al. 2014) or an LSTM,
batch first, with dropout between stacked layers only (torch ignores it, with a warning, on one layer);
and how the encoder runs it over sentences of different lengths without packing them."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, _VF, nn

RNN_CELLS = {"gru": nn.GRU, "lstm": nn.LSTM}


def make_rnn(cell: str, input_size: int, hidden_size: int, num_layers: int, dropout: float, **kwargs) -> nn.RNNBase:
    if cell not in RNN_CELLS:
        raise ValueError(f"cell={cell!r}: choose one of {', '.join(RNN_CELLS)}")
    return RNN_CELLS[cell](
        input_size, hidden_size, num_layers, batch_first=True, dropout=dropout if num_layers > 1 else 0.0, **kwargs
    )


def run_over_lengths(rnn: nn.RNNBase, inputs: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
    """`rnn` (batch first, any layers and directions) over right-padded inputs [batch, time, features]
    whose rows have `lengths` real steps: (outputs [batch, time, directions * hidden], zero at padding;
    each direction's last-layer state after its last real step [directions, batch, hidden]).

    What `pack_padded_sequence` gives, without packing: torch's packed RNNs go backward through a
    slice of the whole sequence's input projection per time step, zero-filling and adding a
    [real tokens, 3 or 4 × hidden] gradient at every step (time × tokens work), which costs more than
    the RNN's matmuls on a CPU. Here each direction runs over the padded batch in one call: the forward
    one reads the real steps before any padding, so its states there are exact; the backward one reads
    each row reversed within its length (padding still last), and its outputs are reversed back.
    """
    batch, time = inputs.shape[:2]
    steps = torch.arange(time, device=inputs.device).expand(batch, time)
    last = (lengths - 1).clamp(min=0).to(inputs.device).unsqueeze(1)
    reverse = torch.where(steps <= last, last - steps, steps)  # row b: its real steps backwards, padding in place
    real = (steps <= last).unsqueeze(-1)
    rows = torch.arange(batch, device=inputs.device)
    directions = 2 if rnn.bidirectional else 1
    x, finals = inputs, []
    for layer in range(rnn.num_layers):
        if layer > 0:
            x = F.dropout(x, rnn.dropout, rnn.training)
        outputs = []
        for direction in range(directions):
            suffix = "_reverse" if direction else ""
            weights = [getattr(rnn, f"{kind}_l{layer}{suffix}") for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
                       if rnn.bias or kind.startswith("weight")]
            read = x if direction == 0 else x.gather(1, reverse.unsqueeze(-1).expand_as(x))
            output = _run_one_direction(rnn, read, weights)
            finals.append(output[rows, last.squeeze(1)])  # the state after the row's last real step
            outputs.append(output if direction == 0 else output.gather(1, reverse.unsqueeze(-1).expand_as(output)))
        x = torch.cat(outputs, dim=-1) if directions == 2 else outputs[0]
    return x * real, torch.stack(finals[-directions:])


def _run_one_direction(rnn: nn.RNNBase, inputs: Tensor, weights: list[Tensor]) -> Tensor:
    """One layer, one direction, from zero states: the call nn.GRU / nn.LSTM make themselves."""
    zeros = inputs.new_zeros(1, inputs.size(0), rnn.hidden_size)
    if isinstance(rnn, nn.LSTM):
        return _VF.lstm(inputs, (zeros, zeros), weights, rnn.bias, 1, 0.0, rnn.training, False, True)[0]
    return _VF.gru(inputs, zeros, weights, rnn.bias, 1, 0.0, rnn.training, False, True)[0]

"""`python -m seq2seq` runs the same Hydra app as `seq2seq-train`, in the form torchrun needs.

    torchrun --nproc_per_node=2 -m seq2seq hydra.run.dir=runs/ddp ...
"""

from seq2seq.cli import train

if __name__ == "__main__":
    train()

#!/bin/bash
# issue 15, second round: higher peak learning rates and smaller batches (two grids side by side, 6 jobs each).
# Recorded with 'eval.splits=[test_2016_flickr]'; +experiment=recipe_search now decodes the validation split only (issue 28).
export PYTHONPATH=$PWD/.gpu/site:$PWD SEQ2SEQ_CACHE=$PWD/.gpu/cache PYTHONUNBUFFERED=1
common="data=multi30k data.root=$PWD/.gpu/data/multi30k precision=fp32 hydra/launcher=joblib hydra.launcher.n_jobs=6 threads=1 +experiment=recipe_search train.max_minutes=null train.max_epochs=10 train.patience=10 eval.beam_size=5"
start=$(date +%s)
timeout ${BUDGET:-300} python3 -m seq2seq -m $common train.lr=0.003,0.004 train.batch_tokens=2048 hydra.sweep.dir=/tmp/r2/b2048 > /tmp/r2a.console 2>&1 &
timeout ${BUDGET:-300} python3 -m seq2seq -m $common train.lr=0.002,0.003 train.batch_tokens=1024 hydra.sweep.dir=/tmp/r2/b1024 > /tmp/r2b.console 2>&1 &
wait; echo "after $(( $(date +%s) - start ))s"; tail -n 3 /tmp/r2a.console /tmp/r2b.console
cp /tmp/r2*.console /tmp/r2/; tar -C /tmp --exclude=checkpoints --exclude=hypotheses -czf $OUT/r2.tar.gz r2

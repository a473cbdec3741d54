#!/bin/bash
# usage: trial.sh SNAPSHOT NAME overrides...
SNAP=$1; NAME=$2; shift 2
start=$(date +%s)
cd $SNAP && PYTHONPATH=$SNAP /work/main/.venv/bin/python -m seq2seq "$@" threads=1 hydra.run.dir=/work/calib2/runs/$NAME > /work/calib2/runs/$NAME.console 2>&1
rc=$?
end=$(date +%s)
echo "$NAME rc=$rc wall=$((end-start))s" > /work/calib2/runs/$NAME.wall
echo "CMD: $*" >> /work/calib2/runs/$NAME.wall

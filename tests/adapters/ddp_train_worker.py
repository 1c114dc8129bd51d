"""One rank of the two-process training test: trains a LoRA with ``adapters.training.train`` into
``OUT-rank<N>`` and prints what it saw (rank, world size, steps, whether it reports the output written)."""

from __future__ import annotations

import json
import os
import sys

import torch.distributed as dist

from adapters.training import train

base, data, out = sys.argv[1:4]
rank = int(os.environ["RANK"])
result = train(base, "lora", data, f"{out}-rank{rank}", max_steps=3, batch_size=4, lr=2e-2, progress=False)
world = dist.get_world_size() if dist.is_initialized() else 1
backend = dist.get_backend_config() if dist.is_initialized() else None  # e.g. "cpu:gloo"
print("RANK " + json.dumps({"rank": rank, "world": world, "backend": backend, "steps": result.steps}), flush=True)

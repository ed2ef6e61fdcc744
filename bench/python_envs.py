#!/usr/bin/env python3
"""Steps/s of Gymnasium's classic-control code in Python, for context next to bench/envs.mjs: the
transcription in test/fixtures/make_env_fixtures.py (Gymnasium's numpy expressions; Gymnasium itself is
not installed here), 16 copies stepped one after another as SyncVectorEnv does, with autoreset.

usage: /usr/bin/python3 bench/python_envs.py [vector steps per run, default 2000]
"""
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures"))
from make_env_fixtures import Acrobot, CartPole, MountainCar, MountainCarContinuous, Pendulum  # noqa: E402

N = 16
STEPS = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
rng = np.random.default_rng(0)
for name, cls, discrete in [
    ("CartPole-v1", CartPole, 2),
    ("Pendulum-v1", Pendulum, 0),
    ("MountainCar-v0", MountainCar, 3),
    ("MountainCarContinuous-v0", MountainCarContinuous, 0),
    ("Acrobot-v1", Acrobot, 3),
]:
    runs = []
    for r in range(3):
        envs = [cls(i) for i in range(N)]
        for e in envs:
            e.reset()
        elapsed = [0] * N
        acts = [rng.integers(0, discrete, N).tolist() if discrete else rng.uniform(-1, 1, (N, 1)) for _ in range(100)]
        t = time.perf_counter()
        for s in range(STEPS):
            a = acts[s % 100]
            for i, e in enumerate(envs):
                _, _, term = e.step(a[i])
                elapsed[i] += 1
                if term or elapsed[i] >= e.max_steps:
                    e.reset()
                    elapsed[i] = 0
        runs.append(STEPS * N / (time.perf_counter() - t))
    print(f"{name:25s} python {' / '.join(f'{x / 1e3:.1f}k' for x in runs)} env-steps/s")

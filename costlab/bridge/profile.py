"""Measured time per layer and for the whole forward pass, next to the counted cost.

CPU: time.perf_counter around each leaf module (forward pre/post hooks, added to costlab's own copy of
the model, never the user's); CUDA: CUDA events, synchronised once per repeat. Warm-up runs first,
then the median of repeats. The instrumentation overhead is measured: the same forward with and
without the hooks, in alternating runs (plain, hooked, plain, ...) so that warm-up, frequency scaling
and other drift affect both alike; a difference smaller than the runs' own spread is reported as
noise, never as a negative overhead. Roofline calibration sizes its matmul to the device and dtype
(doubling from 128 until one product takes ``CALIBRATION_SECONDS``), so half precision on a CPU,
which has no fast kernels, takes seconds rather than hours.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, Dict, List, Optional, Tuple

import torch
from torch import nn

from ..errors import CostlabError

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


@dataclass(frozen=True)
class Profile:
    """Median seconds per module name, the whole forward with and without hooks, and the setting."""

    model: str
    device: str
    device_name: str
    dtype: str
    batch: int
    per_module: Dict[str, float]
    forward: float
    forward_hooked: float
    noise: float = 0.0  # spread of the plain runs (seconds): differences below it are not measurable

    @property
    def overhead(self) -> float:
        """Extra time the hooks add to one forward pass (seconds); may be negative within the noise."""
        return self.forward_hooked - self.forward

    def overhead_text(self) -> str:
        """'instrumentation overhead 0.120 ms', or why no overhead could be measured."""
        if self.overhead > self.noise:
            return f"instrumentation overhead {self.overhead * 1e3:.3f} ms"
        return (f"instrumentation overhead below the timing noise: hooked runs {self.overhead * 1e3:+.3f} ms against "
                f"plain ones, whose own times spread by {self.noise * 1e3:.3f} ms run to run")


def _device_name(device: str) -> str:
    if device == "cuda":
        return torch.cuda.get_device_name()
    import platform

    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return f"{line.split(':', 1)[1].strip()} ({torch.get_num_threads()} threads)"
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _timer(device: str) -> Tuple[Callable[[], Any], Callable[[Any, Any], float], Callable[[], None]]:
    if device == "cuda":
        def mark() -> Any:
            event = torch.cuda.Event(enable_timing=True)
            event.record()
            return event

        return mark, lambda a, b: a.elapsed_time(b) / 1e3, torch.cuda.synchronize
    return time.perf_counter, lambda a, b: b - a, lambda: None


def profile_module(model: nn.Module, input_shape: Tuple[int, ...], *, name: str, device: str = "cpu", dtype: str = "float32",
                   batch: int = 1, channels_last: bool = False, warmup: int = 2, repeats: int = 5) -> Profile:
    """Time ``model`` (eval mode, no grad) and each of its leaf modules."""
    if device == "cuda" and not torch.cuda.is_available():
        raise CostlabError("--device cuda: no CUDA device is available here")
    model = model.to(device=device, dtype=DTYPES[dtype]).eval()
    x = torch.randn(batch, *input_shape, device=device, dtype=DTYPES[dtype])
    if channels_last and x.dim() == 4:
        model, x = model.to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last)
    mark, elapsed, sync = _timer(device)

    def whole() -> float:
        sync()
        start = mark()
        with torch.no_grad():
            model(x)
        end = mark()
        sync()
        return elapsed(start, end)

    for _ in range(warmup):
        whole()
    leaves = {n: m for n, m in model.named_modules() if n and not any(True for _ in m.children())}
    samples: Dict[str, List[Any]] = {n: [] for n in leaves}

    def hooked_run() -> float:
        handles = []
        for n, m in leaves.items():
            handles.append(m.register_forward_pre_hook(lambda mod, args, n=n: samples[n].append([mark(), None])))
            handles.append(m.register_forward_hook(lambda mod, args, out, n=n: samples[n][-1].__setitem__(1, mark())))
        try:
            return whole()
        finally:
            for h in handles:
                h.remove()

    hooked_run()  # warm the hooked path
    for s in samples.values():
        s.clear()
    plain, hooked = [], []
    per_repeat: List[Dict[str, float]] = []
    for _ in range(repeats):  # alternate, so drift (warm-up, clocks) affects both alike
        plain.append(whole())
        hooked.append(hooked_run())
        per_repeat.append({n: sum(elapsed(a, b) for a, b in s) for n, s in samples.items() if s})
        for s in samples.values():
            s.clear()
    per_module = {n: statistics.median(r.get(n, 0.0) for r in per_repeat) for n in leaves if any(n in r for r in per_repeat)}
    forward = statistics.median(plain)
    spread = statistics.median(abs(t - forward) for t in plain)  # median absolute deviation of the plain runs
    return Profile(name, device, _device_name(device), dtype, batch, per_module, forward, statistics.median(hooked), spread)


def profile_source(source: str, input_shape: Optional[Tuple[int, ...]] = None, **options: Any) -> Tuple[Any, Profile]:
    """(analysis at the profiled batch, profile) for a built-in model, spec file or Python reference."""
    from ..analysis import analyze
    from .build import real_model

    from ..inputs import Inputs

    if isinstance(input_shape, Inputs):
        raise CostlabError(f"{source}: timing takes one CxHxW input; {input_shape.text()!r} is for analyze, compare and verify")
    batch = options.get("batch", 1)
    model, shape, graph = real_model(source, input_shape, batch, "infer")
    return analyze(graph, shape, batch), profile_module(model, shape, name=source, **options)


CALIBRATION_SECONDS = 0.05  # the matmul grows until one product takes this long (or reaches its largest size)


def calibrate(device: str = "cpu", dtype: str = "float32") -> Tuple[float, float]:
    """Measured (peak FLOP/s of a matmul, copy bandwidth in bytes/s) on this device.

    The matmul starts at 128x128 and doubles until one product takes ``CALIBRATION_SECONDS`` or
    reaches 3072 (CPU) / 8192 (GPU): a few seconds at most on any device and dtype.
    """
    mark, elapsed, sync = _timer(device)

    def best(fn: Callable[[], Any], repeats: int) -> float:
        fn()  # warm-up (allocations, thread pools)
        times = []
        for _ in range(repeats):
            sync()
            start = mark()
            fn()
            end = mark()
            sync()
            times.append(elapsed(start, end))
        return max(min(times), 1e-9)

    largest = 3072 if device == "cpu" else 8192
    n, peak = 128, 0.0
    while True:
        a = torch.randn(n, n, device=device, dtype=DTYPES[dtype])
        seconds = best(partial(torch.matmul, a, a), 3)  # binds this size's matrix
        peak = max(peak, 2 * n**3 / seconds)
        if seconds >= CALIBRATION_SECONDS or n >= largest:
            break
        n *= 2
    big = torch.empty(64 * 2**20 // 4, device=device, dtype=torch.float32)
    copy = best(lambda: big.clone(), 5)
    return peak, 2 * big.numel() * 4 / copy

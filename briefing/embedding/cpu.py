"""What this CPU can do for matrix products: its model and the instruction-set flags that decide
whether int8 or float32 graphs run faster (read from /proc/cpuinfo on Linux, sysctl on macOS)."""

from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import dataclass
from functools import cache

# Flags that matter for ONNX Runtime's CPU kernels: x86 vector widths, int8 dot products (VNNI on
# x86, DotProd/I8MM on Arm) and Intel's matrix units. Linux /proc/cpuinfo spellings.
RELEVANT = (
    "avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_tile", "amx_int8",
    "asimd", "asimddp", "i8mm", "bf16", "sve",
)
_MACOS = {"FEAT_DotProd": "asimddp", "FEAT_I8MM": "i8mm", "FEAT_BF16": "bf16"}


@dataclass(frozen=True)
class CpuInfo:
    model: str
    logical_cores: int
    flags: tuple[str, ...]  # the RELEVANT flags this CPU has

    def describe(self) -> str:
        """One line, e.g. ``AMD EPYC, 2 logical cores, avx2 fma (no avx512, vnni or amx)``."""
        missing = [name for name, present in self._families().items() if not present]
        line = f"{self.model}, {self.logical_cores} logical cores, {' '.join(self.flags) or 'no vector flags read'}"
        return line + (f" (no {', '.join(missing[:-1])} or {missing[-1]})" if len(missing) > 1 else
                       f" (no {missing[0]})" if missing else "")

    def signature(self) -> str:
        """Model and flags: a recorded choice of embedding graph holds while this stays the same."""
        return f"{self.model} | {' '.join(self.flags)}"

    def _families(self) -> dict[str, bool]:
        flags = set(self.flags)
        if "asimd" in flags:  # Arm
            return {"dotprod": "asimddp" in flags, "i8mm": "i8mm" in flags}
        return {
            "avx512": any(f.startswith("avx512") for f in flags),
            "vnni": bool(flags & {"avx512_vnni", "avx_vnni"}),
            "amx": any(f.startswith("amx") for f in flags),
        }


@cache
def cpu_info() -> CpuInfo:
    cores = os.cpu_count() or 1
    if platform.system() == "Darwin":
        return _macos(cores)
    model, flags = platform.processor() or platform.machine(), set[str]()
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError:
        lines = []
    for line in lines:
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key in ("model name", "cpu model") and model in (platform.processor(), platform.machine()):
            model = value.strip()
        elif key in ("flags", "features") and not flags:
            flags = set(value.split())
    return CpuInfo(model, cores, tuple(f for f in RELEVANT if f in flags))


def _macos(cores: int) -> CpuInfo:
    def sysctl(name: str) -> str:
        done = subprocess.run(["sysctl", "-n", name], capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    model = sysctl("machdep.cpu.brand_string") or platform.machine()
    flags = {flag for feature, flag in _MACOS.items() if sysctl(f"hw.optional.arm.{feature}") == "1"}
    flags |= {f.lower() for f in sysctl("machdep.cpu.features").split() + sysctl("machdep.cpu.leaf7_features").split()}
    if sysctl("hw.optional.AdvSIMD") == "1":
        flags.add("asimd")
    return CpuInfo(model, cores, tuple(f for f in RELEVANT if f in flags))

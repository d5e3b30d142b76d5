"""The llama.cpp CPU switches chosen from ``/proc/cpuinfo``: never AMX, never a feature
the CPU lacks, never ``-march=native``."""

from __future__ import annotations

import pytest

from rag.answer.llama_build import build_key, choose_options, cmake_args, cpu_flags

_BASE = "fpu sse sse2 ssse3 sse4_1 sse4_2 avx fma f16c bmi1 bmi2 popcnt"
_AVX2 = f"{_BASE} avx2"
_AVX512 = f"{_AVX2} avx512f avx512dq avx512cd avx512bw avx512vl avx512vbmi avx512_vnni avx512_bf16"
_AMX = f"{_AVX512} avx_vnni amx_bf16 amx_tile amx_int8"


def _cpuinfo(flags: str) -> str:
    """Two processors, as the kernel writes them: the first one's flags are read."""
    block = (
        "processor\t: {n}\nvendor_id\t: GenuineIntel\nmodel name\t: Test CPU\n"
        f"flags\t\t: {flags}\n"
    )
    return "\n".join(block.format(n=n) for n in range(2))


def _on(flags: str) -> set[str]:
    return {k for k, v in choose_options(cpu_flags(_cpuinfo(flags))).items() if v}


def test_avx2_only_cpu_gets_no_avx512() -> None:
    on = _on(_AVX2)
    assert {"GGML_AVX", "GGML_AVX2", "GGML_FMA", "GGML_F16C", "GGML_BMI2"} <= on
    assert not {s for s in on if s.startswith(("GGML_AVX512", "GGML_AMX"))}
    assert "GGML_AVX_VNNI" not in on


def test_avx512_without_amx() -> None:
    on = _on(_AVX512)
    assert {"GGML_AVX512", "GGML_AVX512_VBMI", "GGML_AVX512_VNNI", "GGML_AVX512_BF16"} <= on
    assert not {s for s in on if s.startswith("GGML_AMX")}


def test_amx_cpu_keeps_avx512_but_never_amx() -> None:
    on = _on(_AMX)
    assert {"GGML_AVX512", "GGML_AVX512_BF16", "GGML_AVX_VNNI"} <= on
    args = cmake_args(choose_options(cpu_flags(_cpuinfo(_AMX))))
    for switch in ("GGML_AMX_TILE", "GGML_AMX_INT8", "GGML_AMX_BF16"):
        assert f"-D{switch}=OFF" in args


@pytest.mark.parametrize("flags", [_AVX2, _AVX512, _AMX, ""])
def test_native_is_always_off_and_every_switch_explicit(flags: str) -> None:
    options = choose_options(cpu_flags(_cpuinfo(flags)))
    assert options["GGML_NATIVE"] is False
    assert "-DGGML_NATIVE=OFF" in cmake_args(options)
    assert len(options) == 15


def test_partial_avx512_is_not_avx512() -> None:
    """ggml compiles its AVX512 switch with f, cd, vl, dq and bw: one missing means off,
    and the extensions built on it go off with it."""
    on = _on(_AVX512.replace(" avx512vl", ""))
    assert not {s for s in on if s.startswith("GGML_AVX512")}


def test_an_extension_without_its_base_stays_off() -> None:
    assert "GGML_AVX2" not in _on("avx2 fma")  # no avx
    assert "GGML_AVX_VNNI" not in _on(f"{_BASE} avx_vnni")  # no avx2


def test_build_key_differs_by_switches() -> None:
    a = build_key(choose_options(cpu_flags(_cpuinfo(_AVX2))))
    b = build_key(choose_options(cpu_flags(_cpuinfo(_AVX512))))
    c = build_key(choose_options(cpu_flags(_cpuinfo(_AMX))))
    assert len({a, b, c}) == 3
    assert a == build_key(choose_options(cpu_flags(_cpuinfo(_AVX2))))


def test_no_flags_line_means_no_features() -> None:
    assert cpu_flags("processor\t: 0\n") == frozenset()
    assert _on("") == set()

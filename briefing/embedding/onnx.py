"""all-MiniLM-L6-v2 as ONNX graphs run by ONNX Runtime, with the graph, batch size and threads
chosen by timing them on this CPU.

Exported once from the packaged model (torch is needed only then) as two candidate graphs:

- ``int8``: per-channel dynamic int8 weights. Only weight products are quantized (the attention
  products of two activations stay float) and layer 0's feed-forward output projection stays
  float: on 160 chunks of bench/ingest.py's corpus (256 tokens) quantizing everything gave a
  minimum cosine of 0.981 to the original, these two exceptions 0.986, and ran faster too (30.3
  vs 25.6 texts/s at batch 4 on a 2-core AVX2 EPYC, onnxruntime 1.32).
- ``fp32-fused``: float32 with ONNX Runtime's transformer fusions (Attention,
  SkipLayerNormalization, BiasGelu, EmbedLayerNormalization): the original's vectors.

On first use, and again when the CPU, ONNX Runtime or the thread budget changes, each graph is
timed on the calibration texts (``calibration.json``); the fastest whose cosine to the original
stays at least ``MIN_COSINE`` on every text is kept and recorded, with every trial, in
``all-MiniLM-L6-v2-onnx.json`` beside the graphs. Int8 should gain most where the CPU has int8
dot products (VNNI, Arm DotProd; not measured here); on plain AVX2 it ran 1.26x the float graph.

Mean pooling and normalization are inside the graphs. The packaged tokenizer.json truncates and
pads at 128 tokens; here it truncates at ``max_tokens`` and pads to the longest text of a batch.
"""

from __future__ import annotations

import json
import logging
import os
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from briefing.embedding.cpu import cpu_info
from briefing.embedding.minilm import MINILM_DIMENSION, MINILM_NAME, minilm_tokenizer, packaged_minilm_path
from briefing.locking import exclusive_lock

log = logging.getLogger(__name__)

ONNX_NAME = f"local:{MINILM_NAME}-onnx"
LEGACY_ONNX_NAMES = (f"local:{MINILM_NAME}-onnx-int8",)
"""Names stores made by earlier versions recorded for the same model (one int8 graph then)."""
MIN_COSINE = 0.985
"""Lowest cosine to the original model's vector a graph may give on any calibration text."""
EXPORT_VERSION = 2  # bump when the graphs are built differently: recorded choices are then redone
GRAPHS = {"int8": f"{MINILM_NAME}-int8.onnx", "fp32-fused": f"{MINILM_NAME}-fp32-fused.onnx"}
CHOICE_FILE = f"{MINILM_NAME}-onnx.json"
REFERENCE_FILE = f"{MINILM_NAME}-reference.npy"  # the original's vectors of the calibration texts
BATCH_SIZES = (1, 2, 4, 8, 16)
CALIBRATION_TOKENS = 256


class Trial(BaseModel):
    """One timed configuration."""

    graph: str
    batch_size: int
    threads: int = Field(description="ONNX Runtime intra-op threads of each run.")
    workers: int = Field(1, description="Batches run at once, each on its own Python thread.")
    texts_per_s: float = Field(description="Calibration texts embedded per second (best of two runs).")
    min_cosine: float = Field(description="Lowest cosine to the original model over the calibration texts.")

    def setup(self) -> tuple[str, int, int, int]:
        return self.graph, self.batch_size, self.threads, self.workers


class GraphChoice(BaseModel):
    """The graph, batch size and thread count chosen on one CPU, and the trials behind the choice."""

    graph: str
    batch_size: int
    threads: int
    workers: int = 1
    cpu: str = Field(description="CpuInfo.describe() of the CPU measured.")
    signature: str = Field(description="CpuInfo.signature(): the choice is redone when it changes.")
    onnxruntime: str
    thread_budget: int = Field(description="Threads the choice could use (BRIEFING_THREADS).")
    export_version: int
    measured_at: str
    trials: list[Trial]

    def holds_for(self, folder: Path, thread_budget: int) -> bool:
        import onnxruntime

        return (
            self.export_version == EXPORT_VERSION
            and self.signature == cpu_info().signature()
            and self.onnxruntime == onnxruntime.__version__
            and self.thread_budget == thread_budget
            and (folder / GRAPHS[self.graph]).exists()
        )

    def chosen(self) -> Trial:
        return next(t for t in self.trials if t.setup() == (self.graph, self.batch_size, self.threads, self.workers))

    def summary(self) -> str:
        best = self.chosen()
        return (f"{self.graph} graph, batch {self.batch_size}, {self.workers} x {self.threads} threads: "
                f"{best.texts_per_s:.0f} texts/s, cosine to the original >= {best.min_cosine:.3f}")


def calibration_texts() -> list[str]:
    return json.loads(resources.files("briefing.embedding").joinpath("calibration.json").read_text())["texts"]


# --- export ------------------------------------------------------------------------------------


def export_graphs(folder: Path) -> None:
    """Write both candidate graphs and the reference vectors into ``folder``.

    The exporter's tracer warnings and the quantizer's pre-processing advice are about model
    families other than this one; they are silenced so a first ingest prints only our own lines.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        root = logging.getLogger()
        level = root.level
        root.setLevel(logging.ERROR)
        try:
            _export(folder)
        finally:
            root.setLevel(level)


def _export(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    plain = folder / f"{MINILM_NAME}-fp32.tmp.onnx"
    _export_float(plain)
    try:
        reference = embed_with(_session(plain, None), calibration_texts(), 8, CALIBRATION_TOKENS)
        _fuse(plain, folder / GRAPHS["fp32-fused"])
        _quantize(plain, folder / GRAPHS["int8"])
        partial = folder / f"{REFERENCE_FILE}.tmp.npy"
        np.save(partial, reference)
        partial.replace(folder / REFERENCE_FILE)
    finally:
        plain.unlink(missing_ok=True)


def _export_float(target: Path) -> None:
    import torch
    import transformers
    from transformers import AutoModel

    transformers.utils.logging.disable_progress_bar()

    class Pooled(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask):
            hidden = self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    # Eager attention exports to the plain MatMul/Softmax pattern that ONNX Runtime's attention
    # fusion recognises; the default SDPA export is left unfused.
    model = AutoModel.from_pretrained(str(packaged_minilm_path()), local_files_only=True, attn_implementation="eager")
    example = torch.ones((2, 16), dtype=torch.long)
    torch.onnx.export(
        Pooled(model).eval(), (example, example), str(target), input_names=["input_ids", "attention_mask"],
        output_names=["embedding"], opset_version=17, dynamo=False,
        dynamic_axes={"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"}},
    )


def _fuse(plain: Path, target: Path) -> None:
    from onnxruntime.transformers.optimizer import optimize_model

    config = json.loads((packaged_minilm_path() / "config.json").read_text())
    fused = optimize_model(
        str(plain), model_type="bert", num_heads=config["num_attention_heads"], hidden_size=config["hidden_size"]
    )
    partial = target.with_suffix(".tmp.onnx")
    fused.save_model_to_file(str(partial))
    partial.replace(target)


def _quantize(plain: Path, target: Path) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    names = [node.name for node in onnx.load(str(plain), load_external_data=False).graph.node]
    first_ffn_out = [n for n in names if n.endswith("layer.0/output/dense/MatMul")]
    partial = target.with_suffix(".tmp.onnx")
    quantize_dynamic(
        str(plain), str(partial), per_channel=True, weight_type=QuantType.QInt8, nodes_to_exclude=first_ffn_out,
        extra_options={"MatMulConstBOnly": True, "DefaultTensorType": onnx.TensorProto.FLOAT},
    )
    partial.replace(target)


# --- choosing by measurement -------------------------------------------------------------------


LOCK_FILE = ".export.lock"
"""Held while graphs are exported and timed: the models folder is shared by every home (the user
cache), so a second process waits and then reads the first one's choice."""


def graph_choice(folder: Path, thread_budget: int) -> GraphChoice:
    """The recorded choice for this CPU, or a new one measured now (exporting first if needed)."""
    recorded = _recorded_choice(folder, thread_budget)
    if recorded is not None:
        return recorded
    folder.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(folder / LOCK_FILE, log.warning, doing="another process is exporting the embedding graphs in"):
        return _recorded_choice(folder, thread_budget) or _export_and_measure(folder, thread_budget)


def _recorded_choice(folder: Path, thread_budget: int) -> GraphChoice | None:
    try:
        recorded = GraphChoice.model_validate_json((folder / CHOICE_FILE).read_text())
    except (OSError, ValueError):
        return None
    return recorded if recorded.holds_for(folder, thread_budget) else None


def _export_and_measure(folder: Path, thread_budget: int) -> GraphChoice:
    path = folder / CHOICE_FILE
    try:
        fresh_export = GraphChoice.model_validate_json(path.read_text()).export_version != EXPORT_VERSION
    except (OSError, ValueError):
        fresh_export = True
    if fresh_export or not all((folder / f).exists() for f in (*GRAPHS.values(), REFERENCE_FILE)):
        log.warning("exporting all-MiniLM-L6-v2 to ONNX graphs in %s (once for this user)", folder)
        export_graphs(folder)
    log.warning("timing the embedding graphs on this CPU (%s), once", cpu_info().describe())
    choice = measure(folder, thread_budget)
    partial = path.with_suffix(".tmp")
    partial.write_text(choice.model_dump_json(indent=1) + "\n")
    partial.replace(path)
    log.warning("embedding with the %s (recorded in %s)", choice.summary(), path)
    return choice


def measure(folder: Path, thread_budget: int) -> GraphChoice:
    """Time every graph and split of the thread budget at batch 4, then every batch size for the
    fastest graph and split whose vectors stay close enough; the fastest of those is the choice."""
    import onnxruntime

    texts = calibration_texts()
    reference = np.load(folder / REFERENCE_FILE)
    trials: list[Trial] = []
    sessions: dict[tuple[str, int], Any] = {}
    for graph in GRAPHS:
        for workers in sorted({1, 2, thread_budget} & set(range(1, thread_budget + 1))):
            threads = thread_budget // workers
            sessions[graph, threads] = sessions.get((graph, threads)) or _session(folder / GRAPHS[graph], threads)
            trials.append(_trial(sessions[graph, threads], Trial(graph=graph, batch_size=4, threads=threads, workers=workers,
                                                                 texts_per_s=0, min_cosine=0), texts, reference))
    close = [t for t in trials if t.min_cosine >= MIN_COSINE] or [max(trials, key=lambda t: t.min_cosine)]
    best = max(close, key=lambda t: t.texts_per_s)
    for batch_size in BATCH_SIZES:
        if batch_size != best.batch_size:
            setup = best.model_copy(update={"batch_size": batch_size})
            trials.append(_trial(sessions[best.graph, best.threads], setup, texts, reference))
    same = [t for t in trials if (t.graph, t.threads, t.workers) == (best.graph, best.threads, best.workers)]
    chosen = max((t for t in same if t.min_cosine >= min(MIN_COSINE, best.min_cosine)), key=lambda t: t.texts_per_s)
    info = cpu_info()
    return GraphChoice(
        graph=chosen.graph, batch_size=chosen.batch_size, threads=chosen.threads, workers=chosen.workers,
        cpu=info.describe(), signature=info.signature(), onnxruntime=onnxruntime.__version__,
        thread_budget=thread_budget, export_version=EXPORT_VERSION,
        measured_at=datetime.now(UTC).isoformat(timespec="seconds"), trials=trials,
    )


def _trial(session, setup: Trial, texts: list[str], reference: np.ndarray) -> Trial:
    """``setup`` timed: texts per second (best of two runs, after one warm-up batch) and the lowest
    cosine to ``reference``."""
    embed_with(session, texts[: setup.batch_size], setup.batch_size, CALIBRATION_TOKENS)  # warm the kernels
    best = 0.0
    for _ in range(2):
        started = time.perf_counter()
        vectors = embed_with(session, texts, setup.batch_size, CALIBRATION_TOKENS, workers=setup.workers)
        best = max(best, len(texts) / (time.perf_counter() - started))
    cosine = float((vectors * reference).sum(axis=1).min())
    return setup.model_copy(update={"texts_per_s": round(best, 2), "min_cosine": round(cosine, 5)})


# --- embedding ---------------------------------------------------------------------------------


def _session(path: Path, threads: int | None):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _tokenizer(max_tokens: int):
    tokenizer = minilm_tokenizer()
    tokenizer.enable_truncation(max_length=max_tokens)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # no length: pad to the longest in the batch
    return tokenizer


def embed_with(session, texts: list[str], batch_size: int, max_tokens: int, tokenizer=None, workers: int = 1) -> np.ndarray:
    """Unit vectors of ``texts``, shape (len(texts), 384), embedded ``batch_size`` at a time,
    ``workers`` batches at once (ONNX Runtime runs one session from several threads)."""
    tokenizer = tokenizer or _tokenizer(max_tokens)
    # Batches of similar length waste little on padding; the order is restored at the end.
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = np.zeros((len(texts), MINILM_DIMENSION), dtype=np.float32)

    def run(batch: list[int]) -> None:
        encoded = tokenizer.encode_batch([texts[i] for i in batch])
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        out[batch] = session.run(["embedding"], {"input_ids": ids, "attention_mask": mask})[0]

    batches = [order[start : start + batch_size] for start in range(0, len(order), batch_size)]
    if workers > 1 and len(batches) > 1:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(run, batches))
    else:
        for batch in batches:
            run(batch)
    return out


class OnnxEmbedder:
    """Embeds with the graph chosen for this CPU, exporting and choosing on first use.

    ``threads`` bounds the threads tried (default: all cores); ``batch_size`` overrides the
    measured one."""

    def __init__(self, model_folder: Path, max_tokens: int = 256, threads: int | None = None, batch_size: int | None = None):
        self.model_folder = model_folder
        self.max_tokens = max_tokens
        self.threads = threads or os.cpu_count() or 1
        self.batch_size = batch_size
        self.name = ONNX_NAME
        self.dimension = MINILM_DIMENSION
        self.choice: GraphChoice | None = None
        self._session: Any = None  # an onnxruntime.InferenceSession, made on first use
        self._tokenizer: Any = None

    def _load(self) -> None:
        self.choice = graph_choice(self.model_folder, self.threads)
        self._session = _session(self.model_folder / GRAPHS[self.choice.graph], self.choice.threads)
        self.batch_size = self.batch_size or self.choice.batch_size
        self._tokenizer = _tokenizer(self.max_tokens)

    def embed(self, texts: list[str]) -> np.ndarray:
        if self.choice is None:
            self._load()
        assert self.choice is not None and self.batch_size is not None
        return embed_with(self._session, texts, self.batch_size, self.max_tokens, self._tokenizer, self.choice.workers)

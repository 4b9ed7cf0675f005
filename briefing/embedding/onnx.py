"""all-MiniLM-L6-v2 as an ONNX graph with per-channel dynamic int8 weights, run by ONNX Runtime.

Exported once from the packaged model (torch is needed only for the export); afterwards
embedding needs neither torch nor transformers: the `tokenizers` library and onnxruntime.
Mean pooling and normalization are inside the graph. The packaged tokenizer.json truncates and
pads at 128 tokens; here it truncates at ``max_tokens`` and pads to the longest text of a batch.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import numpy as np

from briefing.embedding.minilm import MINILM_DIMENSION, MINILM_NAME, minilm_tokenizer, packaged_minilm_path

log = logging.getLogger(__name__)

ONNX_NAME = f"local:{MINILM_NAME}-onnx-int8"


def export_minilm(target: Path) -> Path:
    """Write the quantized ONNX model to ``target`` (through a temp file beside it).

    The exporter's tracer warnings and the quantizer's pre-processing advice are about model
    families other than this one; they are silenced so a first ingest prints only our own line.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        root = logging.getLogger()
        level = root.level
        root.setLevel(logging.ERROR)
        try:
            return _export(target)
        finally:
            root.setLevel(level)


def _export(target: Path) -> Path:
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel

    class Pooled(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask):
            hidden = self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    target.parent.mkdir(parents=True, exist_ok=True)
    # Eager attention exports to plain MatMul/Softmax nodes that int8 quantization covers; the
    # default SDPA export ran 1.3x slower here for the same vectors.
    model = AutoModel.from_pretrained(str(packaged_minilm_path()), local_files_only=True, attn_implementation="eager")
    model = Pooled(model).eval()
    example = torch.ones((2, 16), dtype=torch.long)
    plain = target.with_suffix(".fp32.onnx")
    torch.onnx.export(
        model, (example, example), str(plain), input_names=["input_ids", "attention_mask"],
        output_names=["embedding"], opset_version=17, dynamo=False,
        dynamic_axes={"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"}},
    )  # fmt: skip
    partial = target.with_suffix(".tmp.onnx")
    # Per-channel: per-tensor int8 was too lossy for this model (min cosine 0.91 to fp32).
    quantize_dynamic(str(plain), str(partial), per_channel=True, weight_type=QuantType.QInt8)
    partial.replace(target)
    plain.unlink(missing_ok=True)
    return target


class OnnxEmbedder:
    """Embeds with the exported int8 graph; exports it on first use if the file is missing."""

    def __init__(self, model_file: Path, max_tokens: int = 256, threads: int | None = None, batch_size: int = 4):
        self.model_file = model_file
        self.max_tokens = max_tokens
        self.threads = threads
        self.batch_size = batch_size
        self.name = ONNX_NAME
        self.dimension = MINILM_DIMENSION
        self._session = None
        self._tokenizer = None

    def _load(self) -> None:
        import onnxruntime

        if not self.model_file.exists():
            log.warning("exporting all-MiniLM-L6-v2 to ONNX int8 at %s (once)", self.model_file)
            export_minilm(self.model_file)
        options = onnxruntime.SessionOptions()
        if self.threads:
            options.intra_op_num_threads = self.threads
        self._session = onnxruntime.InferenceSession(str(self.model_file), options, providers=["CPUExecutionProvider"])
        tokenizer = minilm_tokenizer()
        tokenizer.enable_truncation(max_length=self.max_tokens)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # no length: pad to the longest in the batch
        self._tokenizer = tokenizer

    def embed(self, texts: list[str]) -> np.ndarray:
        if self._session is None:
            self._load()
        # Batches of similar length waste little on padding; the order is restored at the end.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            encoded = self._tokenizer.encode_batch([texts[i] for i in batch])
            ids = np.array([e.ids for e in encoded], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
            out[batch] = self._session.run(["embedding"], {"input_ids": ids, "attention_mask": mask})[0]
        return out

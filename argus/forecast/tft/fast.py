"""The TFT's fast prediction path: network inputs built directly, lean VSNs.

`TimeSeriesDataSet` builds one sample per server in Python (sklearn scalers called per sample,
per-row label encoding), which made forecasting 1,000 servers take ~15 s of which the network
was a quarter. This module computes what `TFTForecaster`'s dataset path feeds the network —
the same 5-minute grid (`argus.forecast.grid`, which the other kinds read too), covariates,
per-window `EncoderNormalizer` scaling (bit for bit), gap filling by repeating the previous
row, and padding — with vectorised numpy, then runs the network's own modules except for the
variable selection networks (~70 % of the forward pass): those run all real-valued variables
as a few batched ops, and a variable with few distinct values (time of day, day of week,
relative time) once per distinct value. The modules run on `lean_copy(network)`, whose gated
linear units and layer norms are laid out for 16-wide features. Forecasts match the dataset
path to float32 rounding (`tests/test_forecast_fast.py`).

It handles the configuration `argus.forecast.tft.dataset.build_dataset` creates; `supports()`
says whether a network is such a one, and `TFTForecaster.predict` uses the dataset path
otherwise.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812 - the usual torch alias
from pytorch_forecasting.data import EncoderNormalizer, MultiNormalizer, NaNLabelEncoder
from pytorch_forecasting.models.temporal_fusion_transformer.sub_modules import (
    GatedLinearUnit,
    GatedResidualNetwork,
    VariableSelectionNetwork,
)

from argus.catalogue import STEP_MINUTES, TARGETS
from argus.forecast.frame import (
    DAY_STEPS,
    LAG_COVARIATES,
    LAG_SUFFIX,
    TIME_COVARIATES,
    same_time_median,
)
from argus.forecast.grid import Buckets, bucket_frame  # noqa: F401 - re-exported

# ---------------------------------------------------------------------------------------------
# Network inputs: what TimeSeriesDataSet(predict=True) + its collate function produce


@dataclass(frozen=True)
class Windows:
    """Per-server encoder + decoder windows on the dense grid, left-aligned like the collate."""

    servers: tuple[str, ...]
    profiles: tuple[str, ...]
    first_prediction: np.ndarray  # (n,) time_idx of the first forecast step
    encoder_lengths: np.ndarray  # (n,)
    gapped: np.ndarray  # (n,) bool: the encoder misses buckets (the dataset re-lays it out)
    features: dict[str, np.ndarray]  # name -> (n, max_encoder + horizon) raw values

    def future_lags(self, horizon: int) -> np.ndarray:
        """(n, targets, horizon): the seasonal covariate of each forecast step."""
        at = self.encoder_lengths[:, None] + np.arange(horizon)[None, :]
        return np.stack(
            [np.take_along_axis(self.features[t + LAG_SUFFIX], at, axis=1) for t in TARGETS],
            axis=1,
        )


def subset(w: Windows, rows: np.ndarray) -> Windows:
    """The windows of `rows` (positions in `w`)."""
    return Windows(
        servers=tuple(w.servers[i] for i in rows),
        profiles=tuple(w.profiles[i] for i in rows),
        first_prediction=w.first_prediction[rows],
        encoder_lengths=w.encoder_lengths[rows],
        gapped=w.gapped[rows],
        features={k: v[rows] for k, v in w.features.items()},
    )


def supports(network: Any, horizon: int) -> bool:
    """Whether `network` has the dataset configuration this module reproduces."""
    try:
        p = network.dataset_parameters
        normalizer = p["target_normalizer"]
        scalers = p["scalers"]
        expected_reals = (
            ["encoder_length"]
            + [f"{t}_{part}" for t in TARGETS for part in ("center", "scale")]
            + list(TIME_COVARIATES)
            + [c for c in LAG_COVARIATES if c in p["time_varying_known_reals"]]
            + ["relative_time_idx"]
            + list(TARGETS)
        )
        return (
            list(p["target"]) == list(TARGETS)
            and isinstance(normalizer, MultiNormalizer)
            and all(_plain_encoder_normalizer(n) for n in normalizer.normalizers)
            and all(_plain_encoder_normalizer(scalers[c]) for c in expected_reals if "_lag" in c)
            and all(scalers.get(c) is None for c in TIME_COVARIATES)
            and all(
                hasattr(scalers[f"{t}_{part}"], "mean_")
                for t in TARGETS
                for part in ("center", "scale")
            )
            and list(network.hparams.x_reals) == expected_reals
            and list(network.hparams.x_categoricals) == ["profile"]
            and p["static_categoricals"] == ["profile"]
            and isinstance(p["categorical_encoders"].get("profile"), NaNLabelEncoder)
            and p["categorical_encoders"]["profile"].add_nan
            and not p.get("lags")
            and p.get("randomize_length") is None
            and not p.get("constant_fill_strategy")
            and p["max_prediction_length"] == horizon <= DAY_STEPS
        )
    except (AttributeError, KeyError, TypeError):
        return False


def _plain_encoder_normalizer(n: Any) -> bool:
    return (
        type(n) is EncoderNormalizer
        and n.method == "standard"
        and n.center
        and n.transformation is None
        and n.max_length is None
    )


def windows(buckets: Buckets, servers: np.ndarray, cfg: Any) -> Windows:
    """Encoder/decoder windows of `servers` (indices into `buckets`), like `_predict_network`.

    History is each server's last `history_steps` steps; the encoder starts at the first
    observed bucket of its last `max_encoder_length` steps; a gap repeats the previous row
    (every feature, as the dataset does); the seasonal covariate is the median of the observed
    values 1 to `seasonal_days` days earlier, else the latest earlier one, else the server's
    first value in the history.
    """
    hist, enc, horizon = cfg.history_steps, cfg.max_encoder_length, cfg.horizon
    n, width = len(servers), hist + horizon
    lo, hi = buckets.starts[servers], buckets.starts[servers + 1]
    last = buckets.time_idx[hi - 1]
    base = last - hist + 1  # time_idx of dense position 0
    # observed buckets of each server inside its history, on a dense (n, width) grid
    lengths = hi - lo
    row_server = np.repeat(np.arange(n), lengths)
    rows = np.concatenate([np.arange(a, b) for a, b in zip(lo, hi, strict=True)]) if n else lo
    pos = buckets.time_idx[rows] - base[row_server]
    inside = pos >= 0
    row_server, rows, pos = row_server[inside], rows[inside], pos[inside]
    observed = np.zeros((n, width), dtype=bool)
    observed[row_server, pos] = True
    values = np.full((n, width, len(TARGETS)), np.nan)
    values[row_server, pos] = buckets.values[rows]
    values[:, hist:] = buckets.values[hi - 1][:, None, :]  # future rows hold the last value
    is_row = observed.copy()
    is_row[:, hist:] = True
    first_row = np.argmax(observed, axis=1)  # first observed position of the history
    lag = _lag_covariate(values, is_row, first_row, cfg.seasonal_days, hist - enc)
    # the window: positions [start, width) with start = first observed in the last `enc` steps
    in_enc = observed[:, hist - enc : hist]
    start = hist - enc + np.argmax(in_enc, axis=1)
    enc_len = hist - start
    span = enc + horizon
    edge = hist - enc  # no window starts before it
    offs = start[:, None] + np.arange(span)[None, :] - edge
    offs = np.minimum(offs, width - 1 - edge)
    # a gap repeats the latest row at or before it (each window starts at a row)
    rep = np.where(is_row[:, edge:], np.arange(edge, width)[None, :], -1)
    rep = np.maximum.accumulate(rep, axis=1)
    src = np.take_along_axis(rep, offs, axis=1)
    tau = base[:, None] + src
    take = np.arange(n)[:, None]
    feats: dict[str, np.ndarray] = {}
    for t, name in enumerate(TARGETS):
        feats[name + LAG_SUFFIX] = lag[take, src - edge, t]
        feats[name] = values[take, src, t]
        if cfg.differenced:  # frame.seasonal_difference: the departure from the seasonal value
            feats[name] = feats[name] - feats[name + LAG_SUFFIX]
    minutes = (tau * STEP_MINUTES) % (24 * 60)
    day = (tau // DAY_STEPS + 3) % 7  # 1970-01-01 was a Thursday
    feats["tod_sin"] = np.sin(2 * np.pi * minutes / (24 * 60))
    feats["tod_cos"] = np.cos(2 * np.pi * minutes / (24 * 60))
    feats["dow_sin"] = np.sin(2 * np.pi * day / 7)
    feats["dow_cos"] = np.cos(2 * np.pi * day / 7)
    return Windows(
        servers=tuple(buckets.names[i] for i in servers),
        profiles=tuple(buckets.profiles[i] for i in servers),
        first_prediction=last + 1,
        encoder_lengths=enc_len.astype(np.int64),
        gapped=observed[:, hist - enc : hist].sum(axis=1) < enc_len,
        features=feats,
    )


def served(network: Any, w: Windows) -> np.ndarray:
    """Which windows of `w` the network serves: those with its minimum encoder length."""
    return w.encoder_lengths >= network.dataset_parameters["min_encoder_length"]


def _lag_covariate(
    values: np.ndarray, is_row: np.ndarray, first_row: np.ndarray, days: int, lo: int
) -> np.ndarray:
    """(n, width - lo, targets): `frame.add_covariates`'s seasonal value at the dense positions
    from `lo` on (the windows start there; only rows matter)."""
    n, width, _ = values.shape
    # the future rows (which hold the last value) are never read: they are under a day ahead
    lag = same_time_median(values, lo, width - lo, days)
    lag[~is_row[:, lo:]] = np.nan
    # forward fill along time (non-rows are NaN, so a row takes the latest earlier row's value)
    got = np.isfinite(lag[..., 0])
    idx = np.maximum.accumulate(np.where(got, np.arange(width - lo)[None, :], -1), axis=1)
    filled = lag[np.arange(n)[:, None], np.maximum(idx, 0)]
    firsts = values[np.arange(n), first_row]  # (n, targets)
    out = np.where((idx >= 0)[..., None], filled, firsts[:, None, :])
    # a row with no earlier value from `lo` on takes the latest before `lo` (short histories)
    redo = np.flatnonzero((idx < 0).any(axis=1))
    if len(redo) and lo > 0:
        whole = _lag_covariate(values[redo], is_row[redo], first_row[redo], days, 0)
        out[redo] = whole[:, lo:]
    return out


def network_inputs(network: Any, w: Windows, horizon: int) -> dict[str, Any]:
    """The batch dict the network's forward takes, as the dataset's collate function builds it."""
    p = network.dataset_parameters
    enc = int(p["max_encoder_length"])
    n, span = len(w.servers), enc + horizon
    enc_len = w.encoder_lengths
    steps = np.arange(span)[None, :]
    in_enc = steps < enc_len[:, None]
    reals = list(network.hparams.x_reals)
    cont = np.zeros((n, span, len(reals)), dtype=np.float64)
    target_scale = []
    for name in TARGETS:
        # the dataset fits a target's scale on its own contiguous tensor
        cont[:, :, reals.index(name)], params = _normalise(w.features[name], enc_len, None)
        for i, part in enumerate(("center", "scale")):
            scaler = p["scalers"][f"{name}_{part}"]
            value = params[:, i].astype(np.float64)
            cont[:, :, reals.index(f"{name}_{part}")] = (
                (value - scaler.mean_[0]) / scaler.scale_[0]
            )[:, None]
        target_scale.append(torch.from_numpy(params))
    for name in reals:
        if name.endswith(LAG_SUFFIX):
            # ... and a covariate's on a column of the sample's 2-d input, which is
            # column-major (pandas' layout, kept by torch) unless gap filling re-indexed it
            layout = w.gapped
            cont[:, :, reals.index(name)] = _normalise(w.features[name], enc_len, layout)[0]
        elif name in TIME_COVARIATES:
            cont[:, :, reals.index(name)] = w.features[name]
    cont[:, :, reals.index("encoder_length")] = ((enc_len - 0.5 * enc) / enc * 2.0)[:, None]
    cont[:, :, reals.index("relative_time_idx")] = (steps - enc_len[:, None]) / enc
    # left-align: the encoder is [0, enc_len), the decoder the `horizon` steps after it
    dec_idx = enc_len[:, None] + np.arange(horizon)[None, :]
    decoder = np.take_along_axis(cont, dec_idx[:, :, None], axis=1)
    max_enc = int(enc_len.max()) if n else 0
    encoder = np.where(in_enc[:, :max_enc, None], cont[:, :max_enc], 0.0)
    classes = p["categorical_encoders"]["profile"].classes_
    cats = np.array([classes.get(pr, 0) for pr in w.profiles], dtype=np.int64)
    first = torch.from_numpy(w.first_prediction.astype(np.int64))
    return {
        "encoder_cat": torch.from_numpy(
            np.where(in_enc[:, :max_enc], cats[:, None], 0)[:, :, None]
        ),
        "encoder_cont": torch.from_numpy(encoder.astype(np.float32)),
        "encoder_lengths": torch.from_numpy(enc_len),
        "decoder_cat": torch.from_numpy(np.repeat(cats[:, None, None], horizon, axis=1)),
        "decoder_cont": torch.from_numpy(decoder.astype(np.float32)),
        "decoder_lengths": torch.full((n,), horizon, dtype=torch.long),
        "decoder_time_idx": first[:, None] + torch.arange(horizon)[None, :],
        "target_scale": target_scale,
    }


def _normalise(
    values: np.ndarray, enc_len: np.ndarray, strided: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """EncoderNormalizer("standard") per window: (normalised values, (n, 2) centre and scale).

    Bit for bit what the dataset path computes per sample, because a near-constant series has
    a scale of ~eps, which magnifies any rounding difference. The centre is torch's float32
    mean of the encoder; torch sums a strided tensor in another order than a contiguous one,
    so the values are laid out like the dataset's (`strided[i]`: window i's encoder is a
    strided view there; row-wise means of such rows give the same bits as its one-sample
    means). The scale follows torch's full-reduction std on CPU
    (squared deviations from the float64 mean, summed in float64), which the row-wise
    torch.std does not.
    """
    y = torch.from_numpy(values.astype(np.float32))
    center = torch.empty(len(values))
    scale = torch.empty(len(values))
    layout = np.zeros(len(values), dtype=bool) if strided is None else strided
    for length, strided_rows in {(int(a), bool(b)) for a, b in zip(enc_len, layout, strict=True)}:
        pick = (enc_len == length) & (layout == strided_rows)
        rows = torch.from_numpy(np.flatnonzero(pick))
        if strided_rows:
            block = torch.zeros((len(rows), int(length), 2))
            block[:, :, 0] = y[rows, : int(length)]
            enc = block[:, :, 0]
        else:
            enc = y[rows, : int(length)].contiguous()
        mean = torch.mean(enc, dim=-1)
        dev = enc.double() - mean.double()[:, None]
        std = torch.sqrt((dev * dev).sum(dim=-1) / (int(length) - 1)).float()
        center[rows] = mean
        scale[rows] = std + torch.finfo(torch.float32).eps
    normed = (y - center[:, None]) / scale[:, None]
    return normed.numpy(), torch.stack([center, scale], dim=-1).numpy()


# ---------------------------------------------------------------------------------------------
# The forward pass with lean variable selection


@dataclass(frozen=True)
class _BatchedVSN:
    """A VariableSelectionNetwork of real-valued inputs folded into stacked tensors.

    Each real variable's path (prescaler -> single-variable GRN) is a function of one scalar;
    its first layers are affine in that scalar and fold into (V, width) vectors, so all
    variables run as a few batched ops instead of ~12 small ops per variable.
    """

    names: tuple[str, ...]
    fc1_a: torch.Tensor  # (V, hk)
    fc1_c: torch.Tensor
    fc2_w: torch.Tensor  # (V, hk, hk) transposed for bmm
    fc2_b: torch.Tensor  # (V, 1, hk)
    glu_w: torch.Tensor  # (V, hk, H) the gated linear unit's value half ...
    glu_b: torch.Tensor  # (V, 1, H)
    gate_w: torch.Tensor  # (V, hk, H) ... and its gate half
    gate_b: torch.Tensor  # (V, 1, H)
    res_m: torch.Tensor | None  # (V, H) residual slope; None: residual is the embedding
    res_n: torch.Tensor | None
    res_ln: tuple[torch.Tensor, torch.Tensor, float] | None  # per-variable LayerNorm
    emb_w: torch.Tensor  # (V, k) prescaler weight (for an identity residual)
    emb_b: torch.Tensor
    out_ln: tuple[torch.Tensor, torch.Tensor, float]
    flat: GatedResidualNetwork
    flat_a: torch.Tensor  # (V, hidden of the flattened GRN): fc1 folded with the prescalers
    flat_c: torch.Tensor
    flat_res_m: torch.Tensor  # (V, V) residual (resample of the concatenated embeddings)
    flat_res_n: torch.Tensor


def _interp_matrix(size_in: int, size_out: int) -> torch.Tensor:
    """TimeDistributedInterpolation as a matrix: interp(e) == e @ M."""
    eye = torch.eye(size_in)
    return F.interpolate(eye.unsqueeze(1), size_out, mode="linear", align_corners=True).squeeze(1)


def _resample_gate(norm: Any) -> torch.Tensor:
    return torch.sigmoid(norm.mask) * 2.0 if norm.trainable_add else torch.ones(norm.output_size)


def fold_vsn(vsn: VariableSelectionNetwork) -> _BatchedVSN | None:
    """Fold `vsn` into batched tensors; None when it has inputs this cannot fold."""
    names = tuple(vsn.input_sizes)
    if len(names) < 2 or set(vsn.prescalers) != set(names):
        return None
    grns = [vsn.single_variable_grns[n] for n in names]
    pres = [vsn.prescalers[n] for n in names]
    sizes = {vsn.input_sizes[n] for n in names}
    if len(sizes) != 1 or not all(type(g) is GatedResidualNetwork for g in grns):
        return None
    if any(g.context_size is not None or g.residual for g in grns):
        return None
    k = sizes.pop()
    with torch.no_grad():
        emb_w = torch.stack([p.weight[:, 0] for p in pres])  # (V, k)
        emb_b = torch.stack([p.bias for p in pres])
        fc1_a = torch.stack([g.fc1.weight @ w for g, w in zip(grns, emb_w, strict=True)])
        fc1_c = torch.stack(
            [g.fc1.weight @ b + g.fc1.bias for g, b in zip(grns, emb_b, strict=True)]
        )
        fc2_w = torch.stack([g.fc2.weight.T for g in grns])
        fc2_b = torch.stack([g.fc2.bias[None, :] for g in grns])
        # F.glu over a last dimension of 2H reads both halves strided, several times slower
        # than two contiguous halves (measured; git log -S "Lean forward pass"): keep them apart.
        half = grns[0].gate_norm.glu.fc.out_features // 2
        glu_w = torch.stack([g.gate_norm.glu.fc.weight[:half].T.contiguous() for g in grns])
        gate_w = torch.stack([g.gate_norm.glu.fc.weight[half:].T.contiguous() for g in grns])
        glu_b = torch.stack([g.gate_norm.glu.fc.bias[None, :half] for g in grns])
        gate_b = torch.stack([g.gate_norm.glu.fc.bias[None, half:] for g in grns])
        out_ln = _stacked_ln([g.gate_norm.add_norm.norm for g in grns])
        res_m: torch.Tensor | None
        res_n: torch.Tensor | None
        if grns[0].input_size != grns[0].output_size:
            norms = [g.resample_norm for g in grns]
            m = _interp_matrix(k, grns[0].output_size)
            gates = torch.stack([_resample_gate(r) for r in norms])
            res_m, res_n = (emb_w @ m) * gates, (emb_b @ m) * gates
            res_ln = _stacked_ln([r.norm for r in norms])
        else:
            res_m = res_n = None
            res_ln = None
        flat = vsn.flattened_grn
        if flat.input_size == flat.output_size or flat.residual:
            return None
        total = flat.input_size
        block = torch.block_diag(*[w[None, :] for w in emb_w])  # (V, V*k)
        flat_a = block @ flat.fc1.weight.T
        flat_c = emb_b.reshape(-1) @ flat.fc1.weight.T + flat.fc1.bias
        m = _interp_matrix(total, flat.output_size)
        gate = _resample_gate(flat.resample_norm)
        flat_res_m = (block @ m) * gate
        flat_res_n = (emb_b.reshape(-1) @ m) * gate
    return _BatchedVSN(
        names, fc1_a, fc1_c, fc2_w, fc2_b, glu_w, glu_b, gate_w, gate_b, res_m, res_n, res_ln,
        emb_w, emb_b, out_ln, flat, flat_a, flat_c, flat_res_m, flat_res_n,
    )  # fmt: skip


def _stacked_ln(norms: list[Any]) -> tuple[torch.Tensor, torch.Tensor, float]:
    eps = {float(n.eps) for n in norms}
    if len(eps) != 1:
        raise ValueError("layer norms with different eps")
    weight = torch.stack([n.weight for n in norms])[:, None, :]
    bias = torch.stack([n.bias for n in norms])[:, None, :]
    return weight, bias, eps.pop()


def _ln(x: torch.Tensor, params: tuple[torch.Tensor, torch.Tensor, float]) -> torch.Tensor:
    """LayerNorm over the last dimension with an affine part, as matrix products.

    With 16 features the native kernel spends its time per row; the mean and the variance
    as products with a (H, 1) column are faster and equal to float32 rounding.
    """
    weight, bias, eps = params
    mean_of = torch.full((x.shape[-1], 1), 1.0 / x.shape[-1], dtype=x.dtype)
    centred = x - x @ mean_of
    scale = torch.rsqrt_((centred * centred) @ mean_of + eps)
    return torch.addcmul(bias, centred.mul_(scale), weight)


# Inputs with at most a few hundred distinct values in any batch: time of day (288), day of
# week (7), position relative to the forecast start (encoder + horizon).
FEW_VALUES = frozenset((*TIME_COVARIATES, "relative_time_idx"))


def _grn_outputs(b: _BatchedVSN, sel: torch.Tensor, xv: torch.Tensor) -> torch.Tensor:
    """Single-variable GRN outputs (len(sel), rows, H) of variables `sel` at values xv (.., 1)."""

    def pick(t: torch.Tensor) -> torch.Tensor:
        return t.index_select(0, sel)

    h = F.elu(torch.addcmul(pick(b.fc1_c)[:, None, :], xv, pick(b.fc1_a)[:, None, :]))
    h = torch.baddbmm(pick(b.fc2_b), h, pick(b.fc2_w))
    gate = torch.sigmoid_(torch.baddbmm(pick(b.gate_b), h, pick(b.gate_w)))
    g = torch.baddbmm(pick(b.glu_b), h, pick(b.glu_w)).mul_(gate)
    if b.res_m is not None and b.res_n is not None and b.res_ln is not None:
        weight, bias, eps = b.res_ln
        ln = (pick(weight), pick(bias), eps)
        residual = _ln(torch.addcmul(pick(b.res_n)[:, None, :], xv, pick(b.res_m)[:, None, :]), ln)
    else:
        residual = torch.addcmul(pick(b.emb_b)[:, None, :], xv, pick(b.emb_w)[:, None, :])
    weight, bias, eps = b.out_ln
    return _ln(g.add_(residual), (pick(weight), pick(bias), eps))


def _run_vsn(b: _BatchedVSN, x: torch.Tensor, context: torch.Tensor | None) -> torch.Tensor:
    """The VSN output (batch, time, H) for raw inputs x (batch, time, V).

    A variable with few distinct values by construction (FEW_VALUES) goes through its GRN once
    per distinct value, gathered afterwards: the same numbers for a fraction of the work.
    """
    n, t, v = x.shape
    rows = n * t
    flat = x.reshape(rows, v)
    weights = torch.softmax(_run_flat(b, x, context), dim=-1).reshape(rows, v)
    dense, out = [], None
    for i in range(v):
        if b.names[i] not in FEW_VALUES:
            dense.append(i)
            continue
        values, inverse = torch.unique(flat[:, i], return_inverse=True)
        table = _grn_outputs(b, torch.tensor([i]), values[None, :, None])[0]
        part = table.index_select(0, inverse) * weights[:, i : i + 1]
        out = part if out is None else out + part
    if dense:
        sel = torch.tensor(dense)
        xv = flat.index_select(1, sel).T.unsqueeze(-1)  # (V', rows, 1)
        outputs = _grn_outputs(b, sel, xv)  # (V', rows, H)
        # the weighted sum over variables, accumulated in place (no (V', rows, H) product)
        w = weights.index_select(1, sel).T.contiguous()
        part = outputs[0] * w[0, :, None]
        for k in range(1, len(dense)):
            part.addcmul_(outputs[k], w[k, :, None])
        out = part if out is None else out + part
    assert out is not None  # noqa: S101 - v >= 2 by construction
    return out.reshape(n, t, -1)


def _run_flat(b: _BatchedVSN, x: torch.Tensor, context: torch.Tensor | None) -> torch.Tensor:
    """The flattened GRN of the VSN on the folded inputs (its variable weights before softmax)."""
    grn = b.flat
    residual = grn.resample_norm.norm(x @ b.flat_res_m + b.flat_res_n)
    h = x @ b.flat_a + b.flat_c
    if context is not None:
        h = h + grn.context(context)
    h = grn.fc2(grn.elu(h))
    return grn.gate_norm(h, residual)


class _SplitGLU(torch.nn.Module):
    """A GatedLinearUnit (eval mode) with its value and gate halves as two contiguous layers."""

    def __init__(self, glu: GatedLinearUnit) -> None:
        super().__init__()
        half = glu.fc.out_features // 2
        self.value = torch.nn.Linear(glu.fc.in_features, half)
        self.gate = torch.nn.Linear(glu.fc.in_features, half)
        with torch.no_grad():
            self.value.weight.copy_(glu.fc.weight[:half])
            self.value.bias.copy_(glu.fc.bias[:half])
            self.gate.weight.copy_(glu.fc.weight[half:])
            self.gate.bias.copy_(glu.fc.bias[half:])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.value(x).mul_(torch.sigmoid_(self.gate(x)))


class _ProductLayerNorm(torch.nn.Module):
    """A LayerNorm over the last dimension computed by `_ln` (matrix products)."""

    def __init__(self, norm: torch.nn.LayerNorm) -> None:
        super().__init__()
        self.params = (norm.weight.detach(), norm.bias.detach(), float(norm.eps))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _ln(x, self.params)


def lean_copy(network: Any) -> Any:
    """A copy of `network` for inference whose gated linear units and layer norms run faster.

    `F.glu` over a last dimension of 2H and a LayerNorm over H = 16 features spend their time
    per row; the replacements compute the same numbers (to float32 rounding) with contiguous
    halves and matrix products. The network itself is left as it is (training, explanations).
    """
    lean = copy.deepcopy(network).eval()
    replaced: dict[int, torch.nn.Module] = {}  # a module shared by two names stays shared
    for parent in list(lean.modules()):
        # `_modules`, not named_children(): that skips a second name of a shared module
        # (the TFT's post-LSTM gate serves the encoder and the decoder).
        for name, child in list(parent._modules.items()):  # noqa: SLF001
            if type(child) is GatedLinearUnit:
                parent._modules[name] = replaced.setdefault(id(child), _SplitGLU(child))  # noqa: SLF001
            elif (
                type(child) is torch.nn.LayerNorm
                and len(child.normalized_shape) == 1
                and child.elementwise_affine
                and child.bias is not None
            ):
                lean_norm = replaced.setdefault(id(child), _ProductLayerNorm(child))
                parent._modules[name] = lean_norm  # noqa: SLF001
    return lean


class FastTFT:
    """A TemporalFusionTransformer's forward pass (eval mode) with lean variable selection.

    Mirrors `TemporalFusionTransformer.forward` of pytorch-forecasting 1.8 (a model records
    the library versions it needs) but returns only the rescaled quantile predictions. It runs
    on `lean_copy(network)`; `network` stays the one it was made for.
    """

    def __init__(self, network: Any) -> None:
        self.network = network
        self._lean = lean_copy(network)
        self.encoder_vsn = self._fold(network.encoder_variable_selection, "encoder")
        self.decoder_vsn = self._fold(network.decoder_variable_selection, "decoder")

    def _fold(self, vsn: VariableSelectionNetwork, part: str) -> _BatchedVSN | None:
        """`fold_vsn` of the network's VSN, its flattened GRN taken from the lean copy."""
        folded = fold_vsn(vsn)
        lean = getattr(self._lean, f"{part}_variable_selection").flattened_grn
        return None if folded is None else dataclasses.replace(folded, flat=lean)

    def _vsn(
        self, folded: _BatchedVSN | None, module: Any, inputs: dict[str, torch.Tensor],
        x_cont: torch.Tensor, context: torch.Tensor,
    ) -> torch.Tensor:  # fmt: skip
        if folded is None:
            return module(inputs, context)[0]
        reals = list(self.network.hparams.x_reals)
        cols = [reals.index(name) for name in folded.names]
        # the static context is the same at every step: project it once per sample
        return _run_vsn(folded, x_cont[..., cols], context[:, :1])

    def prediction(self, x: dict[str, Any]) -> list[torch.Tensor]:
        """The rescaled prediction of each target (batch, horizon, quantiles)."""
        net = self._lean
        enc_lengths, dec_lengths = x["encoder_lengths"], x["decoder_lengths"]
        x_cat = torch.cat([x["encoder_cat"], x["decoder_cat"]], dim=1)
        x_cont = torch.cat([x["encoder_cont"], x["decoder_cont"]], dim=1)
        timesteps = x_cont.size(1)
        max_enc = int(enc_lengths.max())
        inputs = net.input_embeddings(x_cat)
        inputs.update(
            {
                name: x_cont[..., idx].unsqueeze(-1)
                for idx, name in enumerate(net.hparams.x_reals)
                if name in net.reals
            }
        )
        static = {name: inputs[name][:, 0] for name in net.static_variables}
        static_embedding, _ = net.static_variable_selection(static)
        ctx = net.expand_static_context(
            net.static_context_variable_selection(static_embedding), timesteps
        )
        enc_in = {n: inputs[n][:, :max_enc] for n in net.encoder_variables}
        dec_in = {n: inputs[n][:, max_enc:] for n in net.decoder_variables}
        emb_enc = self._vsn(
            self.encoder_vsn, net.encoder_variable_selection, enc_in, x_cont[:, :max_enc],
            ctx[:, :max_enc],
        )  # fmt: skip
        emb_dec = self._vsn(
            self.decoder_vsn, net.decoder_variable_selection, dec_in, x_cont[:, max_enc:],
            ctx[:, max_enc:],
        )  # fmt: skip
        layers = net.hparams.lstm_layers
        hidden = net.static_context_initial_hidden_lstm(static_embedding).expand(layers, -1, -1)
        cell = net.static_context_initial_cell_lstm(static_embedding).expand(layers, -1, -1)
        enc_out, (hidden, cell) = net.lstm_encoder(
            emb_enc, (hidden, cell), lengths=enc_lengths, enforce_sorted=False
        )
        dec_out, _ = net.lstm_decoder(
            emb_dec, (hidden, cell), lengths=dec_lengths, enforce_sorted=False
        )
        lstm_enc = net.post_lstm_add_norm_encoder(net.post_lstm_gate_encoder(enc_out), emb_enc)
        lstm_dec = net.post_lstm_add_norm_decoder(net.post_lstm_gate_decoder(dec_out), emb_dec)
        lstm_output = torch.cat([lstm_enc, lstm_dec], dim=1)
        enrichment = net.static_context_enrichment(static_embedding)
        attn_input = net.static_enrichment(
            lstm_output, net.expand_static_context(enrichment, timesteps)
        )
        attn_output, _ = net.multihead_attn(
            q=attn_input[:, max_enc:],
            k=attn_input,
            v=attn_input,
            mask=net.get_attention_mask(encoder_lengths=enc_lengths, decoder_lengths=dec_lengths),
        )
        attn_output = net.post_attn_gate_norm(attn_output, attn_input[:, max_enc:])
        output = net.pos_wise_ff(attn_output)
        output = net.pre_output_gate_norm(output, lstm_output[:, max_enc:])
        if net.n_targets > 1:
            output = [layer(output) for layer in net.output_layer]
        else:
            output = net.output_layer(output)
        prediction = net.transform_output(output, target_scale=x["target_scale"])
        return list(net.to_quantiles({"prediction": prediction}))

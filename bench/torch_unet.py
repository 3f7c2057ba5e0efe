#!/usr/bin/env python3
"""
The selfdpo-lab text-to-image denoiser (text encoder + UNet) re-implemented in PyTorch from
our TypeScript (src/model/unet.ts, textEncoder.ts, layers.ts), as a yardstick for the tfjs
timings of bench/trainStep.ts. Same layer order, channel counts, group-norm groups, attention
heads and token counts, and the same parameter names; only the storage layout of kernels
differs (dense [cout,cin] and conv [cout,cin,kh,kw] here, [cin,cout] and [kh,kw,cin,cout] in
tfjs), converted on load.

Modes (each prints one JSON object on the last line of stdout; progress goes to stderr):
  --describe --config FILE        parameter names/shapes/count and forward FLOPs per image
  --check DIR                     load DIR/model.json + weights.bin (selfdpo-model/1) and
                                  DIR/check.json (inputs and the tfjs output), compare
  --config FILE --threads N ...   time an SFT step, a Self-DPO-shaped step and DDIM sampling
FILE is a JSON object {"model": <ModelConfig>, "vocabSize": n}. Run with Debian's torch:
  /usr/bin/python3 bench/torch_unet.py --threads 1 --config cfg.json
"""
import argparse
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

# ---------------------------------------------------------------------------------------
# Parameters by name, created on first use (as src/model/params.ts does).


class Params:
    def __init__(self, seed=0):
        self.vars = {}
        self.locked = False
        self.gen = torch.Generator().manual_seed(seed)

    def get(self, name, shape, init):
        have = self.vars.get(name)
        if have is not None:
            if list(have.shape) != list(shape):
                raise ValueError(f"parameter {name}: shape {list(have.shape)} != {list(shape)}")
            return have
        if self.locked:
            raise KeyError(f"parameter {name} {list(shape)} is missing")
        if init == "zeros":
            t = torch.zeros(shape)
        elif init == "ones":
            t = torch.ones(shape)
        else:  # the scale of a normal; the exact init does not matter for timing
            t = torch.randn(shape, generator=self.gen) * init
        t.requires_grad_(True)
        self.vars[name] = t
        return t

    def names(self):
        return list(self.vars.keys())

    def size(self):
        return sum(v.numel() for v in self.vars.values())

    def clone(self):
        out = Params()
        out.vars = {n: v.detach().clone() for n, v in self.vars.items()}
        out.locked = True
        return out


class Scope:
    def __init__(self, params, prefix=""):
        self.params = params
        self.prefix = prefix

    def get(self, name, shape, init):
        return self.params.get(self.prefix + name, shape, init)

    def child(self, name):
        return Scope(self.params, f"{self.prefix}{name}/")


# ---------------------------------------------------------------------------------------
# Layers (src/model/layers.ts). FLOPs counted the same way: 2 per multiply-add of the
# matmuls and convolutions.

_flops = None


def _add_flops(n):
    global _flops
    if _flops is not None:
        _flops += n


def dense(s, x, cout, bias=True):
    cin = x.shape[-1]
    w = s.get("w", [cout, cin], 1.0 / math.sqrt(cin))  # tfjs: [cin, cout]
    _add_flops(2 * (x.numel() // cin) * cin * cout)
    return F.linear(x, w, s.get("b", [cout], "zeros") if bias else None)


def _same_padding(size, k, stride):
    out = -(-size // stride)
    total = max((out - 1) * stride + k - size, 0)
    return total // 2, total - total // 2


def conv(s, x, cout, k=3, stride=1, init=None):
    """'same' convolution with TensorFlow's padding (the extra row/column goes after)."""
    cin = x.shape[1]
    w = s.get("w", [cout, cin, k, k], init if init is not None else math.sqrt(2.0 / (k * k * cin)))  # tfjs: [k,k,cin,cout]
    b = s.get("b", [cout], "zeros")
    ph = _same_padding(x.shape[2], k, stride)
    pw = _same_padding(x.shape[3], k, stride)
    if ph[0] == ph[1] and pw[0] == pw[1]:
        y = F.conv2d(x, w, b, stride, (ph[0], pw[0]))
    else:
        y = F.conv2d(F.pad(x, (pw[0], pw[1], ph[0], ph[1])), w, b, stride)
    _add_flops(2 * y.numel() * k * k * cin)
    return y


def silu(x):
    return x * torch.sigmoid(x)  # as layers.ts writes it (F.silu is the same function)


def group_norm(s, x, groups, eps=1e-5):
    C = x.shape[1]
    return F.group_norm(x, groups, s.get("scale", [C], "ones"), s.get("shift", [C], "zeros"), eps)


def layer_norm(s, x, eps=1e-5):
    C = x.shape[-1]
    return F.layer_norm(x, (C,), s.get("scale", [C], "ones"), s.get("shift", [C], "zeros"), eps)


def timestep_embedding(t, dim):
    half = dim // 2
    i = torch.arange(half, dtype=torch.float64)
    angle = t.to(torch.float64)[:, None] * torch.exp(-math.log(10000) * i / half)[None, :]
    return torch.cat([torch.cos(angle), torch.sin(angle)], 1).to(torch.float32)


def attention(q, k, v, heads, key_bias):
    """q [B,Nq,C], k and v [B,Nk,C], key_bias [B,Nk] or None -> [B,Nq,C]."""
    B, Nq, C = q.shape
    Nk = k.shape[1]
    d = C // heads
    _add_flops(2 * 2 * B * Nq * Nk * C)

    def split(x, n):
        return x.reshape(B, n, heads, d).permute(0, 2, 1, 3)  # [B,heads,n,d]

    logits = torch.matmul(split(q, Nq) * (1 / math.sqrt(d)), split(k, Nk).transpose(-1, -2))
    if key_bias is not None:
        logits = logits + key_bias[:, None, None, :]
    out = torch.matmul(torch.softmax(logits, -1), split(v, Nk))  # [B,heads,Nq,d]
    return out.permute(0, 2, 1, 3).reshape(B, Nq, C)


# ---------------------------------------------------------------------------------------
# Text encoder (src/model/textEncoder.ts) and UNet (src/model/unet.ts).


def encode_text(s, cfg, vocab_size, ids, mask):
    B, L = ids.shape
    D = cfg["width"]
    table = s.get("embed", [vocab_size, D], 0.02)
    start = s.get("start", [1, 1, D], 0.02)
    position = s.get("position", [1, L + 1, D], 0.01)
    x = torch.cat([start.expand(B, 1, D), F.embedding(ids, table)], 1) + position
    key_bias = (1 - torch.cat([torch.ones(B, 1), mask], 1)) * -1e9
    for i in range(cfg["layers"]):
        ls = s.child(f"layer{i}")
        h = layer_norm(ls.child("norm1"), x)
        q = dense(ls.child("q"), h, D)
        k = dense(ls.child("k"), h, D)
        v = dense(ls.child("v"), h, D)
        x = x + dense(ls.child("proj"), attention(q, k, v, cfg["heads"], key_bias), D)
        h2 = layer_norm(ls.child("norm2"), x)
        x = x + dense(ls.child("ff2"), silu(dense(ls.child("ff1"), h2, 4 * D)), D)
    tokens = layer_norm(s.child("final"), x)
    return {"tokens": tokens, "key_bias": key_bias, "pooled": tokens[:, 0, :]}


def res_block(s, x, emb, cout, groups):
    h = conv(s.child("conv1"), silu(group_norm(s.child("norm1"), x, groups)), cout)
    h = h + dense(s.child("emb"), emb, cout)[:, :, None, None]
    h = conv(s.child("conv2"), silu(group_norm(s.child("norm2"), h, groups)), cout, 3, 1, "zeros")
    skip = x if x.shape[1] == cout else conv(s.child("skip"), x, cout, 1)
    return skip + h


def attention_block(s, x, text, heads, groups):
    B, C, H, W = x.shape
    h = group_norm(s.child("norm"), x, groups).reshape(B, C, H * W).transpose(1, 2)  # [B,HW,C]
    q = dense(s.child("q"), h, C, bias=False)
    k = dense(s.child("k"), h, C, bias=False)
    v = dense(s.child("v"), h, C, bias=False)
    y = x.reshape(B, C, H * W).transpose(1, 2) + dense(s.child("proj"), attention(q, k, v, heads, None), C)
    h2 = layer_norm(s.child("crossNorm"), y)
    cq = dense(s.child("crossQ"), h2, C, bias=False)
    ck = dense(s.child("crossK"), text["tokens"], C, bias=False)
    cv = dense(s.child("crossV"), text["tokens"], C, bias=False)
    y = y + dense(s.child("crossProj"), attention(cq, ck, cv, heads, text["key_bias"]), C)
    return y.transpose(1, 2).reshape(B, C, H, W)


def unet(s, cfg, x, t, text):
    """x [B,3,R,R] (NCHW), t [B] int -> eps [B,3,R,R]."""
    ch = cfg["channels"]
    levels = len(ch)
    E = cfg["embedWidth"]
    groups = cfg["groups"]
    emb = dense(s.child("time1"), timestep_embedding(t, E // 2), E)
    emb = dense(s.child("time2"), silu(emb), E)
    emb = silu(emb + dense(s.child("pooled"), text["pooled"], E))

    def block(bs, h, cout, level):
        h = res_block(bs.child("res"), h, emb, cout, groups)
        return attention_block(bs.child("attn"), h, text, cfg["heads"], groups) if level in cfg["attentionLevels"] else h

    h = conv(s.child("in"), x, ch[0])
    skips = []
    for level in range(levels):
        for r in range(cfg["resBlocks"][level]):
            h = block(s.child(f"down{level}/block{r}"), h, ch[level], level)
            skips.append(h)
        if level < levels - 1:
            h = conv(s.child(f"down{level}/downsample"), h, h.shape[1], 3, 2)
    deepest = levels - 1
    h = res_block(s.child("mid/res1"), h, emb, ch[deepest], groups)
    h = attention_block(s.child("mid/attn"), h, text, cfg["heads"], groups)
    h = res_block(s.child("mid/res2"), h, emb, ch[deepest], groups)
    for level in range(deepest, -1, -1):
        for r in range(cfg["resBlocks"][level]):
            h = torch.cat([h, skips.pop()], 1)
            h = block(s.child(f"up{level}/block{r}"), h, ch[level], level)
        if level > 0:
            # Convolve, then enlarge (tf.image.resizeNearestNeighbor x2 == 'nearest' here).
            h = F.interpolate(conv(s.child(f"up{level}/upsample"), h, ch[level - 1]), scale_factor=2, mode="nearest")
    h = silu(group_norm(s.child("out/norm"), h, groups))
    return conv(s.child("out"), h, 3, 3, 1, "zeros")


class Model:
    """Text encoder + UNet over one Params store, names prefixed 'text/' and 'unet/'."""

    def __init__(self, model_cfg, vocab_size, params=None):
        self.cfg = model_cfg
        self.vocab_size = vocab_size
        self.params = params if params is not None else Params()
        if params is None:
            with torch.no_grad():
                L = model_cfg["maxWords"]
                text = self.encode(torch.zeros(1, L, dtype=torch.long), torch.zeros(1, L))
                R = model_cfg["resolution"]
                self.predict_eps(torch.zeros(1, 3, R, R), torch.zeros(1, dtype=torch.long), text)
            self.params.locked = True

    def encode(self, ids, mask, params=None):
        return encode_text(Scope(params or self.params, "text/"), self.cfg["text"], self.vocab_size, ids, mask)

    def predict_eps(self, xt, t, text, params=None):
        return unet(Scope(params or self.params, "unet/"), self.cfg["unet"], xt, t, text)

    def variables(self, prefix=""):
        return [v for n, v in self.params.vars.items() if n.startswith(prefix)]

    def counts(self):
        text = sum(v.numel() for n, v in self.params.vars.items() if n.startswith("text/"))
        return {"text": text, "unet": self.params.size() - text}

    def unet_flops_per_image(self):
        global _flops
        L = self.cfg["maxWords"]
        R = self.cfg["resolution"]
        with torch.no_grad():
            text = self.encode(torch.zeros(1, L, dtype=torch.long), torch.zeros(1, L))
            _flops = 0
            try:
                self.predict_eps(torch.zeros(1, 3, R, R), torch.zeros(1, dtype=torch.long), text)
                return _flops
            finally:
                _flops = None


def tf_layout_shape(name, shape):
    """The shape tfjs stores a parameter in."""
    if name.endswith("/w") and len(shape) == 2:
        return [shape[1], shape[0]]
    if name.endswith("/w") and len(shape) == 4:
        return [shape[2], shape[3], shape[1], shape[0]]
    return list(shape)


def from_tf_layout(name, t):
    if name.endswith("/w") and t.dim() == 2:
        return t.t().contiguous()
    if name.endswith("/w") and t.dim() == 4:
        return t.permute(3, 2, 0, 1).contiguous()
    return t


# ---------------------------------------------------------------------------------------
# Noise schedule (src/diffusion/schedule.ts, cosine) and the steps being timed.


def cosine_alpha_bar(steps):
    s = 0.008

    def f(t):
        return math.cos(((t / steps + s) / (1 + s)) * (math.pi / 2)) ** 2

    prod, out = 1.0, []
    for i in range(steps):
        prod *= 1 - min(1 - f(i + 1) / f(i), 0.999)
        out.append(prod)
    return torch.tensor(out, dtype=torch.float64)


def random_captions(gen, n, L, vocab):
    """n captions of 3..8 random words (ids >= 2) padded to L."""
    ids = torch.zeros(n, L, dtype=torch.long)
    mask = torch.zeros(n, L)
    for b in range(n):
        k = int(torch.randint(3, 9, (1,), generator=gen))
        ids[b, :k] = torch.randint(2, vocab, (k,), generator=gen)
        mask[b, :k] = 1
    return ids, mask


def denoising_error(model, alpha_bar, x0, eps, t, ids, mask, params=None):
    """Per-image ||eps - eps_theta(xt, t, c)||^2 averaged over pixels, [B] (denoisingError.ts)."""
    ab = alpha_bar[t].to(torch.float32)[:, None, None, None]
    xt = x0 * ab.sqrt() + eps * (1 - ab).sqrt()
    pred = model.predict_eps(xt, t, model.encode(ids, mask, params), params)
    return ((pred - eps) ** 2).mean((1, 2, 3))


def adamw(variables, lr=1e-4):
    """AdamW as src/optim/adamw.ts: decoupled decay on rank >= 2 parameters only."""
    decay = [v for v in variables if v.dim() >= 2]
    rest = [v for v in variables if v.dim() < 2]
    return torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.01}, {"params": rest, "weight_decay": 0.0}],
        lr=lr, betas=(0.9, 0.999), eps=1e-8,
    )


def median(xs):
    s = sorted(xs)
    m = len(s) // 2
    return s[m] if len(s) % 2 else (s[m - 1] + s[m]) / 2


def timed(fn, warm, reps, label):
    for _ in range(warm):
        fn()
    out = []
    for i in range(reps):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
        print(f"  torch {label} {i + 1}/{reps}: {out[-1]:.1f} ms", file=sys.stderr)
    return out


def bench(model, args, gen):
    R = model.cfg["resolution"]
    L = model.cfg["maxWords"]
    alpha_bar = cosine_alpha_bar(1000)
    result = {}

    # SFT: text encoder + UNet trained together, as src/train/pretrain.ts does.
    B = args.sft_batch
    x0 = torch.rand(B, 3, R, R, generator=gen) * 2 - 1
    eps = torch.randn(B, 3, R, R, generator=gen)
    t = torch.randint(0, 1000, (B,), generator=gen)
    ids, mask = random_captions(gen, B, L, model.vocab_size)
    weights = model.variables()
    opt = adamw(weights)

    def sft_step():
        opt.zero_grad(set_to_none=True)
        loss = denoising_error(model, alpha_bar, x0, eps, t, ids, mask).sum() / B
        loss.backward()
        torch.nn.utils.clip_grad_norm_(weights, 1.0)
        opt.step()
        return loss.item()

    result["sft"] = {"batch": B, "ms": timed(sft_step, args.warm, args.sft_reps, f"SFT B={B}")}
    del opt

    # Self-DPO-shaped: 2P images (winners then their losers, sharing noise, timestep and caption)
    # through the policy UNet with gradients and through a frozen reference without.
    P = args.dpo_pairs
    ref = model.params.clone()
    x0 = torch.rand(2 * P, 3, R, R, generator=gen) * 2 - 1
    e = torch.randn(P, 3, R, R, generator=gen)
    eps = torch.cat([e, e])
    tp = torch.randint(0, 1000, (P,), generator=gen)
    t = torch.cat([tp, tp])
    idp, mp = random_captions(gen, P, L, model.vocab_size)
    ids, mask = torch.cat([idp, idp]), torch.cat([mp, mp])
    unet_vars = model.variables("unet/")
    for v in model.variables("text/"):
        v.requires_grad_(False)  # frozen after pretraining
    opt = adamw(unet_vars)
    beta = 2500.0

    def dpo_step():
        opt.zero_grad(set_to_none=True)
        with torch.no_grad():
            ref_err = denoising_error(model, alpha_bar, x0, eps, t, ids, mask, ref)
        err = denoising_error(model, alpha_bar, x0, eps, t, ids, mask)
        d = (err[:P] - err[P:]) - (ref_err[:P] - ref_err[P:])
        loss = F.softplus(beta * d).mean()  # -log sigmoid(-beta d)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(unet_vars, 1.0)
        opt.step()
        return loss.item()

    result["dpo"] = {"pairs": P, "ms": timed(dpo_step, args.warm, args.dpo_reps, f"Self-DPO {P} pairs")}
    for v in model.variables("text/"):
        v.requires_grad_(True)
    del opt, ref

    # DDIM with classifier-free guidance (src/model/generate.ts): one doubled batch per step.
    B = args.sample_batch
    ids, mask = random_captions(gen, B, L, model.vocab_size)
    ids = torch.cat([ids, torch.zeros(B, L, dtype=torch.long)])
    mask = torch.cat([mask, torch.zeros(B, L)])
    w = args.guidance

    def sample(steps_run):
        ts = [round(1000 - (i * 1000) / args.sample_steps) - 1 for i in range(args.sample_steps)][:steps_run]
        with torch.no_grad():
            text = model.encode(ids, mask)
            x = torch.randn(B, 3, R, R, generator=gen)
            for i, tt in enumerate(ts):
                a = float(alpha_bar[tt])
                prev = ts[i + 1] if i + 1 < len(ts) else -1
                a_prev = float(alpha_bar[prev]) if prev >= 0 else 1.0
                both = model.predict_eps(torch.cat([x, x]), torch.full((2 * B,), tt, dtype=torch.long), text)
                cond, unc = both[:B], both[B:]
                e = unc + (cond - unc) * w
                x0 = ((x - e * math.sqrt(1 - a)) / math.sqrt(a)).clamp(-1, 1)
                e = (x - x0 * math.sqrt(a)) / math.sqrt(1 - a)
                x = x0 * math.sqrt(a_prev) + e * math.sqrt(max(0.0, 1 - a_prev))
        return x

    timed_steps = min(args.sample_steps_timed or args.sample_steps, args.sample_steps)
    ms = timed(lambda: sample(timed_steps), 0, args.sample_reps, f"DDIM B={B} {timed_steps}/{args.sample_steps} steps")
    full = [m * args.sample_steps / timed_steps for m in ms]
    result["sample"] = {"batch": B, "steps": args.sample_steps, "stepsTimed": timed_steps, "guidance": w, "ms": full, "imagesPerSec": B / (median(full) / 1000)}
    return result


def describe(model):
    names = model.params.names()
    return {
        "parameters": model.counts(),
        "total": model.params.size(),
        "shapes": {n: tf_layout_shape(n, list(model.params.vars[n].shape)) for n in names},
        "unetFlopsPerImage": model.unet_flops_per_image(),
    }


def load_checkpoint(dir_):
    with open(os.path.join(dir_, "model.json")) as f:
        file = json.load(f)
    manifest = file["weightsManifest"]
    raw = torch.frombuffer(bytearray(open(os.path.join(dir_, manifest["file"]), "rb").read()), dtype=torch.float32)
    model = Model(file["model"], len(file["tokenizer"]["vocab"]))
    offset = 0
    seen = set()
    with torch.no_grad():
        for spec in manifest["weights"]:
            name, shape = spec["name"], spec["shape"]
            n = math.prod(shape)
            value = from_tf_layout(name, raw[offset:offset + n].reshape(shape))
            offset += n
            if name not in model.params.vars:
                raise KeyError(f"tfjs parameter {name} {shape} has no PyTorch counterpart")
            model.params.vars[name].copy_(value)
            seen.add(name)
    missing = [n for n in model.params.names() if n not in seen]
    if missing:
        raise KeyError(f"PyTorch parameters missing from the tfjs weights: {missing[:5]}")
    return model


def check(dir_):
    model = load_checkpoint(dir_)
    with open(os.path.join(dir_, "check.json")) as f:
        c = json.load(f)
    B, R = c["batch"], model.cfg["resolution"]
    L = model.cfg["maxWords"]
    xt = torch.tensor(c["xt"], dtype=torch.float32).reshape(B, R, R, 3).permute(0, 3, 1, 2)
    t = torch.tensor(c["t"], dtype=torch.long)
    ids = torch.tensor(c["ids"], dtype=torch.long).reshape(B, L)
    mask = torch.tensor(c["mask"], dtype=torch.float32).reshape(B, L)
    want = torch.tensor(c["eps"], dtype=torch.float32).reshape(B, R, R, 3)
    with torch.no_grad():
        got = model.predict_eps(xt, t, model.encode(ids, mask)).permute(0, 2, 3, 1)
    diff = (got - want).abs().max().item()
    return {"maxAbsDiff": diff, "maxAbs": want.abs().max().item(), "relDiff": diff / max(want.abs().max().item(), 1e-12), **describe(model)}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", help="JSON file {model: ModelConfig, vocabSize}")
    p.add_argument("--check", metavar="DIR", help="compare with a tfjs checkpoint and its outputs")
    p.add_argument("--describe", action="store_true")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--sft-batch", type=int, default=16)
    p.add_argument("--dpo-pairs", type=int, default=16)
    p.add_argument("--sample-batch", type=int, default=16)
    p.add_argument("--sample-steps", type=int, default=25)
    p.add_argument("--sample-steps-timed", type=int, default=0, help="run only this many steps and scale up (0 = all)")
    p.add_argument("--guidance", type=float, default=3.0)
    p.add_argument("--warm", type=int, default=2)
    p.add_argument("--sft-reps", type=int, default=10)
    p.add_argument("--dpo-reps", type=int, default=5)
    p.add_argument("--sample-reps", type=int, default=2)
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    info = {"torch": torch.__version__, "threads": torch.get_num_threads(), "python": sys.version.split()[0]}
    if args.check:
        print(json.dumps({**info, **check(args.check)}))
        return
    if not args.config:
        p.error("--config FILE is required (or --check DIR)")
    with open(args.config) as f:
        cfg = json.load(f)
    model = Model(cfg["model"], cfg["vocabSize"])
    if args.describe:
        print(json.dumps({**info, **describe(model)}))
        return
    out = {**info, "parameters": model.counts(), "unetFlopsPerImage": model.unet_flops_per_image()}
    out.update(bench(model, args, torch.Generator().manual_seed(1)))
    print(json.dumps(out))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""scipy/numpy peer of fokker's benchmark problems (docs/performance.md).

What a careful scipy user would write: the same exponentially fitted
(Scharfetter-Gummel) finite-volume discretisation, assembled with vectorised
numpy into scipy.sparse, solved with SuperLU (spsolve with one pinned row for
stationary densities, splu factor-once for time stepping), and a vectorised
numpy Euler-Maruyama loop for particles.

Usage: scipy_peer.py CASE N [VARIANT]   prints one JSON object
  CASE: P1 P2 P3 P4 P5; N: cells per axis (P1: total cells; P4: particles)
"""
import json
import math
import sys
import time

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla


def bernoulli(z):
    """B(z) = z / (exp(z) - 1), stable everywhere."""
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    small = np.abs(z) < 1e-5
    out[small] = 1 - z[small] / 2 + z[small] ** 2 / 12
    big = ~small
    out[big] = z[big] / np.expm1(z[big])
    return out


def assemble(shape, lower, upper, D, drift=None, potential=None):
    """Generator L (dp/dt = L p) on a uniform grid with reflecting sides:
    exponential fitting along each axis, face drift mu_k(face) * h or exact
    potential differences, constant isotropic diffusion D."""
    d = len(shape)
    h = [(upper[k] - lower[k]) / shape[k] for k in range(d)]
    centres = [lower[k] + (np.arange(shape[k]) + 0.5) * h[k] for k in range(d)]
    grids = np.meshgrid(*centres, indexing="ij")
    n = int(np.prod(shape))
    idx = np.arange(n).reshape(shape)
    vol = float(np.prod(h))
    rows, cols, vals = [], [], []
    for k in range(d):
        sl_p = [slice(None)] * d
        sl_q = [slice(None)] * d
        sl_p[k] = slice(0, shape[k] - 1)
        sl_q[k] = slice(1, shape[k])
        P = idx[tuple(sl_p)].ravel()
        Q = idx[tuple(sl_q)].ravel()
        if potential is not None:
            U = potential(*grids)
            v = -(U[tuple(sl_q)] - U[tuple(sl_p)]).ravel()
        else:
            face = [g[tuple(sl_p)] for g in grids]
            face[k] = face[k] + h[k] / 2
            v = drift(k, *face).ravel() * h[k]
        pe = v / D
        g = vol / h[k] / h[k]  # face area / distance
        a = g * D * bernoulli(-pe)
        b = g * D * bernoulli(pe)
        rows += [P, P, Q, Q]
        cols += [P, Q, Q, P]
        vals += [-a / vol, b / vol, -b / vol, a / vol]
    L = sp.coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)).tocsr()
    return L, grids, vol


def stationary(L, pin):
    """Pinned-row SuperLU solve of L p = 0: the row of one cell replaced by
    p_pin = 1 in place in the CSR arrays (no LIL conversion)."""
    A = L.tocsr(copy=True)
    A.sort_indices()
    lo, hi = A.indptr[pin], A.indptr[pin + 1]
    row = A.indices[lo:hi]
    A.data[lo:hi] = 0.0
    A.data[lo + np.searchsorted(row, pin)] = 1.0
    b = np.zeros(L.shape[0])
    b[pin] = 1
    # MMD on A^T + A: the fill-reducing ordering that suits these
    # structurally symmetric matrices best (about 1.5x faster than the
    # default COLAMD at 512^2).
    return spla.spsolve(A.tocsc(), b, permc_spec="MMD_AT_PLUS_A")


def gaussian(grids, mean, cov):
    d = len(grids)
    inv = np.linalg.inv(cov)
    x = np.stack([g - m for g, m in zip(grids, mean)])
    q = np.einsum("i...,ij,j...->...", x, inv, x)
    return np.exp(-q / 2) / math.sqrt((2 * math.pi) ** d * np.linalg.det(cov))


def ou_moments(A, m0, S0, D, t):
    from scipy.linalg import expm, solve_continuous_lyapunov
    E = expm(-A * t)
    S = solve_continuous_lyapunov(A, 2 * D)  # A S + S A^T = 2D
    return E @ m0, E @ (S0 - S) @ E.T + S


def run(case, n, variant):
    out = {"case": f"{case} n={n}" + (f" {variant}" if variant else ""), "method": ""}
    t0 = time.perf_counter()
    if case == "P1":
        L, g, vol = assemble((n,), (-6,), (6,), 0.5, drift=lambda k, x: -x)
        t1 = time.perf_counter()
        p = stationary(L, n // 2)
        p /= p.sum() * vol
        t2 = time.perf_counter()
        out["error"] = float(np.abs(p - gaussian(g, [0.0], np.array([[0.5]])).ravel()).sum() * vol)
        out["method"] = "spsolve (SuperLU), pinned row"
    elif case == "P2":
        U = lambda x, y: (x * x - 1) ** 2 + y * y / 2
        L, g, vol = assemble((n, n), (-3, -3), (3, 3), 0.5, potential=U)
        t1 = time.perf_counter()
        pin = (n // 4) * n + n // 2  # near the minimum at x = -1
        p = stationary(L, pin)
        p /= p.sum() * vol
        t2 = time.perf_counter()
        q = np.exp(-U(*g) / 0.5).ravel()
        q /= q.sum() * vol
        out["error"] = float(np.abs(p - q).sum() * vol)
        out["method"] = "spsolve (SuperLU), pinned row"
    elif case == "P3":
        A = np.array([[1.0, 1.0], [-1.0, 1.0]])
        L, g, vol = assemble((n, n), (-4, -4), (4, 4), 0.5, drift=lambda k, x, y: -(A[k, 0] * x + A[k, 1] * y))
        p = gaussian(g, [1.5, 0.0], 0.05 * np.eye(2)).ravel()
        p /= p.sum() * vol
        t1 = time.perf_counter()
        dt, I = 0.01, sp.identity(L.shape[0], format="csc")
        if variant == "bdf2":
            lu1 = spla.splu((I - dt * L).tocsc(), permc_spec="MMD_AT_PLUS_A")
            lu2 = spla.splu((1.5 * I - dt * L).tocsc(), permc_spec="MMD_AT_PLUS_A")
            prev, p = p, lu1.solve(p)
            for _ in range(99):
                prev, p = p, lu2.solve(2 * p - 0.5 * prev)
            out["method"] = "splu factor-once (2 factorisations), BDF2"
        else:
            lu = spla.splu((I - dt * L).tocsc(), permc_spec="MMD_AT_PLUS_A")
            for _ in range(100):
                p = lu.solve(p)
            out["method"] = "splu factor-once, backward Euler"
        t2 = time.perf_counter()
        m, S = ou_moments(A, np.array([1.5, 0.0]), 0.05 * np.eye(2), 0.5 * np.eye(2), 1.0)
        out["error"] = float(np.abs(p - gaussian(g, m, S).ravel()).sum() * vol)
    elif case == "P4":
        rng = np.random.default_rng(1)
        x = np.zeros((2, n))
        dt, s = 1e-3, math.sqrt(2 * 0.5 * 1e-3)
        t1 = time.perf_counter()
        for _ in range(1000):
            x += -x * dt + s * rng.standard_normal((2, n))
        t2 = time.perf_counter()
        want = 0.5 * (1 - math.exp(-2))
        out["error"] = float(max(abs(x[0].var() - want), abs(x[1].var() - want)))
        out["rate"] = n * 1000 / (t2 - t1)
        out["method"] = "numpy vectorised Euler-Maruyama"
    elif case == "P5":
        L, g, vol = assemble((n, n, n), (-5, -5, -5), (5, 5, 5), 0.5, drift=lambda k, x, y, z: -(x, y, z)[k])
        t1 = time.perf_counter()
        c = n // 2
        p = stationary(L, (c * n + c) * n + c)
        p /= p.sum() * vol
        t2 = time.perf_counter()
        P = p.reshape((n, n, n))
        var = 0.0
        for k, gk in enumerate(g):
            m = (P * gk).sum() * vol
            var = max(var, abs(((gk - m) ** 2 * P).sum() * vol - 0.5))
        out["error"] = float(var)
        out["method"] = "spsolve (SuperLU), pinned row"
    else:
        raise SystemExit(f"unknown case {case}")
    out["assembly"] = t1 - t0
    out["solve"] = t2 - t1
    out["seconds"] = t2 - t0
    return out


if __name__ == "__main__":
    case, n = sys.argv[1], int(sys.argv[2])
    variant = sys.argv[3] if len(sys.argv) > 3 else ""
    print(json.dumps(run(case, n, variant)))

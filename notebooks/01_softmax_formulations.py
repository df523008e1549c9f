# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Three softmax formulations, symbolically
#
# SphereFace {cite}`liu2017sphereface` changes only the last layer of a face-recognition network:
# the logits that the softmax cross-entropy is computed from. The paper builds its loss in three
# steps: the **original softmax** (a linear layer with weights $W_j$ and biases $b_j$), the
# **modified softmax** (unit-length weights, no bias) and **A-Softmax** (the modified softmax with
# a multiplicative angular margin $m$ on the target class). This chapter works out with SymPy what
# each step does to the decision boundary, derives the properties of the angle function $\psi$ that
# makes A-Softmax trainable, re-derives the paper's smallest useful margins, and checks every
# formula against `sphereface_lib`, the library the later chapters train with.
#
# Two kinds of result appear below, and each is labelled as such: **derived** results are exact
# symbolic computations; **checked** results are numerical comparisons on a grid, with the
# tolerance stated and asserted in the cell. The SymPy code that derives each result is folded
# above its output: open it with the "Show code cell source" button.
#
# The chapter's parameters (the margins compared, the grid sizes) are in the first folded cell;
# {doc}`../rerun` shows how to rebuild the chapter with other values.

# %% tags=["parameters", "hide-input"]
profile: str = (
    "smoke"  # "smoke": coarse grids (CI); "full": the published book
)
seed: int = 0
device: str = "cpu"  # where the heads' cross-check runs ("cuda" works too)
margins: list[int] = [1, 2, 3, 4, 5]  # the integer angular margins m compared
grid_points: int | None = None  # theta and cos(theta) grids; None: by profile
circle_points: int | None = None  # points on the circle; None: by profile
num_features: int = 256  # random 2-D features for the heads' cross-check
plot_margin: int = 4  # the m of the decision-boundary figure (the paper's)

# %% tags=["hide-input"]
import itertools
import math

import matplotlib.pyplot as plt
import numpy as np
import sympy as sp
import torch
from IPython.display import Math, display
from matplotlib.patches import Patch
from sphereface_lib.book.chapters import formulations_settings
from sphereface_lib.book.pages import (
    COLUMN_INCHES,
    FULL_WIDTH_INCHES,
    glue_figure,
    glue_value,
    use_book_style,
)
from sphereface_lib.book.report import show_table
from sphereface_lib.common.seeding import seed_everything
from sphereface_lib.heads import build_head
from sphereface_lib.maths.margins import cos_m_theta, psi, psi_from_cos

generator = seed_everything(seed)
use_book_style()
settings = formulations_settings(profile, grid_points, circle_points)
grid_points, circle_points = settings.grid_points, settings.circle_points
theta_12_count = settings.theta_12_count  # class angles 30°..180°
# The Okabe-Ito palette: distinguishable with the common forms of colour blindness.
OKABE_ITO = [
    "#000000",
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#D55E00",
    "#0072B2",
    "#CC79A7",
]
glue_value("grid_points", grid_points)
glue_value("circle_points", circle_points)
glue_value("num_features", num_features)
glue_value("margins", ", ".join(map(str, margins)))

# %% [markdown]
# ## From the original softmax to A-Softmax
#
# **Original softmax** (Section 3.1, Eqs. 1–4 of the paper). With two classes, the last layer turns
# a feature $x$ into logits $z_j = W_j^\top x + b_j$ and the softmax into posteriors
# $p_j = e^{z_j} / (e^{z_1} + e^{z_2})$; $x$ is assigned to the class with the larger posterior.
# SymPy shows that $p_1 - p_2 = \tanh\big((z_1 - z_2)/2\big)$, an increasing function of
# $z_1 - z_2$, so the decision depends only on the sign of $z_1 - z_2$ and the boundary is
# $z_1 = z_2$ (derived):

# %% tags=["hide-input"]
z1, z2 = sp.symbols("z_1 z_2", real=True)
p1 = sp.exp(z1) / (sp.exp(z1) + sp.exp(z2))  # Eq. 1
p2 = sp.exp(z2) / (sp.exp(z1) + sp.exp(z2))  # Eq. 2
assert sp.simplify((p1 - p2 - sp.tanh((z1 - z2) / 2)).rewrite(sp.exp)) == 0
display(sp.Eq(sp.Symbol("p_1") - sp.Symbol("p_2"), sp.tanh((z1 - z2) / 2)))
display(sp.Eq(z1, sp.solve(sp.Eq(p1, p2), z1)[0]))

# %% [markdown]
# In the plane, write the feature as $x = r(\cos\varphi, \sin\varphi)$ and the class weights as
# $W_j = w_j(\cos\alpha_j, \sin\alpha_j)$, so that $r = \|x\|$ and $w_j = \|W_j\|$. The inner
# product collapses to a norm times a cosine (derived), which is the paper's rewriting
# $W_j^\top x + b_j = \|W_j\|\,\|x\|\cos\theta_j + b_j$, with $\theta_j$ the angle between $W_j$ and
# $x$ (the cosine is even and $2\pi$-periodic, so $\cos(\varphi - \alpha_j) = \cos\theta_j$):

# %% tags=["hide-input"]
r, phi, alpha_j, w_j, b_j = sp.symbols("r varphi alpha_j w_j b_j", real=True)
x_vec = sp.Matrix([r * sp.cos(phi), r * sp.sin(phi)])
w_vec = sp.Matrix([w_j * sp.cos(alpha_j), w_j * sp.sin(alpha_j)])
display(sp.Eq(sp.Symbol("z_j"), sp.trigsimp(w_vec.dot(x_vec)) + b_j))

# %% [markdown]
# **Modified softmax** (Eq. 5 and the text around it): normalising the weights, $\|W_j\| = 1$, and
# dropping the biases, $b_j = 0$, leaves the logits $\|x\|\cos\theta_j$. The decision now depends on
# the angles alone; $\|x\|$ only scales the logits.
#
# **A-Softmax** (Section 3.2, Eqs. 6–7): for the target class $y$ the angle is multiplied by an
# integer $m \ge 1$, giving the target logit $\|x\|\cos(m\theta_y)$, while the other classes keep
# $\|x\|\cos\theta_j$. Because $\cos(m\theta)$ is only decreasing for $\theta \le \pi/m$, Eq. 7
# replaces it by the monotone extension $\psi(\theta)$ studied further below; it coincides with
# $\cos(m\theta)$ on $[0, \pi/m]$, which is all the boundaries below need. A feature counts as
# class 1 only if class 1 wins with the margin, and as class 2 only if class 2 wins with the margin,
# so A-Softmax has **two** boundaries between two classes. Setting $z_1 = z_2$ in each formulation
# gives the boundaries the paper compares in its Table 1, there written as
# $(W_1 - W_2)x + b_1 - b_2 = 0$, $\|x\|(\cos\theta_1 - \cos\theta_2) = 0$ and
# $\|x\|(\cos m\theta_1 - \cos\theta_2) = 0$ for class 1 (with $m$ on $\theta_2$ for class 2).
# Dividing by $r = \|x\| > 0$ shows which of them depend on the feature norm (derived):

# %% tags=["hide-input", "full-width"]
m, norm_x = sp.symbols("m r", positive=True)
theta_1, theta_2, w_1, w_2, b_1, b_2 = sp.symbols(
    "theta_1 theta_2 w_1 w_2 b_1 b_2", real=True
)
boundaries = [
    (
        "original softmax",
        w_1 * norm_x * sp.cos(theta_1) + b_1,
        w_2 * norm_x * sp.cos(theta_2) + b_2,
    ),
    ("modified softmax", norm_x * sp.cos(theta_1), norm_x * sp.cos(theta_2)),
    (
        "A-Softmax, class 1",
        norm_x * sp.cos(m * theta_1),
        norm_x * sp.cos(theta_2),
    ),
    (
        "A-Softmax, class 2",
        norm_x * sp.cos(theta_1),
        norm_x * sp.cos(m * theta_2),
    ),
]
show_table(
    [
        (
            name,
            f"${sp.latex(left)}$",
            f"${sp.latex(right)}$",
            f"${sp.latex(sp.Eq(sp.expand(left / norm_x), sp.expand(right / norm_x)))}$",
        )
        for name, left, right in boundaries
    ],
    [
        "formulation",
        "$z_1$",
        "$z_2$",
        r"boundary $z_1 = z_2$, divided by $r = \Vert x\Vert$",
    ],
    align="llll",
)

# %% [markdown]
# In vector form the original boundary is $(W_1 - W_2)^\top x + b_1 - b_2 = 0$: a straight line with
# normal $W_1 - W_2$ at distance $|b_1 - b_2| / \|W_1 - W_2\|$ from the origin. Its position
# depends on the biases and on the weight norms, so a class with a larger $\|W_j\|$ claims more of
# the feature space; and through $b_j / \|x\|$ the decision for a feature can change when only its
# norm changes. The other three boundaries do not contain $\|x\|$ at all: they are lines and rays
# through the origin, fixed by the angles alone.
#
# ## Where the boundaries lie
#
# Rotate the plane so that $W_1$ points at angle $0$ and $W_2$ at angle $\theta_{12} \in (0, \pi]$,
# and let $x$ lie at polar angle $\varphi$. Angles between vectors lie in $[0, \pi]$, where the
# cosine is one-to-one, so $\cos\theta_1 = \cos\theta_2$ means $\theta_1 = \theta_2$. Between the
# two weights, $\theta_1 = \varphi$ and $\theta_2 = \theta_{12} - \varphi$.
#
# *Modified softmax* (derived). By the sum-to-product identity
#
# $$
# \cos\varphi - \cos(\varphi - \theta_{12}) = -2\sin(\theta_{12}/2)\sin(\varphi - \theta_{12}/2),
# $$
#
# whose zeros for $0 < \theta_{12} \le \pi$ are $\varphi = \theta_{12}/2$ and
# $\theta_{12}/2 \pm \pi$: the line through the origin at angle $\theta_{12}/2$, the
# **angle bisector** of $W_1$ and $W_2$.
#
# *A-Softmax* (derived). A feature is in the class-1 region when $\psi(\theta_1) > \cos\theta_2$.
# Since $\psi(\theta) \le -1 \le \cos\theta_2$ once $\theta \ge \pi/m$ (derived below), this needs
# $\theta_1 < \pi/m$, where $\psi(\theta_1) = \cos(m\theta_1)$ and the condition reads
# $m\theta_1 < \theta_2$. Between the weights the class-1 boundary therefore solves
# $m\varphi = \theta_{12} - \varphi$, the class-2 boundary (roles swapped) solves
# $m(\theta_{12} - \varphi) = \varphi$, and the angular width of the margin between them is their
# difference:

# %% tags=["hide-input"]
theta_12 = sp.symbols("theta_12", positive=True)
sum_to_product = (
    sp.cos(phi)
    - sp.cos(phi - theta_12)
    - (-2 * sp.sin(theta_12 / 2) * sp.sin(phi - theta_12 / 2))
)
assert sp.simplify(sum_to_product) == 0  # the identity holds for every angle
display(
    Math(
        r"\varphi_{\text{bisector}} = "
        + sp.latex(sp.solve(sp.sin(phi - theta_12 / 2), phi)[0])
    )
)
phi_class_1 = sp.solve(sp.Eq(m * phi, theta_12 - phi), phi)[0]
phi_class_2 = sp.solve(sp.Eq(m * (theta_12 - phi), phi), phi)[0]
margin_width = sp.simplify(phi_class_2 - phi_class_1)
# On each boundary the two logits are equal: cos(m theta_1) = cos(theta_2).
assert (
    sp.simplify(sp.cos(m * phi_class_1) - sp.cos(theta_12 - phi_class_1)) == 0
)
display(Math(r"\varphi_{\text{class 1}} = " + sp.latex(phi_class_1)))
display(Math(r"\varphi_{\text{class 2}} = " + sp.latex(phi_class_2)))
display(
    Math(
        r"\Delta\varphi_{\text{margin}} = " + sp.latex(sp.factor(margin_width))
    )
)

# %% [markdown]
# The angular margin is $\frac{m-1}{m+1}\theta_{12}$, the value the paper gives: zero for $m = 1$
# (A-Softmax is then the modified softmax and both boundaries are the bisector), and approaching
# $\theta_{12}$ as $m$ grows.
#
# On the far side of $W_1$ (angle $\varphi = -t$, $t > 0$) the class-1 region also ends. There
# $\theta_2 = \theta_{12} + t$ as long as $\theta_{12} + t \le \pi$, and
# $\theta_2 = 2\pi - \theta_{12} - t$ beyond, so $m t < \theta_2$ gives the far boundary
#
# $$
# t_{\text{far}} = \min\left(\frac{\theta_{12}}{m-1},\ \frac{2\pi - \theta_{12}}{m+1}\right),
# $$
#
# where the first term applies exactly when $\theta_{12} \le (m-1)\pi/m$ (derived):

# %% tags=["hide-input"]
t = sp.symbols("t", positive=True)
far_unwrapped = sp.solve(sp.Eq(m * t, theta_12 + t), t)[0]
far_wrapped = sp.solve(sp.Eq(m * t, 2 * sp.pi - theta_12 - t), t)[0]
switch = sp.solve(sp.Eq(far_unwrapped, far_wrapped), theta_12)[0]
display(
    Math(r"t_{\text{far}} = " + sp.latex(sp.Min(far_unwrapped, far_wrapped)))
)
display(
    Math(
        r"\text{first term smaller} \iff \theta_{12} \le "
        + sp.latex(sp.factor(switch))
    )
)

# %% [markdown]
# **Checked**: the library's $\psi$ (`sphereface_lib.maths.margins.psi`) puts the two class-1 boundaries
# where the algebra says, for the example $\theta_{12} = 80^\circ$ drawn further below (first branch
# of $t_{\text{far}}$ for every $m \ge 2$) and for a wide angle $\theta_{12} = 170^\circ$ (the
# wrapped branch for every $m \ge 2$). Angles are in degrees, measured from $W_1$, positive towards
# $W_2$; at both boundaries of every row the cell asserts $\psi(\theta_1) = \cos\theta_2$ within
# $10^{-12}$:

# %% tags=["hide-input"]
boundary_rows = []
for margin in [mm for mm in margins if mm >= 2]:
    for degrees in (80, 170):
        angle = math.radians(degrees)
        values = {m: margin, theta_12: angle}
        near = float(phi_class_1.subs(values))
        far = float(sp.Min(far_unwrapped, far_wrapped).subs(values))
        theta_2_far = min(angle + far, 2 * math.pi - angle - far)
        gaps = psi(
            torch.tensor([near, far], dtype=torch.float64), margin
        ) - torch.tensor(
            [math.cos(angle - near), math.cos(theta_2_far)],
            dtype=torch.float64,
        )
        assert gaps.abs().max() < 1e-12, (margin, degrees, gaps)
        width = math.degrees(float(margin_width.subs(values)))
        boundary_rows.append(
            (margin, degrees, math.degrees(near), -math.degrees(far), width)
        )
show_table(
    boundary_rows,
    ["m", "θ₁₂", "near boundary", "far boundary", "margin width"],
    ["{}", "{}°", "{:.2f}°", "{:.2f}°", "{:.2f}°"],
)

# %% [markdown]
# ## $\cos(m\theta)$ as a polynomial in $\cos\theta$
#
# The heads never compute an angle: $\cos\theta_j$ comes from a normalised inner product, and
# $\cos(m\theta)$ from the multiple-angle formula, which is the Chebyshev polynomial of the first
# kind, $\cos(m\theta) = T_m(\cos\theta)$, as in the large-margin softmax {cite}`liu2016large` that
# A-Softmax builds on. SymPy expands $\cos(m\theta)$ (derived), confirms that it equals $T_m$
# (derived), and the library's `cos_m_theta` is checked against the expansion on a grid of
# {glue:text}`grid_points:,` values of $c = \cos\theta \in [-1, 1]$; the last column is the
# largest difference found, which the cell asserts is below $10^{-12}$:

# %% tags=["hide-input"]
theta, c = sp.symbols("theta c", real=True)
c_grid = torch.linspace(-1.0, 1.0, grid_points, dtype=torch.float64)
chebyshev_rows = []
for margin in margins:
    expansion = sp.expand(
        sp.expand_trig(sp.cos(margin * theta)).subs(sp.cos(theta), c)
    )
    assert not expansion.has(theta), (
        expansion
    )  # a polynomial in cos(theta) alone
    assert sp.expand(expansion - sp.chebyshevt(margin, c)) == 0
    reference = sp.lambdify(c, expansion, "numpy")(c_grid.numpy())
    error = np.abs(cos_m_theta(c_grid, margin).numpy() - reference).max()
    assert error < 1e-12, (margin, error)
    chebyshev_rows.append((margin, f"${sp.latex(expansion)}$", error))
show_table(
    chebyshev_rows,
    [
        "m",
        r"$\cos(m\theta) = T_m(c)$, $c = \cos\theta$",
        "largest error of `cos_m_theta`",
    ],
    ["{}", "{}", "{:.1e}"],
    align="llr",
)

# %% [markdown]
# ## $\psi(\theta)$: a monotone extension of $\cos(m\theta)$
#
# With $\cos(m\theta)$ as the target logit, the loss would reward a feature at $\theta = 2\pi/m$
# as much as one at $\theta = 0$. The paper therefore restricts $\theta_y$ to $[0, \pi/m]$ (Eq. 6)
# and, to remove that constraint, replaces $\cos(m\theta)$ by (Eq. 7)
#
# $$
# \psi(\theta) = (-1)^k \cos(m\theta) - 2k, \qquad
# \theta \in \left[\frac{k\pi}{m}, \frac{(k+1)\pi}{m}\right],\ k \in \{0, \dots, m-1\}.
# $$
#
# Three properties make $\psi$ usable as a target logit, and all three are derived here for a
# general integer $m$ and interval index $k$:
#
# 1. *Decreasing.* Writing $\theta = (k\pi + u)/m$ with $u \in [0, \pi]$, the derivative on the
#    $k$-th interval is $-m\sin u \le 0$.
# 2. *Continuous.* At an interval edge $\theta = k\pi/m$ ($1 \le k \le m-1$) the pieces $k-1$ and
#    $k$ take the same value, $1 - 2k$.
# 3. *Range.* $\psi(0) = 1$ and $\psi(\pi) = 1 - 2m$. With 1 and 2, the edge value
#    $\psi(\pi/m) = -1$ gives $\psi(\theta) \le -1$ for $\theta \ge \pi/m$, the fact used for
#    the decision regions above.

# %% tags=["hide-input"]
k = sp.symbols("k", integer=True)
m_int = sp.symbols("m", integer=True, positive=True)
u = sp.symbols("u", real=True)
piece = (-1) ** k * sp.cos(m_int * theta) - 2 * k  # Eq. 7, the k-th piece
slope = sp.simplify(sp.diff(piece, theta).subs(theta, (k * sp.pi + u) / m_int))
edge = k * sp.pi / m_int
left, right = (
    sp.simplify(piece.subs(k, k - 1).subs(theta, edge)),
    sp.simplify(piece.subs(theta, edge)),
)
assert sp.simplify(left - right) == 0
psi_at_pi = sp.simplify(piece.subs(k, m_int - 1).subs(theta, sp.pi))
display(
    Math(r"\psi_k'\!\left(\tfrac{k\pi + u}{m}\right) = " + sp.latex(slope))
)
display(Math(r"\psi_{k-1}\!\left(\tfrac{k\pi}{m}\right) = " + sp.latex(left)))
display(Math(r"\psi_{k}\!\left(\tfrac{k\pi}{m}\right) = " + sp.latex(right)))
display(Math(r"\psi(0) = " + sp.latex(piece.subs({k: 0, theta: 0}))))
display(Math(r"\psi(\pi) = " + sp.latex(psi_at_pi)))

# %% [markdown]
# For each $m$ used in this book SymPy also builds $\psi$ as an explicit piecewise function and
# takes the one-sided limits at every edge $k\pi/m$ (derived), maximises the derivative over every
# interval (derived: the maximum is $0$, reached at the edges), and the two library forms are
# checked on {glue:text}`grid_points:,` angles in $[0, \pi]$: `psi(theta, m)`, the direct form,
# and `psi_from_cos(cos_theta, m)`, the form the heads use, which finds $k$ by comparing
# $\cos\theta$ with $\cos(j\pi/m)$ and uses the Chebyshev polynomial. The last two columns are
# the largest differences from the exact $\psi$ (asserted below $10^{-12}$).

# %% tags=["hide-input"]
theta_grid = torch.linspace(0.0, math.pi, grid_points, dtype=torch.float64)
psi_exact = {}
psi_rows = []
for margin in margins:
    pieces = [
        (-1) ** kk * sp.cos(margin * theta) - 2 * kk for kk in range(margin)
    ]
    psi_exact[margin] = sp.Piecewise(
        *[
            (expr, theta <= (kk + 1) * sp.pi / margin)
            for kk, expr in enumerate(pieces)
        ]
    )
    continuous = all(
        sp.limit(psi_exact[margin], theta, kk * sp.pi / margin, dir="-")
        == sp.limit(psi_exact[margin], theta, kk * sp.pi / margin, dir="+")
        == 1 - 2 * kk
        for kk in range(1, margin)
    )
    steepest = [
        sp.maximum(
            sp.diff(expr, theta),
            theta,
            sp.Interval(kk * sp.pi / margin, (kk + 1) * sp.pi / margin),
        )
        for kk, expr in enumerate(pieces)
    ]
    decreasing = all(value == 0 for value in steepest)
    ends = (
        psi_exact[margin].subs(theta, 0),
        psi_exact[margin].subs(theta, sp.pi),
    )
    assert continuous and decreasing and ends == (1, 1 - 2 * margin)
    reference = sp.lambdify(theta, psi_exact[margin], "numpy")(
        theta_grid.numpy()
    )
    direct = np.abs(psi(theta_grid, margin).numpy() - reference).max()
    from_cos = np.abs(
        psi_from_cos(torch.cos(theta_grid), margin).numpy() - reference
    ).max()
    assert direct < 1e-12 and from_cos < 1e-12, (margin, direct, from_cos)
    psi_rows.append((margin, *ends, continuous, decreasing, direct, from_cos))
show_table(
    psi_rows,
    [
        "m",
        "ψ(0)",
        "ψ(π)",
        "continuous",
        "decreasing",
        "`psi` error",
        "`psi_from_cos` error",
    ],
    [
        "{}",
        "{}",
        "{}",
        lambda ok: "yes" if ok else "no",
        lambda ok: "yes" if ok else "no",
    ]
    + ["{:.1e}"] * 2,
)

# %% [markdown]
# ## The target logit of each formulation
#
# Per unit feature norm, the target logit is $\|W_y\|\cos\theta + b_y$ for the original softmax
# (drawn for $\|W_y\| = 1.5$, $b_y = 0.3$ and $\|x\| = 1$), $\cos\theta$ for the modified softmax,
# and $\psi(\theta)$ for A-Softmax; $m = 1$ gives back $\cos\theta$. The larger $m$, the faster the
# target logit falls with the angle, so the target class must be closer in angle to win: that is the
# angular margin ({numref}`fig-target-logit`). The curves are the lambdified SymPy expressions.

# %% tags=["hide-input"]
theta_plot = np.linspace(0.0, math.pi, 721)
figure, axes = plt.subplots(figsize=(COLUMN_INCHES, 4.4))
axes.plot(
    np.degrees(theta_plot),
    1.5 * np.cos(theta_plot) + 0.3,
    color=OKABE_ITO[0],
    linestyle="--",
    label=r"original: $\Vert W\Vert\cos\theta + b$ ($\Vert W\Vert = 1.5$, $b = 0.3$)",
)
for colour, margin in zip(OKABE_ITO[1:], margins, strict=False):
    name = (
        r"modified: $\cos\theta$ ($m = 1$)"
        if margin == 1
        else rf"A-Softmax: $\psi(\theta)$, $m = {margin}$"
    )
    curve = sp.lambdify(theta, psi_exact[margin], "numpy")(theta_plot)
    axes.plot(np.degrees(theta_plot), curve, color=colour, label=name)
axes.set_xlabel(r"angle $\theta$ between feature and target weight (degrees)")
axes.set_ylabel("target logit per unit feature norm")
axes.set_xticks(range(0, 181, 30))
axes.axhline(0.0, color="0.8", linewidth=0.8, zorder=0)
axes.legend(loc="lower left", fontsize=9)
figure.tight_layout()
glue_figure("fig-target-logit", figure)

# %% [markdown]
# ```{glue:figure} fig-target-logit
# :name: fig-target-logit
# :alt: Line plot of the target logit against the angle from 0 to 180 degrees. The original softmax curve is a shifted, stretched cosine; the modified softmax is cos theta; the A-Softmax curves psi for m = 2 to 5 fall faster the larger m is, reaching 1 - 2m at 180 degrees, and all decrease monotonically.
#
# The target logit per unit feature norm against the angle $\theta$ between the feature and its
# class weight: original softmax (dashed, with $\|W\| = 1.5$, $b = 0.3$), modified softmax
# ($\cos\theta$) and A-Softmax $\psi(\theta)$ for each margin. Every curve decreases; the larger $m$,
# the steeper the fall, so the target class must be closer in angle to win.
# ```

# %% [markdown]
# ## The decision boundaries in the plane
#
# Two example classes with weights at $20^\circ$ and $100^\circ$ ($\theta_{12} = 80^\circ$). The
# shaded regions are computed by the library's heads (`build_head`): a point is shaded for class
# $j$ where the head, told that its label is $j$, gives class $j$ the largest logit. The black
# lines are the boundaries derived above: for the original softmax the line
# $(W_1 - W_2)^\top x + b_1 - b_2 = 0$ (here with $\|W_1\| = 1.5$, $\|W_2\| = 0.8$, $b_1 = 0$,
# $b_2 = 0.5$), for the modified softmax the bisector, and for A-Softmax the rays at
# $\theta_{12}/(m+1)$ and $t_{\text{far}}$ from each weight. In the white wedges neither class
# wins with the margin: a feature there has a large loss whichever its label, and training pushes
# it towards the region of its own class ({numref}`fig-boundaries`).

# %% tags=["hide-input"]
alpha = np.radians([20.0, 100.0])
directions = np.stack(
    [np.cos(alpha), np.sin(alpha)], axis=1
)  # (2, 2): unit class weights
example = {
    "original softmax": build_head("original", 2, 2),
    "modified softmax": build_head("modified", 2, 2),
    f"A-Softmax, m = {plot_margin}": build_head(
        "angular", 2, 2, margin=plot_margin
    ),
}
with torch.no_grad():
    for head in example.values():
        head.double()
        head.weight.copy_(torch.from_numpy(directions))
    example["original softmax"].weight.mul_(
        torch.tensor([[1.5], [0.8]], dtype=torch.float64)
    )
    example["original softmax"].bias.copy_(
        torch.tensor([0.0, 0.5], dtype=torch.float64)
    )
span = np.linspace(-2.0, 2.0, 401)
mesh = torch.from_numpy(
    np.stack(np.meshgrid(span, span), axis=-1).reshape(-1, 2)
)  # (P, 2)
values = {m: plot_margin, theta_12: alpha[1] - alpha[0]}
near, far = (
    float(phi_class_1.subs(values)),
    float(sp.Min(far_unwrapped, far_wrapped).subs(values)),
)
rays = {
    "original softmax": [],
    "modified softmax": [alpha.mean(), alpha.mean() + math.pi],
    f"A-Softmax, m = {plot_margin}": [
        alpha[0] + near,
        alpha[0] - far,
        alpha[1] - near,
        alpha[1] + far,
    ],
}
figure, panels = plt.subplots(
    1, 3, figsize=(FULL_WIDTH_INCHES, 3.9), sharey=True
)
for panel, (name, head) in zip(panels, example.items(), strict=True):
    with torch.no_grad():
        won = [
            head(mesh, torch.full((len(mesh),), j)).argmax(dim=1) == j
            for j in range(2)
        ]
    region = np.where(
        won[0].numpy(), 0.0, np.where(won[1].numpy(), 1.0, np.nan)
    )
    panel.contourf(
        span,
        span,
        region.reshape(len(span), len(span)),
        levels=[-0.5, 0.5, 1.5],
        colors=OKABE_ITO[1:3],
        alpha=0.45,
    )
    for angle in rays[name]:
        panel.plot(
            [0.0, 3 * math.cos(angle)],
            [0.0, 3 * math.sin(angle)],
            color="black",
            linewidth=1.2,
        )
    if name == "original softmax":
        normal = (head.weight[0] - head.weight[1]).detach().numpy()
        offset = float((head.bias[0] - head.bias[1]).detach())
        panel.plot(
            span,
            -(normal[0] * span + offset) / normal[1],
            color="black",
            linewidth=1.2,
        )
    weights = head.weight.detach().numpy()
    for j, colour in enumerate((OKABE_ITO[4], OKABE_ITO[5])):
        panel.annotate(
            "",
            xy=weights[j],
            xytext=(0, 0),
            arrowprops={"arrowstyle": "->", "color": colour, "linewidth": 2},
        )
        panel.annotate(
            f"$W_{j + 1}$", xy=1.12 * weights[j], color=colour, fontsize=12
        )
    panel.set_xlim(-2, 2)
    panel.set_ylim(-2, 2)
    panel.set_aspect("equal")
    panel.set_title(name)
    panel.set_xlabel("feature 1")
panels[0].set_ylabel("feature 2")
figure.legend(
    handles=[
        Patch(color=OKABE_ITO[1], alpha=0.45, label="class 1 wins"),
        Patch(color=OKABE_ITO[2], alpha=0.45, label="class 2 wins"),
        Patch(
            facecolor="white",
            edgecolor="0.6",
            label="neither class wins (margin)",
        ),
    ],
    loc="lower center",
    ncols=3,
    frameon=False,
)
figure.tight_layout(rect=(0, 0.07, 1, 1))
glue_figure("fig-boundaries", figure)

# %% [markdown]
# ````{container} full-width
# ```{glue:figure} fig-boundaries
# :name: fig-boundaries
# :alt: Three square panels of the feature plane with two class weights W1 at 20 degrees and W2 at 100 degrees. Left, original softmax - one straight boundary line that does not pass through the origin. Middle, modified softmax - the angle bisector through the origin splits the plane in two. Right, A-Softmax with m = 4 - each class owns a narrow wedge around its weight and white wedges between them belong to neither class.
#
# Decision regions of two classes with weights at $20^\circ$ and $100^\circ$, computed by the
# library's heads (shading) with the boundaries derived above (black lines). The original softmax
# boundary is offset from the origin by the biases and weight norms; the modified softmax splits
# the plane at the bisector; A-Softmax leaves a margin (white) where neither class wins.
# ```
# ````

# %% [markdown]
# ## How large must $m$ be?
#
# The paper asks for features whose **largest intra-class angle is smaller than the smallest
# inter-class angle**, and defines $m_{\min}$ as the smallest margin for which A-Softmax imposes
# this on the regions it rewards. Its Property 2 states that $m_{\min} \ge 2 + \sqrt{3}$ for two
# classes, and its Property 3 that $m_{\min} \ge 3$ for many classes whose weights are uniformly
# spaced; the paper proves each right after stating it, in its Section 3.4 (Eqs. 8–10). Both
# bounds are re-derived here in the plane spanned by the class weights, from the region
# boundaries found above.
#
# *Two classes* (derived). The class-1 region spans $\theta_{12}/(m+1)$ towards $W_2$ and
# $t_{\text{far}}$ away from it, and this width is its largest intra-class angle. The closest
# class-2 point is across the margin, $\frac{m-1}{m+1}\theta_{12}$ away; the gap the other way
# round the circle, $2\pi - \theta_{12} - 2t_{\text{far}}$, is never smaller (a short argument by
# hand from the two branches of $t_{\text{far}}$, not done in SymPy; the measurement below covers
# it). With $t_{\text{far}} = \theta_{12}/(m-1)$ (the case
# $\theta_{12} \le (m-1)\pi/m$) the ratio of the largest intra-class to the smallest inter-class
# angle does not depend on $\theta_{12}$; in the wrapped case it is
# $2\pi/\big((m-1)\theta_{12}\big)$, largest at the switch angle, where it takes the same value.
# Requiring the ratio to be at most 1 gives $m^2 - 4m + 1 \ge 0$:

# %% tags=["hide-input"]
ratio_binary = sp.factor(
    sp.simplify((phi_class_1 + far_unwrapped) / margin_width)
)
ratio_wrapped = sp.simplify((phi_class_1 + far_wrapped) / margin_width)
assert sp.simplify(ratio_wrapped.subs(theta_12, switch) - ratio_binary) == 0
condition = sp.expand((m - 1) ** 2 - 2 * m)  # ratio <= 1, times (m - 1)^2
assert sp.simplify(ratio_binary - 1 + condition / (m - 1) ** 2) == 0
binary_bound = sp.solve_univariate_inequality(
    ratio_binary <= 1, m, relational=False, domain=sp.Interval.open(1, sp.oo)
)
RATIO = r"\frac{\max \text{intra-class angle}}{\min \text{inter-class angle}}"
display(Math(RATIO + " = " + sp.latex(ratio_binary)))
display(Math(RATIO + r"\Big|_{\text{wrapped}} = " + sp.latex(ratio_wrapped)))
display(
    Math(
        sp.latex(ratio_binary)
        + r" \le 1 \iff "
        + sp.latex(condition)
        + r" \ge 0"
    )
)
display(
    Math(
        r"m \in "
        + sp.latex(binary_bound)
        + rf", \quad 2 + \sqrt{{3}} \approx {float(binary_bound.start):.4f}"
    )
)

# %% [markdown]
# The smallest integer margin that satisfies it is $m = 4$, the margin the paper uses.
#
# *Many classes, uniformly spaced* (derived in the plane). With $C \ge 3$ weights spaced
# $\theta = 2\pi/C$ apart on the circle, each class region is bounded on both sides by a neighbour
# at angle $\theta$, so it spans $2\theta/(m+1)$, and neighbouring regions are
# $\frac{m-1}{m+1}\theta$ apart:

# %% tags=["hide-input"]
spacing = sp.symbols(
    "theta", positive=True
)  # 2*pi/C between neighbouring weights
ratio_uniform = sp.simplify(
    (2 * spacing / (m + 1)) / ((m - 1) * spacing / (m + 1))
)
uniform_bound = sp.solve_univariate_inequality(
    ratio_uniform <= 1, m, relational=False, domain=sp.Interval.open(1, sp.oo)
)
display(Math(RATIO + " = " + sp.latex(ratio_uniform)))
display(Math(r"m \in " + sp.latex(uniform_bound)))

# %% [markdown]
# At $m = 3$ the two angles are equal, so the criterion holds only in the limit; the ratio does not
# depend on $C$ in the plane. The paper's assumption is uniform spacing in the feature space
# (in more than two dimensions the weights need not lie on one circle); that general case is not
# re-derived here.
#
# **Checked**: the ratios are measured without the algebra. {glue:text}`circle_points:,` unit
# features are
# placed around the circle, each is assigned to the region of class $j$ if the A-Softmax head
# labelled $j$ gives class $j$ the largest logit, and the largest angle between two features of one
# region and the smallest angle between features of different regions are taken over all pairs.
# For two classes the worst ratio over a grid of $\theta_{12}$ from $30^\circ$ to $180^\circ$ is
# reported; for uniform spacing the worst over $C = 3, \dots, 8$; and, as a counterexample to
# dropping the uniformity assumption, three classes at $0^\circ$, $60^\circ$ and $180^\circ$. The
# sampled ratio is slightly below the exact one (sampling shrinks each region and widens each gap
# by up to one grid step), and the cell asserts that it is within 0.05 of it. In the table, each
# formula is followed by the ratio measured on the heads' regions:

# %% tags=["hide-input"]
# The grid is shifted by an irrational fraction of a step so that no sample lies exactly on a
# boundary, where rounding alone would decide its region.
step = 2 * math.pi / circle_points
circle = (
    torch.arange(circle_points, dtype=torch.float64) * step
    + step * (math.sqrt(5) - 1) / 2
)
unit = torch.stack([circle.cos(), circle.sin()], dim=1)  # (P, 2) unit features


def region_angle_ratio(class_degrees: list[float], margin: int) -> float:
    """Largest intra-class angle over smallest inter-class angle of the A-Softmax regions."""
    head = build_head("angular", 2, len(class_degrees), margin=margin).double()
    angles = torch.tensor(np.radians(class_degrees), dtype=torch.float64)
    with torch.no_grad():
        head.weight.copy_(torch.stack([angles.cos(), angles.sin()], dim=1))
        regions = [
            unit[head(unit, torch.full((len(unit),), j)).argmax(dim=1) == j]
            for j in range(len(class_degrees))
        ]
    intra = max(torch.arccos((a @ a.T).min().clamp(-1, 1)) for a in regions)
    inter = min(
        torch.arccos((a @ b.T).max().clamp(-1, 1))
        for a, b in itertools.combinations(regions, 2)
    )
    return float(intra / inter)


theta_12_grid = np.linspace(30.0, 180.0, theta_12_count)
margin_rows = []
for margin in [mm for mm in margins if mm >= 2]:
    binary_exact = float(ratio_binary.subs(m, margin))
    uniform_exact = float(ratio_uniform.subs(m, margin))
    binary_measured = max(
        region_angle_ratio([0.0, float(a)], margin) for a in theta_12_grid
    )
    uniform_measured = max(
        region_angle_ratio([360.0 * j / count for j in range(count)], margin)
        for count in range(3, 9)
    )
    uneven_measured = region_angle_ratio([0.0, 60.0, 180.0], margin)
    assert abs(binary_measured - binary_exact) < 0.05, (
        margin,
        binary_measured,
        binary_exact,
    )
    assert abs(uniform_measured - uniform_exact) < 0.05, (
        margin,
        uniform_measured,
        uniform_exact,
    )
    margin_rows.append(
        (
            margin,
            binary_exact,
            binary_measured,
            uniform_exact,
            uniform_measured,
            uneven_measured,
        )
    )
show_table(
    margin_rows,
    [
        "m",
        "2 classes: 2m/(m−1)²",
        "measured",
        "uniform: 2/(m−1)",
        "measured",
        "at 0°, 60°, 180°",
    ],
    ["{}", "{:.3f}", "{:.3f}", "{:.3f}", "{:.3f}", "{:.3f}"],
)

# %% [markdown]
# A ratio above 1 means that the regions A-Softmax rewards still allow two features of one class to
# be further apart than two features of different classes. The measured ratios follow the formulas:
# for two classes the criterion first holds at $m = 4$; for uniformly spaced classes at $m = 3$
# (with equality: the exact ratio is 1, and sampling puts the measured one a hair below). For the
# unevenly spaced classes not even $m = 5$ is enough: the class at $180^\circ$, far from both
# others, gets a wide region, while the two classes $60^\circ$ apart are left a narrow gap. This is
# why Property 3 needs its assumption.
#
# ## The library's heads produce these logits
#
# Finally, the heads used for training are checked against the formulas of this chapter on
# {glue:text}`num_features` random 2-D features with random labels and the heads' own random weights. For
# A-Softmax, column $y$ of the logits must be $\|x\|\,\psi(\theta_y)$, with $\psi$ the lambdified
# SymPy function, and every other column $\|x\|\cos\theta_j$, with $\theta_j$ the angle to the
# normalised weight $W_j / \|W_j\|$. For the modified softmax every column is
# $\|x\|\cos\theta_j$, and for the original softmax $W_j^\top x + b_j$ (with a random bias). The
# annealing weight $\lambda$ of the training chapters is set to 0, the pure A-Softmax of Eq. 7. The
# table gives the largest difference found, which the cell asserts is below $10^{-9}$.

# %% tags=["hide-input"]
features = torch.randn(
    num_features, 2, generator=generator, dtype=torch.float64
)
labels = torch.randint(0, 2, (num_features,), generator=generator)
norms = features.norm(dim=1).numpy()
head_rows = []
for kind, margin in [("original", None), ("modified", None)] + [
    ("angular", mm) for mm in margins
]:
    options = {} if margin is None else {"margin": margin}
    head = (
        build_head(kind, embedding_dim=2, num_classes=2, **options)
        .double()
        .to(device)
    )
    if kind == "original":
        with torch.no_grad():
            head.bias.copy_(
                torch.randn(2, generator=generator, dtype=torch.float64)
            )
    with torch.no_grad():
        logits = (
            head(features.to(device), labels.to(device), lam=0.0).cpu().numpy()
        )
    weight = head.weight.detach().cpu().numpy()
    if kind == "original":
        expected = (
            features.numpy() @ weight.T + head.bias.detach().cpu().numpy()
        )
    else:
        unit_weight = weight / np.linalg.norm(weight, axis=1, keepdims=True)
        cosines = np.clip(
            features.numpy() @ unit_weight.T / norms[:, None], -1.0, 1.0
        )
        expected = norms[:, None] * cosines
        if kind == "angular":
            target = sp.lambdify(theta, psi_exact[margin], "numpy")(
                np.arccos(cosines)
            )
            rows = np.arange(num_features)
            expected[rows, labels.numpy()] = (
                norms * target[rows, labels.numpy()]
            )
    error = np.abs(logits - expected).max()
    assert logits.shape == (num_features, 2) and error < 1e-9, (
        kind,
        margin,
        error,
    )
    name = "original softmax" if kind == "original" else "modified softmax"
    head_rows.append(
        (name if margin is None else f"A-Softmax (m={margin})", error)
    )
show_table(
    head_rows,
    ["head", "largest difference from the formulas"],
    ["{}", "{:.1e}"],
)

# %% [markdown]
# ## Summary
#
# - The original softmax separates two classes by a line whose position depends on the weight
#   norms and biases; the modified softmax by the angle bisector of the two weights; A-Softmax by
#   two rays at $\theta_{12}/(m+1)$ from each weight, leaving an angular margin of
#   $\frac{m-1}{m+1}\theta_{12}$ (derived).
# - $\cos(m\theta) = T_m(\cos\theta)$, and $\psi$ is continuous, decreasing, with $\psi(0) = 1$ and
#   $\psi(\pi) = 1 - 2m$ (derived); the library's `cos_m_theta`, `psi` and `psi_from_cos` agree
#   with the exact expressions within $10^{-12}$ (checked).
# - The criterion "largest intra-class angle below smallest inter-class angle" needs
#   $m \ge 2 + \sqrt{3}$ for two classes and $m \ge 3$ for uniformly spaced classes in the plane
#   (derived, and checked by measuring the regions the heads reward).
# - The original softmax, modified softmax and A-Softmax heads of the library return these logits
#   within $10^{-9}$ (checked): the training chapters optimise the losses derived here.

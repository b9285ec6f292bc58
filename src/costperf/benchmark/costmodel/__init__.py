"""Cost-driver regression: OLS on logs and quantile regression, reproducing R.

Which drivers explain why one contract's unit cost differs from another's (wage level,
frequency, road grade, scale)? :func:`fit_cost_model` fits a cost function written as a
model formula, e.g. ``np.log(unit_cost) ~ np.log(wage_index) + C(road_grade)``:

* **OLS** (QR least squares in numpy, the arithmetic of statsmodels' ``OLS.fit(method =
  "qr")``, which the tests use as the oracle) with the standard errors chosen by ``se``.
  Each type is the one R users know, named in the output:

  ==========  ==============================================================
  ``se``      R equivalent
  ==========  ==============================================================
  nonrobust   ``summary(lm(f))``
  HC0..HC3    ``lmtest::coeftest(m, vcov = sandwich::vcovHC(m, type = "HCk"))``
  cluster     ``coeftest(m, vcov = sandwich::vcovCL(m, cluster = ~g))``, i.e.
              ``vcovCL(type = "HC1", cadjust = TRUE)``: the factor
              ``G/(G-1) * (n-1)/(n-k)`` (statsmodels' and Stata's CRV1)
  ==========  ==============================================================

  Every OLS test is a *t* test with the residual degrees of freedom ``n - k``, as
  ``coeftest`` does for ``lm`` objects whatever the covariance (Stata would use
  ``G - 1`` for clusters); confidence intervals use the same *t* quantile (``coefci``).
* **Quantile regression** (``quantile=tau``, e.g. 0.25 for an efficient-quartile cost
  function) solved *exactly* as a linear program (HiGHS dual simplex on the dual of
  Koenker's LP, then the vertex recomputed from its ``p`` interpolated observations), so
  the coefficients are those of R ``quantreg::rq(method = "br")`` whenever the solution
  is unique (flagged in ``fit["solution_unique"]``). Standard errors follow the code of
  ``quantreg::summary.rq``: ``iid`` (Koenker-Bassett sparsity), ``nid`` (Hendricks-
  Koenker sandwich, Hall-Sheather bandwidth; R's default when n > 1000) and ``ker``
  (Powell kernel sandwich); tests are *t* tests with ``n - p`` degrees of freedom.
  Each LP takes about 3 s at n = 100 000 (``nid`` solves three).
  R's default for n <= 1000, ``se = "rank"`` (rank-inversion intervals, no standard
  error), is not supported.

Formulas are parsed by patsy (the engine behind statsmodels' formula API) in a fixed
namespace: ``np``, ``log``, ``log10``, ``exp``, ``sqrt`` and patsy's ``C``, ``I``, ``Q``
... Columns are named as in the data; a header that is not a Python name is written
``Q("金额（元）")``. A column used bare whose cells are all text (``district``) is a
factor, as in R; a numeric column is a factor only inside ``C()``. Terms are put in R's
order (intercept, main effects, interactions, each in formula order); ``term_r`` gives R's
coefficient name (``(Intercept)``, ``log(q)``, ``gradeB`` for ``C(grade)[T.B]``). Factor levels are sorted by code point,
so the reference level is the first in that order (R in a Chinese locale may sort
differently, which reparametrises the dummies but leaves fitted values unchanged).

Every input problem raises :class:`~costperf.errors.InputError` naming file, row and
column: unknown columns, text in a number column, blanks, the log of a value <= 0, too
few rows, collinear terms, a quantile outside (0, 1), an unknown standard-error type.

References
----------
Koenker, R. (2005). *Quantile Regression*. Cambridge University Press.
Koenker, R. quantreg (R package): ``rq.fit.br``, ``summary.rq``, ``bandwidth.rq``.
Zeileis, A. et al. sandwich (R package): ``vcovHC``, ``vcovCL``.
Duan, N. (1983). Smearing estimate. *JASA* 78(383), 605-610.
Fox, J. & Monette, G. (1992). Generalized collinearity diagnostics. *JASA* 87, 178-183.

Steps (one module each, in pipeline order)
------------------------------------------
``formula``  parse the formula, find and coerce the columns it uses
``design``   design matrix in R's column order, finiteness and estimability checks
``options``  checks of the fit and prediction options
``fit``      :func:`fit_cost_model`, the entry point that runs the steps
``ols``      OLS fit and its R-equivalent covariances
``lsq``      :class:`OlsFit`: QR least squares, covariances, Cook's distance
``quantile`` exact quantile-regression fit, bandwidths and covariances
``results``  coefficient table and prediction spec shared by both fits
``predict``  :func:`predict_cost`, intervals and retransformation to cost
``vif``      :func:`variance_inflation`
``names``    :func:`r_term_name`, R's coefficient names
``model``    :class:`CostModel` and the option names
"""

from costperf.benchmark.costmodel.fit import fit_cost_model
from costperf.benchmark.costmodel.lsq import OlsFit
from costperf.benchmark.costmodel.model import (
    OLS_SE_TYPES,
    QUANTILE_SE_TYPES,
    RETRANSFORMS,
    CostModel,
)
from costperf.benchmark.costmodel.names import r_term_name
from costperf.benchmark.costmodel.predict import predict_cost
from costperf.benchmark.costmodel.quantile import (
    bandwidth_rq,
    check_loss,
    rq_coefficients,
    rq_subgradient,
)
from costperf.benchmark.costmodel.vif import variance_inflation

__all__ = [
    "OLS_SE_TYPES",
    "QUANTILE_SE_TYPES",
    "RETRANSFORMS",
    "CostModel",
    "OlsFit",
    "bandwidth_rq",
    "check_loss",
    "fit_cost_model",
    "predict_cost",
    "r_term_name",
    "rq_coefficients",
    "rq_subgradient",
    "variance_inflation",
]

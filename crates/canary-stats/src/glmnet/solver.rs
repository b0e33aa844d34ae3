//! The coordinate-descent engine on standardised predictors (see the module
//! documentation of the parent for the algorithm and why each detail matters).

/// Probabilities are kept away from 0 and 1 by this much (R's `pmin`).
pub(super) const PMIN: f64 = 1e-9;
/// Smallest admissible `lambda.min.ratio` (R's `eps`).
const EPS_LAMBDA: f64 = 1e-6;
/// The "infinite" lambda of the first fit (R's `big`).
const BIG: f64 = 9.9e35;
/// Early stopping is considered from this (1-based) lambda on (R's `mnlam`).
const MNLAM: usize = 5;
/// Stop when the fraction of deviance explained exceeds this (R's `devmax`).
const DEVMAX: f64 = 0.999;
/// Stop when dev.ratio gains less than this between lambdas (R's `fdev`).
const FDEV: f64 = 1e-5;

/// How the lambdas are chosen.
pub(super) enum Lambdas<'a> {
    /// Computed sequence: `nlam` values down to `flmin * lambda_max`.
    Auto { nlam: usize, flmin: f64 },
    /// User sequence, already sorted decreasingly.
    User(&'a [f64]),
}

/// Problem on standardised predictors.
pub(super) struct Problem<'a> {
    /// Column-major `n × p`, centred/scaled as requested.
    pub x: &'a [f64],
    pub n: usize,
    pub p: usize,
    pub y: &'a [f64],
    /// Weights summing to 1.
    pub w: &'a [f64],
    /// `false` for excluded (e.g. constant) columns.
    pub ju: &'a [bool],
    /// Penalty factors (already rescaled).
    pub vp: &'a [f64],
    pub alpha: f64,
    pub lambdas: Lambdas<'a>,
    pub thresh: f64,
    pub maxit: usize,
    /// Stop once more than `ne` coefficients are nonzero.
    pub ne: usize,
    /// Abort a lambda once more than `nx` variables have ever been nonzero.
    pub nx: usize,
    pub intercept: bool,
}

/// Why the path ended before its last lambda (besides the early-stop rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Abort {
    /// `maxit` passes were exceeded at this (0-based) lambda.
    Maxit(usize),
    /// More than `pmax` variables entered at this (0-based) lambda.
    Pmax(usize),
}

/// Solutions on the standardised scale.
pub(super) struct Solution {
    pub lambda: Vec<f64>,
    pub a0: Vec<f64>,
    /// One dense vector of length `p` per lambda.
    pub beta: Vec<Vec<f64>>,
    /// The ever-active variables in order of entry, per lambda (R reports
    /// coefficients in this order, which fixes the summation order when
    /// unstandardising the intercept).
    pub order: Vec<Vec<usize>>,
    pub dev_ratio: Vec<f64>,
    /// Null deviance per unit weight, halved: `-sum w [y log q0 + (1-y) log(1-q0)]`.
    pub dev0: f64,
    pub npasses: usize,
    pub abort: Option<Abort>,
}

/// `sum a_i b_i`.
#[inline]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    // Four accumulators let the compiler vectorise; the order differs from a
    // plain loop only by rounding, far below the tolerances that matter.
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut s = [0.0f64; 4];
    let chunks = n / 4;
    for c in 0..chunks {
        let k = 4 * c;
        s[0] += a[k] * b[k];
        s[1] += a[k + 1] * b[k + 1];
        s[2] += a[k + 2] * b[k + 2];
        s[3] += a[k + 3] * b[k + 3];
    }
    let mut t = (s[0] + s[1]) + (s[2] + s[3]);
    for k in 4 * chunks..n {
        t += a[k] * b[k];
    }
    t
}

/// Binomial deviance per unit weight, halved:
/// `-sum_i w_i [y_i log p_i + (1 - y_i) log(1 - p_i)]` with `p` clamped to
/// `[PMIN, 1 - PMIN]`.
pub(super) fn half_deviance(w: &[f64], y: &[f64], q: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..w.len() {
        let pi = q[i].clamp(PMIN, 1.0 - PMIN);
        s -= w[i] * (y[i] * pi.ln() + (1.0 - y[i]) * (1.0 - pi).ln());
    }
    s
}

/// Mutable state of the coordinate descent shared by the sweeps.
struct State<'a> {
    x: &'a [f64],
    n: usize,
    vp: &'a [f64],
    b: Vec<f64>,
    b0: f64,
    xv: Vec<f64>,
    /// Working residual `w (y - p) - v (eta - eta_old)`.
    r: Vec<f64>,
    /// IRLS weights `w p (1 - p)`.
    v: Vec<f64>,
    xmz: f64,
    /// Ever-active variables in order of entry.
    active: Vec<usize>,
    in_active: Vec<bool>,
}

impl State<'_> {
    /// One coordinate update of variable `k`:
    /// `b_k <- S(x_k' r + xv_k b_k, vp_k lambda alpha) / (xv_k + vp_k lambda (1 - alpha))`
    /// with `S` the soft-threshold; returns the change of `b_k`.
    #[inline]
    fn update(&mut self, k: usize, al1: f64, al2: f64) -> f64 {
        let n = self.n;
        let xk = &self.x[k * n..(k + 1) * n];
        let bk = self.b[k];
        let gk = dot(&self.r, xk);
        let u = gk + self.xv[k] * bk;
        let au = u.abs() - self.vp[k] * al1;
        let nb = if au > 0.0 {
            au.copysign(u) / (self.xv[k] + self.vp[k] * al2)
        } else {
            0.0
        };
        self.b[k] = nb;
        let d = nb - bk;
        if d != 0.0 {
            for ((ri, &vi), &xi) in self.r.iter_mut().zip(&self.v).zip(xk) {
                *ri -= d * vi * xi;
            }
        }
        d
    }

    /// Intercept step `delta = sum r / sum v`; returns `xmz * delta^2`.
    #[inline]
    fn update_intercept(&mut self) -> f64 {
        let d = self.r.iter().sum::<f64>() / self.xmz;
        if d != 0.0 {
            self.b0 += d;
            for (ri, &vi) in self.r.iter_mut().zip(&self.v) {
                *ri -= d * vi;
            }
            self.xmz * d * d
        } else {
            0.0
        }
    }
}

/// Fits the whole lambda path (glmnet's algorithm; see the parent module).
///
/// A line-for-line port of the published algorithm: the two-class routine `lognet2n`
/// (called by `lognet`) of Friedman, Hastie & Tibshirani's glmnet Fortran
/// (`src/glmnet5dpclean.f` of the R package), whose loops and tests map onto the loops and
/// `break`s below. It is kept whole, over the usual length limit, on purpose: R agrees with
/// it only when the iteration sequence is the Fortran's, and a reviewer checks that by
/// reading the two side by side, line by line, which helpers would no longer allow.
#[allow(clippy::needless_range_loop)] // several arrays share the index
pub(super) fn solve(pb: &Problem) -> Result<Solution, String> {
    let (n, p) = (pb.n, pb.p);
    let (x, y, w) = (pb.x, pb.y, pb.w);
    let alpha = pb.alpha;
    let omb = 1.0 - alpha;
    let fmax = (1.0 / PMIN - 1.0).ln();
    let fmin = -fmax;
    let vmin = (1.0 + PMIN) * PMIN * (1.0 - PMIN);

    let q0_data = dot(w, y);
    if q0_data <= PMIN || q0_data >= 1.0 - PMIN {
        return Err("the weighted mean of y is 0 or 1".to_string());
    }
    // Without an intercept the null model is p = 1/2.
    let q0 = if pb.intercept { q0_data } else { 0.5 };
    let bz = if pb.intercept {
        (q0 / (1.0 - q0)).ln()
    } else {
        0.0
    };
    let vi = q0 * (1.0 - q0);

    let mut st = State {
        x,
        n,
        vp: pb.vp,
        b: vec![0.0; p],
        b0: bz,
        xv: vec![0.0; p],
        r: w.iter().zip(y).map(|(&wi, &yi)| wi * (yi - q0)).collect(),
        v: w.iter().map(|&wi| vi * wi).collect(),
        xmz: vi,
        active: Vec::new(),
        in_active: vec![false; p],
    };
    let mut q = vec![q0; n];
    let mut eta = vec![0.0; n];
    // dev1: deviance of the null model; dev0 adds the saturated log-likelihood
    // (zero for 0/1 responses) so that dev.ratio is relative to it.
    let dev1 = -(bz * q0 + (1.0 - q0).ln());
    let mut dev0 = dev1;
    for i in 0..n {
        if y[i] > 0.0 {
            dev0 += w[i] * y[i] * y[i].ln();
        }
        if y[i] < 1.0 {
            dev0 += w[i] * (1.0 - y[i]) * (1.0 - y[i]).ln();
        }
    }
    let shr = pb.thresh * dev0;

    let (nlam, alf, user) = match pb.lambdas {
        Lambdas::Auto { nlam, flmin } => {
            let eqs = flmin.max(EPS_LAMBDA);
            (nlam, eqs.powf(1.0 / (nlam as f64 - 1.0)), None)
        }
        Lambdas::User(l) => (l.len(), 1.0, Some(l)),
    };

    let mut ga = vec![0.0; p];
    for j in 0..p {
        if pb.ju[j] {
            ga[j] = dot(&st.r, &x[j * n..(j + 1) * n]).abs();
        }
    }
    let mut strong = vec![false; p];
    let mut bs = vec![0.0; p];
    let mut nlp = 0usize;
    let mut al = 0.0f64;

    let mut sol = Solution {
        lambda: Vec::new(),
        a0: Vec::new(),
        beta: Vec::new(),
        order: Vec::new(),
        dev_ratio: Vec::new(),
        dev0,
        npasses: 0,
        abort: None,
    };

    'lambdas: for ilm in 0..nlam {
        let mut al0 = al;
        if let Some(ul) = user {
            al = ul[ilm];
        } else if ilm >= 2 {
            al *= alf;
        } else if ilm == 0 {
            al = BIG;
        } else {
            al0 = 0.0;
            for j in 0..p {
                if pb.ju[j] && pb.vp[j] > 0.0 {
                    al0 = al0.max(ga[j] / pb.vp[j]);
                }
            }
            al0 /= alpha.max(1e-3);
            al = alf * al0;
        }
        let al2 = al * omb;
        let al1 = al * alpha;
        // Sequential strong rule.
        let tlam = alpha * (2.0 * al - al0);
        for k in 0..p {
            if !strong[k] && pb.ju[k] && ga[k] > tlam * pb.vp[k] {
                strong[k] = true;
            }
        }

        let mut saturated = false;
        // Newton (IRLS) loop.
        loop {
            // R also tests the pass budget at the top of every Newton step
            // (not only after unconverged sweeps); this decides at which
            // lambda a `maxit` failure is reported.
            if nlp > pb.maxit {
                sol.abort = Some(Abort::Maxit(ilm));
                break 'lambdas;
            }
            let bs0 = st.b0;
            for &k in &st.active {
                bs[k] = st.b[k];
            }
            for j in 0..p {
                if strong[j] {
                    let xj = &x[j * n..(j + 1) * n];
                    let mut s = 0.0;
                    for (&vi, &xi) in st.v.iter().zip(xj) {
                        s += vi * xi * xi;
                    }
                    st.xv[j] = s;
                }
            }
            // Coordinate descent on the quadratic approximation.
            loop {
                nlp += 1;
                let mut dlx = 0.0f64;
                for k in 0..p {
                    if !strong[k] {
                        continue;
                    }
                    let d = st.update(k, al1, al2);
                    if d == 0.0 {
                        continue;
                    }
                    dlx = dlx.max(st.xv[k] * d * d);
                    if !st.in_active[k] {
                        if st.active.len() >= pb.nx {
                            sol.abort = Some(Abort::Pmax(ilm));
                            break 'lambdas;
                        }
                        st.in_active[k] = true;
                        st.active.push(k);
                    }
                }
                if pb.intercept {
                    dlx = dlx.max(st.update_intercept());
                }
                if dlx < shr {
                    break;
                }
                if nlp > pb.maxit {
                    sol.abort = Some(Abort::Maxit(ilm));
                    break 'lambdas;
                }
                // Sweeps over the ever-active set, in order of entry.
                loop {
                    nlp += 1;
                    let mut dlx = 0.0f64;
                    for l in 0..st.active.len() {
                        let k = st.active[l];
                        let d = st.update(k, al1, al2);
                        if d != 0.0 {
                            dlx = dlx.max(st.xv[k] * d * d);
                        }
                    }
                    if pb.intercept {
                        dlx = dlx.max(st.update_intercept());
                    }
                    if dlx < shr {
                        break;
                    }
                    if nlp > pb.maxit {
                        sol.abort = Some(Abort::Maxit(ilm));
                        break 'lambdas;
                    }
                }
            }

            // New linear predictor and probabilities.
            for e in eta.iter_mut() {
                *e = 0.0;
            }
            for &k in &st.active {
                let bk = st.b[k];
                let xk = &x[k * n..(k + 1) * n];
                for (e, &xi) in eta.iter_mut().zip(xk) {
                    *e += bk * xi;
                }
            }
            let mut xmz = 0.0;
            for i in 0..n {
                let fi = st.b0 + eta[i];
                q[i] = if fi < fmin {
                    0.0
                } else if fi > fmax {
                    1.0
                } else {
                    1.0 / (1.0 + (-fi).exp())
                };
                st.v[i] = w[i] * q[i] * (1.0 - q[i]);
                xmz += st.v[i];
            }
            st.xmz = xmz;
            if xmz <= vmin {
                saturated = true;
                break;
            }
            for i in 0..n {
                st.r[i] = w[i] * (y[i] - q[i]);
            }
            // Converged when no coefficient moved by more than the threshold
            // over the whole Newton step.
            if xmz * (st.b0 - bs0).powi(2) >= shr {
                continue;
            }
            if st
                .active
                .iter()
                .any(|&k| st.xv[k] * (st.b[k] - bs[k]).powi(2) >= shr)
            {
                continue;
            }
            // KKT check of the variables outside the strong set.
            let mut violated = false;
            for k in 0..p {
                if strong[k] || !pb.ju[k] {
                    continue;
                }
                ga[k] = dot(&st.r, &x[k * n..(k + 1) * n]).abs();
                if ga[k] > al1 * pb.vp[k] {
                    strong[k] = true;
                    violated = true;
                }
            }
            if !violated {
                break;
            }
        }

        sol.lambda.push(al);
        sol.a0.push(st.b0);
        sol.beta.push(st.b.clone());
        sol.order.push(st.active.clone());
        let devi = half_deviance(w, y, &q);
        sol.dev_ratio.push((dev1 - devi) / dev0);
        if saturated {
            break;
        }
        if user.is_some() || ilm + 1 < MNLAM.min(nlam) {
            continue;
        }
        let me = st.active.iter().filter(|&&k| st.b[k] != 0.0).count();
        if me > pb.ne {
            break;
        }
        let dr = sol.dev_ratio[ilm];
        if dr > DEVMAX {
            break;
        }
        if ilm > 0 && dr - sol.dev_ratio[ilm - 1] < FDEV {
            break;
        }
    }
    sol.npasses = nlp;
    if sol.lambda.is_empty() {
        return Err(match sol.abort {
            Some(Abort::Maxit(_)) => "maxit reached at the first lambda".to_string(),
            Some(Abort::Pmax(_)) => "pmax exceeded at the first lambda".to_string(),
            None => "empty lambda sequence".to_string(),
        });
    }
    Ok(sol)
}

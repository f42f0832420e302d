// Package validation checks fokker's Fokker–Planck densities against
// ensembles of particles that follow the same stochastic differential
// equation, within the sampling noise of the particle histograms.
//
// A particle run (Simulate) records histograms on exactly the PDE's grid at
// the requested times; Compare sets a PDE density against one of them and
// reports distances (L1, Hellinger, Kolmogorov–Smirnov, chi-square) each
// with its noise floor — its value when the particles are an exact sample
// of the PDE's cell probabilities — and a verdict; WeakOrder measures the
// time-step bias of the particles.
//
//	res, err := validation.Simulate(validation.Problem{
//		Grid:         g,
//		Coefficients: validation.FromModel(m, g),
//		Convention:   m.Convention,
//		Initial:      p0,
//		Times:        []float64{1},
//	}, &validation.Settings{Particles: 1e6, Dt: 1e-3, Seed: 1})
//	c := validation.Compare(g, pde, &res.Snapshots[0], nil)
//	fmt.Println(c.String()) // L1 0.0121, noise floor 0.0118 (ratio 1.03); ...: consistent
//
// # The process and its convention
//
// The particles follow dX = mu(X,t) dt + sqrt(2 D(X,t)) dW read in the
// convention alpha (0 Itô, ½ Stratonovich, 1 anti-Itô), which fokker
// defines, for any D, as the Itô SDE with drift mu + alpha div D, with
// (div D)_k = sum_l ∂_l D_kl — exactly the process of the PDE flux
// J = mu p − D grad p − (1 − alpha)(div D) p of package operators (see its
// documentation for why a full D needs this definition). Each convention
// has a matching scheme (Scheme Auto picks it):
//
//	Itô           Euler–Maruyama (or Milstein) with drift mu
//	Stratonovich  Heun with drift mu (D diagonal or constant: the native
//	              Stratonovich scheme); Euler–Maruyama with mu + ½ div D
//	              for a full varying D
//	anti-Itô      Euler–Maruyama with mu + div D (or Heun with mu + ½ div D)
//
// In general a scheme converging to the Itô drift b_I is given the drift
// mu + (alpha − beta) div D where beta is its own reading (0 for
// Euler–Maruyama and Milstein, ½ for Heun, whose Itô drift for diagonal
// sigma_k = sqrt(2 D_kk) is a + ½ ∂_k D_kk). Problem.Convention is the
// particles' convention and nothing ties it to the PDE's: giving the two
// different conventions is how a mismatched pairing is tested (Itô PDE
// against Stratonovich particles is reported inconsistent, L1 ≈ 3× its
// floor at 2·10^5 particles on the noise-gradient problem).
//
// div D is evaluated exactly when the Coefficients implement Divergencer,
// otherwise by central differences of DiffusionBatch with step
// h_k = 10^-5 × (grid length along k) (Settings.DivergenceStep): the
// truncation error is O(h²) and the round-off O(ε D/h), both ≈ 1e-10
// relative. D must be defined within h of the domain.
//
// # Schemes
//
// With ΔW = sqrt(dt) ξ, ξ standard normal, and sigma a factor of 2D
// (sigma sigmaᵀ = 2D):
//
//	Euler–Maruyama  X += b(X,t) dt + sigma(X,t) ΔW                    weak order 1
//	Milstein        … + ½ ∂_k D_kk (ΔW_k² − dt) on coordinate k        weak 1, strong 1 if D_kk = D_kk(x_k)
//	Heun            X̃ = X + a dt + s ΔW;  X += ½(a + ã) dt + ½(s + s̃) ΔW   weak 1, Stratonovich limit
//
// with a, ã (s, s̃) the drift (noise) at (X, t) and (X̃, t + dt). The
// coefficients are evaluated at the time of each step (stage). For Euler–
// Maruyama the factor does not matter (only sigma sigmaᵀ enters the law):
// Simulate uses Cholesky with diagonal pivoting, stopped at pivots at the
// round-off level, so that positive semi-definite and singular (rank-one)
// D give a factor of the right rank and never NaN; a diagonal D uses
// sqrt(max(2 D_kk, 0)) — D → 0 at a wall, as for the CIR process, is
// harmless. A constant D is factored once. Milstein and Heun need D
// diagonal or constant (for a full, varying D their limits would depend on
// the factor).
//
// The last step before each snapshot is shortened to land on it exactly.
//
// # Boundaries
//
// Boundaries are those of the grid, side by side:
//
//   - reflecting: the particle is mirrored at the wall, as many times as
//     the step crosses walls. This "symmetrized Euler scheme" keeps weak
//     order 1 (Bossy, Gobet & Talay 2004);
//   - periodic: the coordinate is wrapped;
//   - absorbing: the particle is removed when its step ends outside, and,
//     unless Settings.NoBridge, also with the probability
//     exp(−(x0 − b)(x1 − b)/(D_kk dt)) that the Brownian bridge between its
//     two ends crossed the wall at b. Killing only at the step ends
//     overestimates survival by O(sqrt(dt)) (the wall moves out by
//     ≈ 0.5826 sqrt(2 D dt): Broadie, Glasserman & Kou 1997); with the
//     bridge the scheme is weak order 1 (Gobet 2000). Each Snapshot records
//     the surviving count; its histogram is a sub-probability.
//
// # Determinism and parallelism
//
// Particles are split into chunks of Settings.ChunkSize (4096). Chunk c
// draws everything — its initial positions, its Brownian increments, its
// bridge tests — from its own stream, a wyrand generator started at the
// first output of rand.NewPCG(seed, c), and is advanced by one goroutine
// from start to end. Goroutines pull chunks in order; histograms are
// integer counts (order-free), and the floating-point sums of the moments
// and observables are kept per chunk and added in chunk order. A result is
// therefore bit-for-bit a function of (Seed, ChunkSize), whatever
// Settings.Threads (tested with 1 and 2 threads).
//
// # Speed
//
// The state of a chunk is structure-of-arrays (x[k][i]), the coefficients
// are evaluated a chunk at a time through the batch-shaped Coefficients
// interface, normals come from a 1024-layer ziggurat (99.6% of draws take
// one 64-bit number and one table lookup) over wyrand, whose recurrence is
// an addition, and nothing is allocated after a worker's buffers are made
// (tested with testing.AllocsPerRun). Structure declared through the
// optional interfaces selects fast paths: a constant D is factored once; a
// constant diagonal D with an affine drift (Linear, the Ornstein–Uhlenbeck
// family) runs a fused kernel that draws, updates and applies the walls in
// one pass per coordinate. BenchmarkEulerMaruyamaOU2D (2D OU, 10^6
// particles, dt = 10^-3) runs at 2–3·10^8 particle-steps per second on two
// cores (1.7·10^8 on one).
//
// # Metrics and noise floors
//
// Let P_i = p_i V_i be the PDE's cell probabilities (normalised by the mass
// m unless the grid has absorbing sides) and n_i the counts of N particles.
// Under exact sampling n is multinomial(N, P) and each n_i binomial.
//
//   - L1 = sum_i |n_i/N − P_i|. Its floor is exact:
//     E[L1] = sum_i E|n_i − N P_i|/N, with de Moivre's closed form of the
//     binomial mean absolute deviation, 2 ν C(N, ν) P^ν (1 − P)^(N−ν+1),
//     ν = ⌊N P⌋ + 1 (Diaconis & Zabell 1991); for large N P_i it is
//     sum_i sqrt(2 P_i (1 − P_i)/(π N)), and it is smaller where N P_i is
//     small. Its standard deviation is sqrt(sum_i (P_i(1 − P_i)/N − E_i²)),
//     relative to the mean ≈ sqrt(π/2 − 1)/sum_i sqrt(P_i) = 0.76/sqrt(K_eff)
//     with K_eff = (sum sqrt P_i)² ≤ K, the number of populated cells.
//   - Hellinger² = ½ sum_i (sqrt(n_i/N) − sqrt(P_i))², floor computed cell
//     by cell (exact binomial sums, or an expansion for N P_i > 1000),
//     ≈ (K − 1)/(8N) when all counts are large.
//   - Kolmogorov–Smirnov (1D): max_j |F̂_j − F_j| over the cumulative cell
//     sums. Grouping into cells makes it smaller than the continuous
//     statistic, so Kolmogorov's quantiles would be conservative; its mean,
//     95% quantile and p-value come instead from Monte Carlo replicates of
//     the Brownian bridge W(F_j) − F_j W(1) at the same points (the
//     Gaussian limit of the multinomial cumulative sums).
//   - Chi-square: Pearson's statistic over groups of consecutive cells
//     pooled until each expects at least 5 particles, plus the absorbed
//     category; degrees of freedom = groups − 1 (P is fully specified by
//     the PDE, nothing is fitted); p-value from gonum's ChiSquared.
//   - Survival (absorbing sides): alive/N against the PDE mass m, standard
//     error sqrt(m(1 − m)/N), two-sided normal p-value.
//
// The verdict (Criteria) is "consistent" when L1 ≤ 1.5 × floor and the
// chi-square (and survival) p-values are at least 10^-3. The factor 1.5:
// with K_eff ≥ 25 populated cells sampling alone puts L1 above 1.5× its
// floor with probability below 10^-3 (that is > 3.3 standard deviations,
// 0.76/sqrt(K_eff) ≤ 15% each; 6.6 at K_eff = 100), while a systematic
// deviation reaches it when the cells are off by about one sampling
// standard deviation each (E|e + b| = 1.5 E|e| for e normal with sd s at
// b ≈ 1.04 s). L1 thus flags a bias as large as the noise; the chi-square
// test is the sharper one, its excess (X² − df)/sqrt(2 df) grows like
// N sum_i b_i²/P_i. The PDE's own discretisation error counts as a bias:
// at 10^6 particles it must be below ~1% per cell (the ring at 400 cells,
// whose numerical diffusion inflates the variance by 0.8%, is flagged by
// KS; at 800 cells it is not).
//
// # Weak error
//
// WeakOrder runs a problem at several time steps with the same seed and
// regresses log|bias| of a smooth observable on log dt, weighting each
// point by its inverse variance, and reports the order with its standard
// error. The bias at the finest step must stand out of the sampling error
// sqrt(Var f/N) to carry information: Euler–Maruyama's order on E[X²]
// measures 1.01 ± 0.07 (OU) and 0.99 ± 0.08 (CIR) with 2·10^6 particles
// and dt = 0.1 … 0.0125.
//
// # References
//
//   - P. E. Kloeden, E. Platen, Numerical Solution of Stochastic
//     Differential Equations, Springer 1992 (Euler–Maruyama, Milstein,
//     weak orders).
//   - W. Rümelin, Numerical treatment of stochastic differential equations,
//     SIAM J. Numer. Anal. 19 (1982) (stochastic Heun, Stratonovich limit).
//   - M. Bossy, E. Gobet, D. Talay, A symmetrized Euler scheme for an
//     efficient approximation of reflected diffusions, J. Appl. Probab. 41
//     (2004).
//   - E. Gobet, Weak approximation of killed diffusion using Euler schemes,
//     Stoch. Proc. Appl. 87 (2000).
//   - M. Broadie, P. Glasserman, S. Kou, A continuity correction for
//     discrete barrier options, Math. Finance 7 (1997).
//   - G. Marsaglia, W. W. Tsang, The ziggurat method for generating random
//     variables, J. Stat. Softw. 5 (2000); J. A. Doornik, An improved
//     ziggurat method to generate normal random samples (2005).
//   - P. Diaconis, S. Zabell, Closed form summation for classical
//     distributions: variations on a theme of de Moivre, Statist. Sci. 6
//     (1991).
//   - W. G. Cochran, Some methods for strengthening the common χ² tests,
//     Biometrics 10 (1954) (expected counts of at least 5).
package validation

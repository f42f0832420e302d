// Package sgd builds the Fokker–Planck model of minibatch stochastic
// gradient descent on a per-sample loss and a data set, solves it with the
// operators and solvers packages, and checks it against real SGD chains.
//
// # The model
//
// SGD with learning rate eta and batches of n rows,
//
//	theta_{k+1} = theta_k − eta (1/n) sum_{i in B_k} ∇u(theta_k, X_i),
//
// is, to first order in eta, the Itô diffusion (Li, Tai & E 2017)
//
//	d theta = mu dt + sqrt(2 D) dW,  t = k eta,
//	mu(theta) = −∇L(theta) = −(1/N) sum_i ∇u(theta, X_i),
//	D(theta)  = (eta/2n) f Σ(theta),
//
// with Σ the covariance over the N data rows (divisor N) of the per-sample
// gradient and f = 1 for batches drawn with replacement, (N − n)/(N − 1)
// without (Config.NoiseFactor). Its density obeys the Itô Fokker–Planck
// equation of package operators, whose flux J = mu p − D ∇p − (div D) p
// holds the noise-induced drift −div D: SGD drifts towards low gradient
// noise.
//
// # Pieces
//
//   - Data: N rows of named columns, from CSV (ReadCSV), an HDF5 dataset
//     (LoadHDF5) or drawn (Generate).
//   - Loss: the compiled loss with its symbolic gradient and Hessian
//     (expression.Expr.Derivative).
//   - Landscape: the mean loss, mean gradient, gradient covariance, mean
//     Hessian and third and fourth central moments over the data, exactly at
//     the cell centres and (gradient and Hessian) the face centres where the
//     operator reads its coefficients; each point is one batch evaluation
//     over the data rows (data columns as batch columns, theta broadcast),
//     points spread over goroutines. Landscape.Model turns it into an
//     operators.Model for any Config (learning rate, batch size, sampling,
//     frozen diffusion), so a sweep over eta evaluates the data once.
//   - Landscape.Simulate: real SGD chains, histogrammed on the grid.
//   - Setup (FromSpec), Solve, Run, Sweep: the pipeline of `fokker sgd`.
//
// # The O(eta) correction and the allowance
//
// The first-order SDE is a weak order-1 approximation of SGD. Its O(eta)
// error is computed, not guessed: one SGD step has the mean and covariance
// of one Euler–Maruyama step of the SDE at step eta, so SGD's law is, to
// first order, the law of that Euler–Maruyama chain — the density of its
// modified equation (Config.Modified: mu~ = −(I + eta H/2) ∇L,
// D~ = (I + eta H/2) D (I + eta H/2)) — plus the effect of the third and
// fourth cumulants of the batch gradient, which a Kramers–Moyal expansion
// gives as one more linear solve (see corrector). Solve returns this
// first-order law in Solution.Corrected; the check allows the first-order
// SDE an L1 distance to the chains of L1Ratio noise floors plus the L1
// distance between the two densities (Comparison.Allowance), which bounds
// the bias by the triangle inequality up to O(eta²) — provided the
// first-order law itself is within L1Ratio noise floors of the chains;
// otherwise the check fails (regime "parted").
//
// # Tails
//
// For a loss quadratic in one parameter (Quadratic1D) the SDE's stationary
// density is known in closed form and has a power-law tail with index
// 1 + 2n E h/(eta f Var h), h the per-sample curvature; SGD itself is a
// random affine recursion whose index is Kesten's root of
// E|1 − eta h_B|^alpha = 1. TailReport sets both beside the Hill estimate
// from the chains. docs/sgd.md derives and compares them.
//
// # Determinism
//
// Chains are split into chunks of ChainSettings.ChunkSize, each with its own
// stream rand.NewPCG(seed, chunk); histograms are integer counts. Results
// depend on the seed and the chunk size, not on the number of threads. The
// landscape is evaluated point by point with a fixed order of summation
// over the data, so it is identical for any number of threads too.
package sgd

// Package operators assembles the finite-volume generator L of a
// Fokker–Planck equation on a Cartesian grid, so that dp/dt = L p for the
// vector p of cell densities, as a sparse CSR matrix
// (github.com/james-bowman/sparse).
//
// # Equation and conventions
//
// For dX = mu(X,t) dt + sqrt(2 D(X,t)) dW the density obeys dp/dt = −div J
// with the flux
//
//	J = mu p − D grad p − (1 − alpha) (div D) p,
//
// where alpha = 0 is Itô (dp/dt = div[(−mu + div D) p + D grad p]),
// alpha = 1/2 Stratonovich and alpha = 1 anti-Itô (Hänggi–Klimontovich).
// Equivalently, the process is the Itô SDE with drift mu + alpha div D.
//
// For diagonal D this is exactly dX_i = mu_i dt + sqrt(2 D_ii) dW_i read in
// the convention alpha, whose correction to the Itô drift,
// alpha sum_jk sigma_jk ∂_j sigma_ik, equals alpha ∂_i D_ii there. For a full
// D the SDE's correction depends on the chosen factor sigma (D = sigma
// sigma^T/2 does not fix it), while a Fokker–Planck equation can only depend
// on D: fokker defines the convention by the flux above, i.e. by the Itô drift
// mu + alpha div D. It coincides with the SDE for every sigma for which
// sum_jk sigma_jk ∂_j sigma_ik = sum_j ∂_j D_ij — constant sigma, diagonal
// sigma, and the symmetric square root whenever it commutes with its
// derivatives — and differs from it otherwise by
// (alpha/2) sum_jk (sigma_jk ∂_j sigma_ik − sigma_ik ∂_j sigma_jk).
// The user never supplies div D: the noise-induced drift comes from
// differences of D between cells.
//
// # Discretisation
//
// The generator is a sum of pairwise exchanges of probability between cells
// ("connections"): between neighbours along each axis, and, for a full D,
// along the lattice directions of Selling's decomposition
// D = sum_e kappa_e u_e u_e^T with kappa_e ≥ 0 (Fehrenbach & Mirebeau 2014).
// Each connection carries the exponentially fitted (Scharfetter–Gummel)
// flux of its one-dimensional problem, F = a p_P − b p_Q with a, b ≥ 0, face
// diffusion the logarithmic mean of kappa at the two ends, and effective
// drift mu·d − (1 − alpha)(kappa_Q − kappa_P) (− (U_Q − U_P) for a potential).
// Consequences:
//   - mass is conserved exactly: volume-weighted columns of L sum to zero with
//     reflecting and periodic boundaries;
//   - L is an M-matrix (non-negative off-diagonals) for any D, so densities
//     stay non-negative under implicit time stepping;
//   - with mu = 0 and diagonal D the stationary density is D^(alpha−1) at the
//     cell centres to round-off, and for constant isotropic D and a Potential
//     it is exp(−U/D);
//   - the scheme is second order for smooth coefficients.
//
// The flux formula is in flux.go (faceCoefficients); the decomposition in
// selling.go; assembly in operator.go. docs/numerics.md has the details,
// expected orders, and where accuracy (not positivity) is lost: strongly
// anisotropic D needs long stencil directions, and the assembly refuses
// directions longer than Settings.MaxStencil, naming the point — unless, in
// 2D, Settings.LatticeFit replaces D there by its non-negative fit on the
// allowed directions (lattice.go; the change of D is in Stats.MaxFitError).
//
// # Reuse
//
// An Operator is built once (New). For time-dependent models Assemble
// re-evaluates the coefficients and overwrites the matrix values in place
// without allocating, unless the set of stencil directions changes.
//
// The assembly computes the two coefficients of every connection
// (AxisFluxes for the axes); the CSR matrix is laid out from them, in
// parallel over rows, when it is first asked for (Matrix, MulVecTo) — a
// solver that works on the connections, such as the detailed-balance
// stationary solve, never needs it. A 1D operator evaluates D and U at
// each centre once, as the connection that reaches it is computed, and
// shares its cell volumes with the grid.
package operators

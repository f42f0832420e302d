// Package grid describes Cartesian finite-volume meshes in any number of
// dimensions: named axes with uniform or stretched cells, the boundary kind on
// each side, and the mapping between linear and multi-indices.
//
// A grid knows geometry and indexing only; it holds no solver state.
//
// # Memory order
//
// Cells are numbered in row-major order, last axis fastest: on a grid with
// shape (n0, n1, n2) the cell (i, j, k) has linear index (i*n1 + j)*n2 + k.
// This is the C / NumPy order, and the order of the density arrays that fokker
// writes to HDF5.
//
// # Boundaries
//
// Each axis has a kind on its lower and upper side: Reflecting (no flux
// through the face), Absorbing (the density is zero on the face, so mass
// leaves through it) or Periodic. Periodic must be given on both sides of an
// axis.
package grid

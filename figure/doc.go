// Package figure draws densities on grids as publication-quality PNG
// figures with gonum/plot.
//
// Each function builds a *Figure from a *grid.Grid and densities stored as
// []float64 in the grid's row-major order (last axis fastest):
//
//   - Line1D draws 1D densities as lines, with dashed exact solutions,
//     particle histograms (steps or points with error bars) and several
//     snapshots with a legend, on linear, log or log-log axes.
//   - HeatMap2D draws a 2D density as a heat map at the true cell edges
//     (stretched grids included) with a colour bar, and optional contours,
//     arrows and points on top.
//   - Slices3D draws a mid-plane slice of a 3D density with its three 1D
//     marginals.
//   - Compare sets a PDE density beside a particle histogram on the same
//     grid: overlaid in 1D, side by side with their difference in 2D, and as
//     overlaid marginals in 3D.
//   - Density picks one of the above by the grid's dimension.
//
// Save writes a Figure as a PNG file atomically. Figure.Plot gives the
// gonum plots of a figure to adjust before saving.
//
// # Errors
//
// Data that comes from outside (wrong lengths, NaN or infinite values,
// impossible ranges) gives an error naming the first bad cell. Programmer
// errors, such as a nil grid or a row index out of range, panic with a
// message prefixed "figure: ".
//
// # Colours
//
// Heat maps use Viridis, a perceptually uniform sequential map, unless
// Options.ColourMap says otherwise; differences use Diverging, centred at
// zero. A Log colour scale shows densities over many decades.
package figure

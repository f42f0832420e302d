// Package data writes and reads fokker's HDF5 output files, the
// "fokker-density" layout (format_version 1) described in docs/format.md.
//
// A Writer creates a file for one grid, then either appends snapshots of a
// time-dependent density (Append) or writes one stationary density
// (WriteStationary). Open reads any such file back, including one that is
// still being written or whose writer was killed.
//
//	w, err := data.NewWriter("run.h5", g, data.WithHeader(data.Header{Command: "fokker run"}))
//	...
//	err = w.Append(t, p) // p is the density on g, row-major, last axis fastest
//	...
//	err = w.Close()
//
// # Layout
//
// The grid axes are stored twice under two names that are hard links to the
// same HDF5 dataset: /grid/<axis> (the documented path) and /<axis> (a
// dimension scale in the root group, which is where netCDF readers such as
// h5netcdf and xarray look for it). /time is the scale of the snapshot
// dimension; /axis and /axis2 label the rows and columns of /mean and
// /covariance with the axis names. Every dataset in the root group carries
// dimension scales, so xarray.open_dataset(path, engine="h5netcdf") gives
// named dimensions and coordinates without options.
//
// # Completeness and live reading
//
// Append writes /density, /mass, /mean and /covariance for a snapshot,
// flushes, then appends its entry to /time and flushes again, and returns
// only then. An entry of /time therefore marks a snapshot whose data are all
// on disk: a reader counts complete snapshots as the entries of /time
// (trailing NaN entries, the fill value, do not count).
//
// After StartSWMR the file is in HDF5's single-writer/multiple-reader mode:
// readers may open it while it is written (h5py: swmr=True; Open does this by
// itself) and a crash of the writer leaves a file in which every appended
// snapshot is readable — when the file was made WithSnapshots: without a
// known count the per-snapshot datasets have an unlimited first dimension,
// whose chunk index HDF5 restructures as it grows, and a writer killed in
// the middle of that can leave a dataset unreadable (HDF5 1.10.8; fokker run
// and fokker sgd always give the count). No dataset, attribute or dimension
// can be created after StartSWMR. A file whose SWMR writer was killed can be
// made readable by non-SWMR readers again with Recover.
//
// # Crashes, full disks and resuming
//
// NewWriter writes the file under a temporary name in the directory of its
// path and renames it to its path at StartSWMR (or at Close, for a file
// never switched to SWMR mode): at the path there is never a half-made
// file, only nothing (or the file it replaces) or a file any reader opens.
// While a Writer has its file open it holds a lock on it that the kernel
// drops when the process dies, so that File.State tells a file being
// written from one whose writer was killed (on Linux).
//
// After a failed write (a full disk) a Writer writes nothing more: Close
// leaves the file as the last successful flush did, like a killed writer.
// Reopen continues a transient file from its last complete snapshot, and
// NewCheckpoint, SetCheckpoint and File.Checkpoint keep with each snapshot
// what a time stepper needs to continue from it exactly (see Checkpoint).
//
// Open checks what it reads, so that a truncated, damaged or foreign file
// gives an error; it also checks the one structure of an HDF5 file that
// libhdf5 trusts without a checksum, the global heap of variable-length
// strings, before libhdf5 reads it (see heapcheck.go).
//
// # Why a cgo layer of its own
//
// The package talks to libhdf5 and libhdf5_hl (Debian's libhdf5-dev)
// through a small cgo layer, h5.go, instead of gonum.org/v1/hdf5, which the
// project first planned to use with a shim for missing calls. Mixing the two
// is not possible: gonum/hdf5 cannot wrap a raw HDF5 handle back into its
// objects, and its CreateFile takes no file-access property list, so a file
// created through it cannot get the 1.10 library-version bounds that SWMR
// needs. Its other gaps for this layout were: SimpleExtentDims panics on the
// scalar /mass of steady files, Dataset.Read uses the file's type as the
// memory type (a float32 dataset read into []float64 comes back garbled),
// and string-array attributes such as axes cannot be written. h5.go wraps
// only the calls the layout uses, converts every read to float64, checks
// every handle is closed (tests count open objects), and turns HDF5's error
// stack into Go errors.
//
// # Concurrency
//
// A Writer or a File must not be used by several goroutines at once.
// Distinct Writers and Files may be used concurrently.
//
// # Errors
//
// Programmer errors (a density of the wrong length, Append on a steady
// writer) panic with a message prefixed "data: ". Everything the outside
// world can cause (I/O, a damaged or foreign file, a name clash) is returned
// as an error prefixed "data: " that names the file.
package data

package data

// This file is the package's only contact with the HDF5 C library: a small
// set of C helpers (prefixed fk_) and thin Go wrappers around them. Every
// helper turns HDF5's automatic error printing off for the calling thread
// (the setting is per thread in thread-safe builds) and, when it fails,
// keeps HDF5's error stack intact across its clean-up calls, so that the Go
// side can read the stack on the same locked OS thread and turn it into an
// error message.

/*
#cgo linux CFLAGS: -I/usr/include/hdf5/serial
#cgo linux,amd64 LDFLAGS: -L/usr/lib/x86_64-linux-gnu/hdf5/serial -lhdf5_hl -lhdf5
#cgo linux,arm64 LDFLAGS: -L/usr/lib/aarch64-linux-gnu/hdf5/serial -lhdf5_hl -lhdf5
#cgo linux,!amd64,!arm64 LDFLAGS: -lhdf5_hl -lhdf5
#cgo darwin CFLAGS: -I/usr/local/include -I/opt/homebrew/include
#cgo darwin LDFLAGS: -L/usr/local/lib -L/opt/homebrew/lib -lhdf5_hl -lhdf5

#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <hdf5.h>
#include <hdf5_hl.h>

#if H5_VERS_MAJOR == 1 && H5_VERS_MINOR < 10
#error "fokker/data needs HDF5 >= 1.10.2 (SWMR and H5F_LIBVER_V110)"
#endif

// FK_ENTER silences HDF5's error printing on the calling thread.
#define FK_ENTER() H5Eset_auto2(H5E_DEFAULT, NULL, NULL)

// FK_KEEP runs clean-up code without losing the current error stack (every
// API call clears the stack on entry).
#define FK_KEEP(cleanup) do { hid_t es_ = H5Eget_current_stack(); cleanup; if (es_ >= 0) H5Eset_current_stack(es_); } while (0)

typedef struct {
	char outer[512];
	char inner[512];
	int n;
} fk_errinfo;

static herr_t fk_err_walk(unsigned n, const H5E_error2_t *e, void *data) {
	fk_errinfo *x = (fk_errinfo *)data;
	const char *d = (e->desc != NULL) ? e->desc : "";
	if (x->n == 0) {
		strncpy(x->outer, d, sizeof x->outer - 1);
	}
	strncpy(x->inner, d, sizeof x->inner - 1);
	x->n++;
	return 0;
}

// fk_error copies the outermost and innermost descriptions of the current
// error stack into x and clears the stack.
static void fk_error(fk_errinfo *x) {
	memset(x, 0, sizeof *x);
	H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, fk_err_walk, x);
	H5Eclear2(H5E_DEFAULT);
}

static hid_t fk_fcreate(const char *path, int trunc) {
	FK_ENTER();
	hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
	if (fapl < 0) return -1;
	// Objects in the 1.10 format: needed by H5Fstart_swmr_write, and readable
	// by every HDF5 >= 1.10.
	if (H5Pset_libver_bounds(fapl, H5F_LIBVER_V110, H5F_LIBVER_V110) < 0) {
		FK_KEEP(H5Pclose(fapl));
		return -1;
	}
	hid_t f = H5Fcreate(path, trunc ? H5F_ACC_TRUNC : H5F_ACC_EXCL, H5P_DEFAULT, fapl);
	FK_KEEP(H5Pclose(fapl));
	return f;
}

static hid_t fk_fopen(const char *path, int swmr) {
	FK_ENTER();
	if (!swmr) return H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
	hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
	if (fapl < 0) return -1;
	// A SWMR reader retries metadata reads whose checksum fails, sleeping
	// 1, 2, 4, … ns in between: HDF5 1.10's default of 100 attempts turns a
	// damaged file into a hang. 20 attempts wait 2^20 ns ≈ 1 ms (plus the
	// kernel's timer slack, ~50 µs a sleep) for a read torn by a concurrent
	// writer — thousands of times the time a metadata write takes — and
	// keep a damaged file with many bad blocks from taking seconds to refuse.
	if (H5Pset_metadata_read_attempts(fapl, 20) < 0) {
		FK_KEEP(H5Pclose(fapl));
		return -1;
	}
	hid_t f = H5Fopen(path, H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, fapl);
	FK_KEEP(H5Pclose(fapl));
	return f;
}

// fk_fopen_rw opens path read-write. With swmr, it opens it in SWMR-write
// mode (the file must have the 1.10 superblock, version 3). With clear, it
// uses the (private, but stable since 1.10.0 and used by h5clear) property
// that clears the superblock's file-consistency flags that a killed writer
// leaves behind; opening such a file fails otherwise.
//
// With swmr and clear together, HDF5 replaces the old flags by its own
// "open for SWMR write" flags in one write of the superblock: at no moment
// is the file marked "open for write" without "SWMR", a state in which no
// reader, not even a SWMR reader, can open it.
static hid_t fk_fopen_rw(const char *path, int swmr, int clear) {
	FK_ENTER();
	hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
	if (fapl < 0) return -1;
	hbool_t c = clear ? 1 : 0;
	// As for SWMR readers (fk_fopen): HDF5 retries a metadata read whose
	// checksum fails in SWMR mode, with exponential back-off; its default of
	// 100 attempts turns a damaged file into a hang.
	// A killed writer (or one that hit a full disk) can leave the file
	// shorter than the end of its allocated space, which HDF5 refuses to
	// open read-write as "truncated" unless told to skip the check (the
	// private property h5clear uses too); closing the file then extends it.
	if ((clear && (H5Pset(fapl, "clear_status_flags", &c) < 0 || H5Pset(fapl, "skip_eof_check", &c) < 0)) ||
	    (swmr && H5Pset_metadata_read_attempts(fapl, 20) < 0) ||
	    H5Pset_libver_bounds(fapl, H5F_LIBVER_V110, H5F_LIBVER_V110) < 0) {
		FK_KEEP(H5Pclose(fapl));
		return -1;
	}
	hid_t f = H5Fopen(path, H5F_ACC_RDWR | (swmr ? H5F_ACC_SWMR_WRITE : 0), fapl);
	FK_KEEP(H5Pclose(fapl));
	// A SWMR writer flushes metadata before the superblock that records the
	// end of its allocated space (EOA): a killed one can leave metadata
	// beyond the recorded EOA. SWMR readers cope; a writer would refuse to
	// touch it ("addr overflow") and, worse, cut the file at the EOA when
	// it closes. Extend the EOA to the end of the file first (as h5clear
	// -i does): what lies between is at worst unused space.
	if (f >= 0 && clear && H5Fincrement_filesize(f, 0) < 0) {
		FK_KEEP(H5Fclose(f));
		return -1;
	}
	return f;
}

// fk_fclear clears the file-consistency flags of path, like h5clear -s: it
// opens the file in SWMR-write mode with the flags cleared (see fk_fopen_rw)
// and closes it, which leaves the flags cleared. Files without the 1.10
// superblock cannot be opened in SWMR-write mode; they are opened read-write
// without it (and cannot carry SWMR flags in the first place).
static herr_t fk_fclear(const char *path) {
	hid_t f = fk_fopen_rw(path, 1, 1);
	if (f < 0) {
		H5Eclear2(H5E_DEFAULT);
		f = fk_fopen_rw(path, 0, 1);
	}
	if (f < 0) return -1;
	return H5Fclose(f);
}

static htri_t fk_is_hdf5(const char *path) { FK_ENTER(); return H5Fis_hdf5(path); }
static herr_t fk_fclose(hid_t f) { FK_ENTER(); return H5Fclose(f); }
static herr_t fk_fflush(hid_t f) { FK_ENTER(); return H5Fflush(f, H5F_SCOPE_GLOBAL); }
static herr_t fk_swmr(hid_t f) { FK_ENTER(); return H5Fstart_swmr_write(f); }
static herr_t fk_dclose(hid_t d) { FK_ENTER(); return H5Dclose(d); }
static herr_t fk_drefresh(hid_t d) { FK_ENTER(); return H5Drefresh(d); }
static hid_t fk_dopen(hid_t loc, const char *name) { FK_ENTER(); return H5Dopen2(loc, name, H5P_DEFAULT); }
static herr_t fk_oclose(hid_t o) { FK_ENTER(); return H5Oclose(o); }
static ssize_t fk_open_objects(void) { FK_ENTER(); return H5Fget_obj_count((hid_t)H5F_OBJ_ALL, H5F_OBJ_ALL); }

// fk_exists reports whether path names an object (every intermediate link
// must exist too). It returns 1 for a dataset, 2 for a group, 3 for another
// object, 0 for nothing and -1 on error.
static int fk_exists(hid_t loc, const char *path) {
	FK_ENTER();
	if (strcmp(path, "/") == 0) return 2;
	char *p = strdup(path);
	if (p == NULL) return -1;
	for (char *s = p + 1; ; s++) {
		if (*s == '/' || *s == 0) {
			char c = *s;
			*s = 0;
			htri_t e = H5Lexists(loc, p, H5P_DEFAULT);
			*s = c;
			if (e <= 0) { free(p); return e < 0 ? -1 : 0; }
			if (c == 0) break;
		}
	}
	free(p);
	hid_t o = H5Oopen(loc, path, H5P_DEFAULT);
	if (o < 0) return -1;
	H5I_type_t t = H5Iget_type(o);
	H5Oclose(o);
	if (t == H5I_DATASET) return 1;
	if (t == H5I_GROUP) return 2;
	return 3;
}

static hid_t fk_oopen(hid_t loc, const char *path) { FK_ENTER(); return H5Oopen(loc, path, H5P_DEFAULT); }

// Space allocation of fk_dcreate (dsCreateAlloc). Early: all chunks are
// allocated at creation (a dataset of fixed maximum shape then has a
// fixed-array chunk index, or none when unfiltered, that later writes only
// update in place), filled with the fill value only for FK_ALLOC_EARLY_FILLED.
enum { FK_ALLOC_INCREMENTAL, FK_ALLOC_EARLY, FK_ALLOC_EARLY_FILLED };

static hid_t fk_dcreate(hid_t loc, const char *name, int rank, const hsize_t *dims,
                        const hsize_t *maxdims, const hsize_t *chunk, int deflate, int shuffle, int fillnan, int alloc) {
	FK_ENTER();
	hid_t space = -1, dcpl = -1, lcpl = -1, d = -1;
	if (rank == 0) {
		space = H5Screate(H5S_SCALAR);
	} else {
		space = H5Screate_simple(rank, dims, maxdims);
	}
	if (space < 0) goto done;
	if ((dcpl = H5Pcreate(H5P_DATASET_CREATE)) < 0) goto done;
	if (chunk != NULL) {
		if (H5Pset_chunk(dcpl, rank, chunk) < 0) goto done;
		if (shuffle && H5Pset_shuffle(dcpl) < 0) goto done;
		if (deflate > 0 && H5Pset_deflate(dcpl, (unsigned)deflate) < 0) goto done;
	}
	if (fillnan) {
		double nan = NAN;
		if (H5Pset_fill_value(dcpl, H5T_NATIVE_DOUBLE, &nan) < 0) goto done;
	}
	if (alloc != FK_ALLOC_INCREMENTAL) {
		if (H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY) < 0) goto done;
		if (alloc == FK_ALLOC_EARLY && H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER) < 0) goto done;
	}
	if ((lcpl = H5Pcreate(H5P_LINK_CREATE)) < 0) goto done;
	if (H5Pset_create_intermediate_group(lcpl, 1) < 0) goto done;
	d = H5Dcreate2(loc, name, H5T_IEEE_F64LE, space, lcpl, dcpl, H5P_DEFAULT);
done:
	FK_KEEP(
		if (space >= 0) H5Sclose(space);
		if (dcpl >= 0) H5Pclose(dcpl);
		if (lcpl >= 0) H5Pclose(lcpl);
	);
	return d;
}

static hid_t fk_vlen_str_type(void) {
	hid_t t = H5Tcopy(H5T_C_S1);
	if (t < 0) return -1;
	if (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
		FK_KEEP(H5Tclose(t));
		return -1;
	}
	return t;
}

// fk_dcreate_strings creates a 1-D dataset of variable-length UTF-8 strings.
static hid_t fk_dcreate_strings(hid_t loc, const char *name, const char **v, hsize_t n) {
	FK_ENTER();
	hid_t t = -1, space = -1, lcpl = -1, d = -1;
	if ((t = fk_vlen_str_type()) < 0) goto done;
	if ((space = H5Screate_simple(1, &n, NULL)) < 0) goto done;
	if ((lcpl = H5Pcreate(H5P_LINK_CREATE)) < 0) goto done;
	if (H5Pset_create_intermediate_group(lcpl, 1) < 0) goto done;
	if ((d = H5Dcreate2(loc, name, t, space, lcpl, H5P_DEFAULT, H5P_DEFAULT)) < 0) goto done;
	if (H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0) {
		FK_KEEP(H5Dclose(d));
		d = -1;
	}
done:
	FK_KEEP(
		if (t >= 0) H5Tclose(t);
		if (space >= 0) H5Sclose(space);
		if (lcpl >= 0) H5Pclose(lcpl);
	);
	return d;
}

static herr_t fk_dwrite_all(hid_t d, const double *buf) {
	FK_ENTER();
	return H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
}

static herr_t fk_dread_all(hid_t d, double *buf) {
	FK_ENTER();
	return H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
}

// fk_rows selects rows [row, row+nrows) of the first dimension of the
// dataspace of d, whose current dims are in dims.
static herr_t fk_select_rows(hid_t fs, int rank, const hsize_t *dims, hsize_t row, hsize_t nrows,
                             hsize_t *count) {
	hsize_t start[H5S_MAX_RANK];
	for (int k = 0; k < rank; k++) {
		start[k] = 0;
		count[k] = dims[k];
	}
	start[0] = row;
	count[0] = nrows;
	return H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL);
}

// fk_append extends d to newdims (newdims[0] = row+1) and writes one row.
static herr_t fk_append(hid_t d, int rank, const hsize_t *newdims, hsize_t row, const double *buf) {
	FK_ENTER();
	hid_t fs = -1, ms = -1;
	herr_t r = -1;
	hsize_t count[H5S_MAX_RANK];
	if (H5Dset_extent(d, newdims) < 0) goto done;
	if ((fs = H5Dget_space(d)) < 0) goto done;
	if (fk_select_rows(fs, rank, newdims, row, 1, count) < 0) goto done;
	if ((ms = H5Screate_simple(rank, count, NULL)) < 0) goto done;
	r = H5Dwrite(d, H5T_NATIVE_DOUBLE, ms, fs, H5P_DEFAULT, buf);
done:
	FK_KEEP(
		if (fs >= 0) H5Sclose(fs);
		if (ms >= 0) H5Sclose(ms);
	);
	return r;
}

// fk_rows reads (write == 0, converting to double) or writes rows
// [row, row+nrows) of d, whose extent is not changed.
static herr_t fk_rows(hid_t d, hsize_t row, hsize_t nrows, double *buf, int write) {
	FK_ENTER();
	hid_t fs = -1, ms = -1;
	herr_t r = -1;
	hsize_t dims[H5S_MAX_RANK], count[H5S_MAX_RANK];
	if ((fs = H5Dget_space(d)) < 0) goto done;
	int rank = H5Sget_simple_extent_ndims(fs);
	if (rank < 1) goto done;
	if (H5Sget_simple_extent_dims(fs, dims, NULL) < 0) goto done;
	if (fk_select_rows(fs, rank, dims, row, nrows, count) < 0) goto done;
	if ((ms = H5Screate_simple(rank, count, NULL)) < 0) goto done;
	if (write) {
		r = H5Dwrite(d, H5T_NATIVE_DOUBLE, ms, fs, H5P_DEFAULT, buf);
	} else {
		r = H5Dread(d, H5T_NATIVE_DOUBLE, ms, fs, H5P_DEFAULT, buf);
	}
done:
	FK_KEEP(
		if (fs >= 0) H5Sclose(fs);
		if (ms >= 0) H5Sclose(ms);
	);
	return r;
}

// fk_dinfo reports the rank, dims, max dims and type class of a dataset.
static int fk_dinfo(hid_t d, hsize_t *dims, hsize_t *maxdims, int *cls) {
	FK_ENTER();
	hid_t s = H5Dget_space(d);
	if (s < 0) return -1;
	int rank = H5Sget_simple_extent_ndims(s);
	if (rank > 0 && H5Sget_simple_extent_dims(s, dims, maxdims) < 0) rank = -1;
	FK_KEEP(H5Sclose(s));
	if (rank < 0) return -1;
	hid_t t = H5Dget_type(d);
	if (t < 0) return -1;
	*cls = (int)H5Tget_class(t);
	H5Tclose(t);
	return rank;
}

static herr_t fk_set_scale(hid_t d, const char *name) { FK_ENTER(); return H5DSset_scale(d, name); }
static herr_t fk_attach_scale(hid_t d, hid_t scale, unsigned idx) { FK_ENTER(); return H5DSattach_scale(d, scale, idx); }

static herr_t fk_scale_name_cb(hid_t did, unsigned dim, hid_t dsid, void *data) {
	char *buf = (char *)data;
	if (H5DSget_scale_name(dsid, buf, 256) < 0) buf[0] = 0;
	return 1;
}

// fk_dim_name writes the name of the (last) dimension scale attached to
// dimension idx of d, or of d itself if d is a 1-D dimension scale, into buf
// (256 bytes); it returns 1 if there is one.
static int fk_dim_name(hid_t d, unsigned idx, char *buf) {
	FK_ENTER();
	buf[0] = 0;
	if (idx == 0 && H5DSis_scale(d) > 0) {
		// A dimension scale is its own coordinate.
		if (H5DSget_scale_name(d, buf, 256) < 0) buf[0] = 0;
		H5Eclear2(H5E_DEFAULT);
		return buf[0] != 0;
	}
	H5Eclear2(H5E_DEFAULT);
	int n = H5DSget_num_scales(d, idx);
	if (n <= 0) {
		H5Eclear2(H5E_DEFAULT);
		return 0;
	}
	int i = n - 1;
	if (H5DSiterate_scales(d, idx, &i, fk_scale_name_cb, buf) < 0) {
		H5Eclear2(H5E_DEFAULT);
		return 0;
	}
	return buf[0] != 0;
}

static herr_t fk_hard_link(hid_t f, const char *src, const char *dst) {
	FK_ENTER();
	hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
	if (lcpl < 0) return -1;
	herr_t r = H5Pset_create_intermediate_group(lcpl, 1);
	if (r >= 0) r = H5Lcreate_hard(f, src, f, dst, lcpl, H5P_DEFAULT);
	FK_KEEP(H5Pclose(lcpl));
	return r;
}

static herr_t fk_attr_prepare(hid_t obj, const char *name) {
	htri_t e = H5Aexists(obj, name);
	if (e < 0) return -1;
	if (e > 0) return H5Adelete(obj, name);
	return 0;
}

static herr_t fk_attr_write(hid_t obj, const char *name, hid_t ftype, hid_t mtype, hsize_t n, int scalar, const void *buf) {
	hid_t space = -1, a = -1;
	herr_t r = -1;
	if (fk_attr_prepare(obj, name) < 0) return -1;
	space = scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, NULL);
	if (space < 0) goto done;
	if ((a = H5Acreate2(obj, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT)) < 0) goto done;
	r = H5Awrite(a, mtype, buf);
done:
	FK_KEEP(
		if (space >= 0) H5Sclose(space);
		if (a >= 0) H5Aclose(a);
	);
	return r;
}

static herr_t fk_attr_f64(hid_t obj, const char *name, const double *v, hsize_t n, int scalar) {
	FK_ENTER();
	return fk_attr_write(obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, n, scalar, v);
}

static herr_t fk_attr_i64(hid_t obj, const char *name, const long long *v, hsize_t n, int scalar) {
	FK_ENTER();
	return fk_attr_write(obj, name, H5T_STD_I64LE, H5T_NATIVE_LLONG, n, scalar, v);
}

static herr_t fk_attr_strings(hid_t obj, const char *name, const char **v, hsize_t n, int scalar) {
	FK_ENTER();
	hid_t t = fk_vlen_str_type();
	if (t < 0) return -1;
	herr_t r = fk_attr_write(obj, name, t, t, n, scalar, v);
	FK_KEEP(H5Tclose(t));
	return r;
}

// Attribute classes reported by fk_attr_info.
enum { FK_ATTR_OTHER = 0, FK_ATTR_INT = 1, FK_ATTR_FLOAT = 2, FK_ATTR_STRING = 3 };

static int fk_attr_info(hid_t obj, const char *name, hsize_t *n, int *scalar) {
	FK_ENTER();
	hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
	if (a < 0) return -1;
	int cls = -1;
	hid_t s = H5Aget_space(a), t = H5Aget_type(a);
	if (s >= 0 && t >= 0) {
		H5S_class_t sc = H5Sget_simple_extent_type(s);
		hssize_t np = H5Sget_simple_extent_npoints(s);
		if (np >= 0) {
			*n = (hsize_t)np;
			*scalar = (sc == H5S_SCALAR);
			switch (H5Tget_class(t)) {
			case H5T_INTEGER: cls = FK_ATTR_INT; break;
			case H5T_FLOAT: cls = FK_ATTR_FLOAT; break;
			case H5T_STRING: cls = FK_ATTR_STRING; break;
			default: cls = FK_ATTR_OTHER; break;
			}
		}
	}
	FK_KEEP(
		if (s >= 0) H5Sclose(s);
		if (t >= 0) H5Tclose(t);
		H5Aclose(a);
	);
	return cls;
}

static herr_t fk_attr_read(hid_t obj, const char *name, hid_t mtype, void *buf) {
	FK_ENTER();
	hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
	if (a < 0) return -1;
	herr_t r = H5Aread(a, mtype, buf);
	FK_KEEP(H5Aclose(a));
	return r;
}

static herr_t fk_attr_read_f64(hid_t obj, const char *name, double *buf) {
	return fk_attr_read(obj, name, H5T_NATIVE_DOUBLE, buf);
}

static herr_t fk_attr_read_i64(hid_t obj, const char *name, long long *buf) {
	return fk_attr_read(obj, name, H5T_NATIVE_LLONG, buf);
}

// FK_MAX_ATTR_BYTES bounds the attributes read (HDF5 keeps attributes
// small; a bigger one is damage or an attack).
#define FK_MAX_ATTR_BYTES ((size_t)1 << 28)

// fk_attr_read_strings reads a string attribute (fixed or variable length,
// scalar or 1-D) of n elements into a malloc'd buffer of NUL-terminated
// strings laid end to end; *len is the buffer length.
static char *fk_attr_read_strings(hid_t obj, const char *name, hsize_t n, size_t *len) {
	FK_ENTER();
	char *out = NULL;
	hid_t a = -1, ft = -1, mt = -1, s = -1;
	if ((a = H5Aopen(obj, name, H5P_DEFAULT)) < 0) goto done;
	if ((ft = H5Aget_type(a)) < 0) goto done;
	if ((s = H5Aget_space(a)) < 0) goto done;
	htri_t vl = H5Tis_variable_str(ft);
	if (vl < 0) goto done;
	if (n > FK_MAX_ATTR_BYTES) goto done;
	if (vl) {
		if ((mt = fk_vlen_str_type()) < 0) goto done;
		char **p = (char **)calloc(n > 0 ? n : 1, sizeof(char *));
		if (p == NULL) goto done;
		if (H5Aread(a, mt, p) < 0) { free(p); goto done; }
		size_t tot = 0;
		for (hsize_t i = 0; i < n; i++) tot += (p[i] ? strlen(p[i]) : 0) + 1;
		out = (char *)malloc(tot > 0 ? tot : 1);
		if (out != NULL) {
			size_t off = 0;
			for (hsize_t i = 0; i < n; i++) {
				size_t k = p[i] ? strlen(p[i]) : 0;
				if (k) memcpy(out + off, p[i], k);
				out[off + k] = 0;
				off += k + 1;
			}
			*len = tot;
		}
#if H5_VERS_MAJOR > 1 || (H5_VERS_MAJOR == 1 && H5_VERS_MINOR >= 12)
		H5Treclaim(mt, s, H5P_DEFAULT, p);
#else
		H5Dvlen_reclaim(mt, s, H5P_DEFAULT, p);
#endif
		free(p);
	} else {
		size_t size = H5Tget_size(ft);
		// A damaged or hostile file may claim sizes whose product overflows.
		if (size == 0 || size > FK_MAX_ATTR_BYTES || n > FK_MAX_ATTR_BYTES / (size + 1)) goto done;
		if ((mt = H5Tcopy(ft)) < 0) goto done;
		char *raw = (char *)malloc(n * size + 1);
		if (raw == NULL) goto done;
		if (H5Aread(a, mt, raw) < 0) { free(raw); goto done; }
		out = (char *)malloc(n * (size + 1) + 1);
		if (out != NULL) {
			size_t off = 0;
			for (hsize_t i = 0; i < n; i++) {
				const char *e = raw + i * size;
				size_t k = 0;
				while (k < size && e[k] != 0) k++;
				memcpy(out + off, e, k);
				out[off + k] = 0;
				off += k + 1;
			}
			*len = off;
		}
		free(raw);
	}
done:
	FK_KEEP(
		if (a >= 0) H5Aclose(a);
		if (ft >= 0) H5Tclose(ft);
		if (mt >= 0) H5Tclose(mt);
		if (s >= 0) H5Sclose(s);
	);
	return out;
}

typedef struct {
	char *buf;
	size_t len, cap, n;
	int fail;
} fk_list;

static void fk_list_add(fk_list *l, const char *s) {
	size_t k = strlen(s) + 1;
	if (l->len + k > l->cap) {
		size_t c = l->cap ? 2 * l->cap : 256;
		while (c < l->len + k) c *= 2;
		char *b = (char *)realloc(l->buf, c);
		if (b == NULL) { l->fail = 1; return; }
		l->buf = b;
		l->cap = c;
	}
	memcpy(l->buf + l->len, s, k);
	l->len += k;
	l->n++;
}

static herr_t fk_attr_name_cb(hid_t loc, const char *name, const H5A_info_t *info, void *data) {
	fk_list_add((fk_list *)data, name);
	return 0;
}

// fk_attr_names lists the attribute names of obj as NUL-terminated strings
// laid end to end in a malloc'd buffer.
static char *fk_attr_names(hid_t obj, size_t *n, size_t *len) {
	FK_ENTER();
	fk_list l = {0};
	hsize_t idx = 0;
	if (H5Aiterate2(obj, H5_INDEX_NAME, H5_ITER_INC, &idx, fk_attr_name_cb, &l) < 0 || l.fail) {
		free(l.buf);
		return NULL;
	}
	if (l.buf == NULL) l.buf = (char *)malloc(1);
	*n = l.n;
	*len = l.len;
	return l.buf;
}

static herr_t fk_link_cb(hid_t g, const char *name, const H5L_info_t *info, void *data) {
	if (info->type != H5L_TYPE_HARD) return 0;
	hid_t o = H5Oopen(g, name, H5P_DEFAULT);
	if (o < 0) {
		H5Eclear2(H5E_DEFAULT);
		return 0;
	}
	H5I_type_t t = H5Iget_type(o);
	H5Oclose(o);
	if (t == H5I_DATASET) fk_list_add((fk_list *)data, name);
	return 0;
}

// fk_datasets lists the paths (relative to the root group, one per hard
// link) of every dataset in f.
static char *fk_datasets(hid_t f, size_t *n, size_t *len) {
	FK_ENTER();
	fk_list l = {0};
	if (H5Lvisit(f, H5_INDEX_NAME, H5_ITER_INC, fk_link_cb, &l) < 0 || l.fail) {
		free(l.buf);
		return NULL;
	}
	if (l.buf == NULL) l.buf = (char *)malloc(1);
	*n = l.n;
	*len = l.len;
	return l.buf;
}

// fk_seal makes every later write of HDF5 to the file f go nowhere, by
// putting a descriptor of /dev/null in place of the one the sec2 driver
// writes through, so that closing f after a write error (a full disk) does
// not write metadata that refers to data never written: the file stays as
// the last successful flush left it, like the file of a killed writer,
// while HDF5 closes it believing its writes succeed (and so releases every
// object).
static herr_t fk_seal(hid_t f) {
	FK_ENTER();
	hid_t fapl = H5Fget_access_plist(f);
	if (fapl < 0) return -1;
	void *handle = NULL;
	herr_t r = H5Fget_vfd_handle(f, fapl, &handle);
	FK_KEEP(H5Pclose(fapl));
	if (r < 0 || handle == NULL) return -1;
	int fd = *(int *)handle;
	int nfd = open("/dev/null", O_RDWR);
	if (nfd < 0) return -1;
	r = dup2(nfd, fd) < 0 ? -1 : 0;
	close(nfd);
	return r;
}

static herr_t fk_set_extent(hid_t d, const hsize_t *dims) { FK_ENTER(); return H5Dset_extent(d, dims); }

*/
import "C"

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"unsafe"
)

// hid is an HDF5 identifier.
type hid = C.hid_t

// maxRank is HDF5's largest dataspace rank (H5S_MAX_RANK).
const maxRank = 32

// h5Error is an error reported by the HDF5 library: the description of the
// failed API call and of the innermost cause on HDF5's error stack.
type h5Error struct {
	outer, inner string
}

func (e *h5Error) Error() string {
	switch {
	case e.outer == "" && e.inner == "":
		return "HDF5 call failed"
	case e.inner == "" || e.inner == e.outer:
		return "HDF5: " + e.outer
	case e.outer == "":
		return "HDF5: " + e.inner
	}
	return fmt.Sprintf("HDF5: %s (%s)", e.outer, e.inner)
}

// stackError returns the error on HDF5's error stack of the current thread
// and clears the stack. The caller must hold its OS thread locked since the
// failed call.
func stackError() error {
	var x C.fk_errinfo
	C.fk_error(&x)
	// Some descriptions hold a newline (the time of a failed write, from
	// ctime): keep error messages on one line.
	oneLine := strings.NewReplacer("\r\n", " ", "\n", " ")
	return &h5Error{
		outer: strings.TrimSpace(oneLine.Replace(C.GoString(&x.outer[0]))),
		inner: strings.TrimSpace(oneLine.Replace(C.GoString(&x.inner[0]))),
	}
}

// check returns nil if r is non-negative and the HDF5 error otherwise. It must
// run on the thread of the call that returned r.
func check[T ~int | ~int64 | ~int32](r T) error {
	if r >= 0 {
		return nil
	}
	return stackError()
}

func cdims(dst []C.hsize_t, s []int) []C.hsize_t {
	dst = dst[:0]
	for _, v := range s {
		dst = append(dst, C.hsize_t(v))
	}
	return dst
}

func ptr(s []C.hsize_t) *C.hsize_t {
	if len(s) == 0 {
		return nil
	}
	return &s[0]
}

// cstrings returns a C array of C copies of s and a function that frees it.
func cstrings(s []string) (**C.char, func()) {
	n := len(s)
	if n == 0 {
		n = 1
	}
	arr := unsafe.Slice((**C.char)(C.calloc(C.size_t(n), C.size_t(unsafe.Sizeof((*C.char)(nil))))), n)
	for i, v := range s {
		arr[i] = C.CString(v)
	}
	return &arr[0], func() {
		for _, p := range arr {
			C.free(unsafe.Pointer(p))
		}
		C.free(unsafe.Pointer(&arr[0]))
	}
}

// splitNUL splits a C buffer of n NUL-terminated strings laid end to end.
func splitNUL(buf *C.char, n, length C.size_t) []string {
	if n == 0 {
		return nil
	}
	b := C.GoBytes(unsafe.Pointer(buf), C.int(length))
	parts := bytes.Split(bytes.TrimSuffix(b, []byte{0}), []byte{0})
	s := make([]string, len(parts))
	for i, p := range parts {
		s[i] = string(p)
	}
	return s[:min(len(s), int(n))]
}

func fileCreate(path string, trunc bool) (hid, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cp := C.CString(path)
	defer C.free(unsafe.Pointer(cp))
	f := C.fk_fcreate(cp, cbool(trunc))
	return f, check(f)
}

func fileOpen(path string, swmr bool) (hid, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cp := C.CString(path)
	defer C.free(unsafe.Pointer(cp))
	f := C.fk_fopen(cp, cbool(swmr))
	return f, check(f)
}

// fileOpenRW opens path read-write, in SWMR-write mode if swmr, clearing
// the file-consistency flags of a killed writer if clear (see fk_fopen_rw).
func fileOpenRW(path string, swmr, clear bool) (hid, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cp := C.CString(path)
	defer C.free(unsafe.Pointer(cp))
	f := C.fk_fopen_rw(cp, cbool(swmr), cbool(clear))
	return f, check(f)
}

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

func fileClear(path string) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cp := C.CString(path)
	defer C.free(unsafe.Pointer(cp))
	return check(C.fk_fclear(cp))
}

// isHDF5 reports whether path starts with an HDF5 signature; it is false on
// any error.
func isHDF5(path string) bool {
	cp := C.CString(path)
	defer C.free(unsafe.Pointer(cp))
	return C.fk_is_hdf5(cp) > 0
}

func fileClose(f hid) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return check(C.fk_fclose(f))
}

func fileFlush(f hid) error {
	if err := fault("flush"); err != nil {
		return err
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return check(C.fk_fflush(f))
}

func fileStartSWMR(f hid) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return check(C.fk_swmr(f))
}

// openObjects returns the number of HDF5 objects (files included) open in
// the process.
func openObjects() int { return int(C.fk_open_objects()) }

func dsClose(d hid) error {
	if d < 0 {
		return nil
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return check(C.fk_dclose(d))
}

func dsRefresh(d hid) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return check(C.fk_drefresh(d))
}

func dsOpen(loc hid, path string) (hid, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cp := C.CString(path)
	defer C.free(unsafe.Pointer(cp))
	d := C.fk_dopen(loc, cp)
	return d, check(d)
}

// Object kinds reported by exists.
const (
	objNone    = 0
	objDataset = 1
	objGroup   = 2
	objOther   = 3
)

func exists(loc hid, path string) (int, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cp := C.CString(path)
	defer C.free(unsafe.Pointer(cp))
	r := C.fk_exists(loc, cp)
	return int(r), check(r)
}

func objOpen(loc hid, path string) (hid, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cp := C.CString(path)
	defer C.free(unsafe.Pointer(cp))
	o := C.fk_oopen(loc, cp)
	return o, check(o)
}

func objClose(o hid) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return check(C.fk_oclose(o))
}

// dsCreate creates a float64 dataset. maxdims[k] < 0 means unlimited. A nil
// chunk gives contiguous storage.
func dsCreate(loc hid, path string, dims, maxdims, chunk []int, deflate int, shuffle, fillNaN bool) (hid, error) {
	return dsCreateAlloc(loc, path, dims, maxdims, chunk, deflate, shuffle, fillNaN, allocIncremental)
}

// Space allocation of dsCreateAlloc.
const (
	allocIncremental = C.FK_ALLOC_INCREMENTAL  // as chunks are written (HDF5's default)
	allocEarly       = C.FK_ALLOC_EARLY        // all at creation, no fill values written
	allocEarlyFilled = C.FK_ALLOC_EARLY_FILLED // all at creation, filled with the fill value
)

// dsCreateAlloc is dsCreate with the given space allocation.
func dsCreateAlloc(loc hid, path string, dims, maxdims, chunk []int, deflate int, shuffle, fillNaN bool, alloc int) (hid, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cp := C.CString(path)
	defer C.free(unsafe.Pointer(cp))
	var db, mb, cb [maxRank]C.hsize_t
	cd := cdims(db[:0], dims)
	var cm, cc []C.hsize_t
	if maxdims != nil {
		cm = mb[:0]
		for _, v := range maxdims {
			if v < 0 {
				cm = append(cm, C.H5S_UNLIMITED)
			} else {
				cm = append(cm, C.hsize_t(v))
			}
		}
	}
	if chunk != nil {
		cc = cdims(cb[:0], chunk)
	}
	sh, fn := C.int(0), C.int(0)
	if shuffle {
		sh = 1
	}
	if fillNaN {
		fn = 1
	}
	d := C.fk_dcreate(loc, cp, C.int(len(dims)), ptr(cd), ptr(cm), ptr(cc), C.int(deflate), sh, fn, C.int(alloc))
	return d, check(d)
}

func dsCreateStrings(loc hid, path string, v []string) (hid, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cp := C.CString(path)
	defer C.free(unsafe.Pointer(cp))
	arr, free := cstrings(v)
	defer free()
	d := C.fk_dcreate_strings(loc, cp, arr, C.hsize_t(len(v)))
	return d, check(d)
}

func dsWriteAll(d hid, v []float64) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var p *C.double
	if len(v) > 0 {
		p = (*C.double)(unsafe.Pointer(&v[0]))
	}
	return check(C.fk_dwrite_all(d, p))
}

func dsReadAll(d hid, v []float64) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var p *C.double
	if len(v) > 0 {
		p = (*C.double)(unsafe.Pointer(&v[0]))
	}
	return check(C.fk_dread_all(d, p))
}

// dsAppend sets the extent of d to newdims and writes row newdims[0]-1 from
// v. newdims must be in C form already, so that appends do not allocate.
func dsAppend(d hid, newdims []C.hsize_t, v []float64) error {
	if err := fault("append"); err != nil {
		return err
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var p *C.double
	if len(v) > 0 {
		p = (*C.double)(unsafe.Pointer(&v[0]))
	}
	return check(C.fk_append(d, C.int(len(newdims)), &newdims[0], newdims[0]-1, p))
}

// fileSeal makes later writes to f fail (see fk_seal).
func fileSeal(f hid) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if r := C.fk_seal(f); r < 0 {
		return errors.New("cannot seal the file")
	}
	return nil
}

// dsWriteRows writes rows [row, row+nrows) of d from v without changing
// its extent.
func dsWriteRows(d hid, row, nrows int, v []float64) error {
	if err := fault("write"); err != nil {
		return err
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var p *C.double
	if len(v) > 0 {
		p = (*C.double)(unsafe.Pointer(&v[0]))
	}
	return check(C.fk_rows(d, C.hsize_t(row), C.hsize_t(nrows), p, 1))
}

// dsSetExtent sets the extent of d to dims.
func dsSetExtent(d hid, dims []int) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var b [maxRank]C.hsize_t
	cd := cdims(b[:0], dims)
	return check(C.fk_set_extent(d, ptr(cd)))
}

func dsReadRows(d hid, row, nrows int, v []float64) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var p *C.double
	if len(v) > 0 {
		p = (*C.double)(unsafe.Pointer(&v[0]))
	}
	return check(C.fk_rows(d, C.hsize_t(row), C.hsize_t(nrows), p, 0))
}

// HDF5 type classes of interest, from H5Tpublic.h.
const (
	classInteger = int(C.H5T_INTEGER)
	classFloat   = int(C.H5T_FLOAT)
)

// dsInfo returns the current and maximum shape of d (-1 for unlimited) and
// its type class.
func dsInfo(d hid) (shape, maxShape []int, class int, err error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var dims, maxdims [maxRank]C.hsize_t
	var cls C.int
	r := C.fk_dinfo(d, &dims[0], &maxdims[0], &cls)
	if err := check(r); err != nil {
		return nil, nil, 0, err
	}
	shape = make([]int, int(r))
	maxShape = make([]int, int(r))
	for k := range shape {
		shape[k] = int(dims[k])
		if maxdims[k] == C.H5S_UNLIMITED {
			maxShape[k] = -1
		} else {
			maxShape[k] = int(maxdims[k])
		}
	}
	return shape, maxShape, int(cls), nil
}

func setScale(d hid, name string) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cp := C.CString(name)
	defer C.free(unsafe.Pointer(cp))
	return check(C.fk_set_scale(d, cp))
}

func attachScale(d, scale hid, idx int) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return check(C.fk_attach_scale(d, scale, C.uint(idx)))
}

// dimName returns the name of the dimension scale attached to dimension idx
// of d, or "" if there is none.
func dimName(d hid, idx int) string {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var buf [257]C.char
	if C.fk_dim_name(d, C.uint(idx), &buf[0]) <= 0 {
		return ""
	}
	return C.GoString(&buf[0])
}

func hardLink(f hid, src, dst string) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cs, cd := C.CString(src), C.CString(dst)
	defer C.free(unsafe.Pointer(cs))
	defer C.free(unsafe.Pointer(cd))
	return check(C.fk_hard_link(f, cs, cd))
}

// attrWrite writes (replacing) attribute name of obj. Supported values:
// string, []string, float64, []float64, int, int64, []int, []int64, bool
// (stored as int64 0 or 1).
func attrWrite(obj hid, name string, value any) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cn := C.CString(name)
	defer C.free(unsafe.Pointer(cn))
	f64 := func(v []float64, scalar C.int) C.herr_t {
		var p *C.double
		if len(v) > 0 {
			p = (*C.double)(unsafe.Pointer(&v[0]))
		}
		return C.fk_attr_f64(obj, cn, p, C.hsize_t(len(v)), scalar)
	}
	i64 := func(v []int64, scalar C.int) C.herr_t {
		var p *C.longlong
		if len(v) > 0 {
			p = (*C.longlong)(unsafe.Pointer(&v[0]))
		}
		return C.fk_attr_i64(obj, cn, p, C.hsize_t(len(v)), scalar)
	}
	strs := func(v []string, scalar C.int) C.herr_t {
		arr, free := cstrings(v)
		defer free()
		return C.fk_attr_strings(obj, cn, arr, C.hsize_t(len(v)), scalar)
	}
	var r C.herr_t
	switch v := value.(type) {
	case string:
		r = strs([]string{v}, 1)
	case []string:
		r = strs(v, 0)
	case float64:
		r = f64([]float64{v}, 1)
	case []float64:
		r = f64(v, 0)
	case int:
		r = i64([]int64{int64(v)}, 1)
	case int64:
		r = i64([]int64{v}, 1)
	case bool:
		b := int64(0)
		if v {
			b = 1
		}
		r = i64([]int64{b}, 1)
	case []int:
		w := make([]int64, len(v))
		for i, x := range v {
			w[i] = int64(x)
		}
		r = i64(w, 0)
	case []int64:
		r = i64(v, 0)
	default:
		return fmt.Errorf("unsupported attribute type %T (want string, float64, int, int64, bool or a slice of string, float64, int, int64)", value)
	}
	return check(r)
}

// maxAttrElems bounds the number of elements of an attribute read: HDF5
// keeps attributes small, and a damaged file must not make the reader
// allocate without bound.
const maxAttrElems = 1 << 24

// errAttrType reports an attribute whose HDF5 type the package cannot read.
var errAttrType = errors.New("attribute type is not string, integer or float")

// attrRead reads attribute name of obj. Strings come back as string or
// []string, integers as int64 or []int64, floats as float64 or []float64
// (scalar attributes and one-element arrays written by other tools as
// arrays are kept apart: only HDF5 scalars give Go scalars).
func attrRead(obj hid, name string) (any, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cn := C.CString(name)
	defer C.free(unsafe.Pointer(cn))
	var n C.hsize_t
	var scalar C.int
	cls := C.fk_attr_info(obj, cn, &n, &scalar)
	if err := check(cls); err != nil {
		return nil, err
	}
	if n > maxAttrElems {
		return nil, fmt.Errorf("attribute %s has %d elements, more than the %d this reader accepts", name, uint64(n), maxAttrElems)
	}
	switch cls {
	case C.FK_ATTR_STRING:
		var length C.size_t
		buf := C.fk_attr_read_strings(obj, cn, n, &length)
		if buf == nil {
			return nil, stackError()
		}
		defer C.free(unsafe.Pointer(buf))
		s := splitNUL(buf, C.size_t(n), length)
		for len(s) < int(n) {
			s = append(s, "")
		}
		if scalar != 0 {
			return s[0], nil
		}
		return s, nil
	case C.FK_ATTR_INT:
		v := make([]int64, max(int(n), 1))
		if err := check(C.fk_attr_read_i64(obj, cn, (*C.longlong)(unsafe.Pointer(&v[0])))); err != nil {
			return nil, err
		}
		if scalar != 0 {
			return v[0], nil
		}
		return v[:n], nil
	case C.FK_ATTR_FLOAT:
		v := make([]float64, max(int(n), 1))
		if err := check(C.fk_attr_read_f64(obj, cn, (*C.double)(unsafe.Pointer(&v[0])))); err != nil {
			return nil, err
		}
		if scalar != 0 {
			return v[0], nil
		}
		return v[:n], nil
	}
	return nil, errAttrType
}

func attrNames(obj hid) ([]string, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var n, length C.size_t
	buf := C.fk_attr_names(obj, &n, &length)
	if buf == nil {
		return nil, stackError()
	}
	defer C.free(unsafe.Pointer(buf))
	return splitNUL(buf, n, length), nil
}

func datasetPaths(f hid) ([]string, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var n, length C.size_t
	buf := C.fk_datasets(f, &n, &length)
	if buf == nil {
		return nil, stackError()
	}
	defer C.free(unsafe.Pointer(buf))
	s := splitNUL(buf, n, length)
	for i := range s {
		s[i] = "/" + s[i]
	}
	return s, nil
}

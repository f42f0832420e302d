package data

import (
	"errors"
	"os"
	"syscall"
)

// Open file description locks (fcntl F_OFD_*, Linux 3.15 and later). Unlike
// classic POSIX record locks they belong to the open file, not the process,
// so that closing another descriptor of the same file (say, a reader in the
// same process) does not drop them; like them, and unlike flock, they are
// independent of the flock locks that HDF5 itself takes on local file
// systems.
const (
	fOFDGETLK = 36
	fOFDSETLK = 37
)

// lockOffset is the byte the writer lock covers: far beyond the end of any
// file, so that it never meets a lock on the data.
const lockOffset = 1 << 62

// lockWriter takes the writer lock of the file at path: an exclusive lock
// held by the returned file until it is closed, or until the process dies,
// which is the point: a reader can tell a file being written from one whose
// writer was killed. It returns errLocked if another writer holds the lock,
// and (nil, nil) if the system has no such locks (liveness is then unknown).
func lockWriter(path string) (*os.File, error) {
	fh, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	lk := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: 0, Start: lockOffset, Len: 1}
	if err := syscall.FcntlFlock(fh.Fd(), fOFDSETLK, &lk); err != nil {
		fh.Close()
		if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EACCES) {
			return nil, errLocked
		}
		if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOSYS) || errors.Is(err, syscall.ENOLCK) || errors.Is(err, syscall.EOPNOTSUPP) {
			return nil, nil // no OFD locks here
		}
		return nil, err
	}
	return fh, nil
}

// writerAlive reports whether a writer holds the writer lock of the file at
// path. known is false when the system cannot tell.
func writerAlive(path string) (alive, known bool) {
	fh, err := os.Open(path)
	if err != nil {
		return false, false
	}
	defer fh.Close()
	lk := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: 0, Start: lockOffset, Len: 1}
	if err := syscall.FcntlFlock(fh.Fd(), fOFDGETLK, &lk); err != nil {
		return false, false
	}
	return lk.Type != syscall.F_UNLCK, true
}

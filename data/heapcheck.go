package data

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
)

// HDF5 keeps variable-length data (the strings of attributes such as spec
// and axes, the DIMENSION_LIST of dimension scales) in "global heap
// collections", the one kind of metadata in a 1.10 file without a checksum.
// libhdf5 1.10 trusts their structure: a collection damaged by a flipped bit
// or a bad copy makes it read outside its buffers and crash the process
// (h5py crashes on such files too). checkHeaps looks for collections and
// checks their structure the way libhdf5 parses them before it is let near
// the file, so that such a file gives an error instead.
//
// A collection is the signature "GCOL", version 1, three reserved bytes and
// its size (a length, 8 bytes in every file fokker or h5py writes), then
// objects: index (2 bytes), reference count (2), reserved (4), size
// (length), data padded to a multiple of 8. Index 0 is the free space,
// which takes the rest. HDF5 numbers the objects of a collection 1, 2, …
// as it inserts them and leaves no gaps (deleting an attribute does not
// remove its strings): an index missing or repeated is damage, and reading
// a missing index is what crashes libhdf5.

// heapScan bounds the bytes searched for collections at each end of a file:
// fokker writes its strings while setting a file up (its start), tools that
// edit attributes later append collections (its end).
const heapScan = 64 << 20

// heapHeader is the size of a collection header and of an object header
// for 8-byte lengths.
const heapHeader = 16

// checkHeaps checks the global heap collections in the first and last
// heapScan bytes of the file at path. It returns nil if it cannot read the
// file (Open reports that better) or the file does not use 8-byte lengths.
func checkHeaps(path string) error {
	fh, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		return nil
	}
	size := fi.Size()
	if !eightByteLengths(fh) {
		return nil
	}
	ranges := [][2]int64{{0, min(size, heapScan)}}
	if size > heapScan {
		ranges = append(ranges, [2]int64{max(heapScan, size-heapScan), size})
	}
	for _, r := range ranges {
		buf := make([]byte, r[1]-r[0])
		if _, err := fh.ReadAt(buf, r[0]); err != nil && err != io.EOF {
			return nil
		}
		for i := 0; ; {
			j := bytes.Index(buf[i:], []byte("GCOL"))
			if j < 0 {
				break
			}
			off := r[0] + int64(i+j)
			if err := checkHeap(fh, off, size); err != nil {
				return fmt.Errorf("damaged global heap (variable-length strings) at byte %d: %v", off, err)
			}
			i += j + 4
		}
	}
	return nil
}

// eightByteLengths reports whether the superblock at the start of the file
// (fokker writes no user block) declares 8-byte offsets and lengths.
func eightByteLengths(r io.ReaderAt) bool {
	var sb [16]byte
	if _, err := r.ReadAt(sb[:], 0); err != nil || !bytes.Equal(sb[:8], []byte("\x89HDF\r\n\x1a\n")) {
		return false
	}
	switch sb[8] {
	case 0, 1:
		return sb[13] == 8 && sb[14] == 8
	case 2, 3:
		return sb[9] == 8 && sb[10] == 8
	}
	return false
}

// checkHeap checks the collection whose signature is at off. Bytes that
// only look like a collection (not version 1, or a size that does not fit
// in the file) are not one: libhdf5 refuses to read those by itself.
func checkHeap(r io.ReaderAt, off, fileSize int64) error {
	var h [heapHeader]byte
	if _, err := r.ReadAt(h[:], off); err != nil || h[4] != 1 {
		return nil
	}
	size := binary.LittleEndian.Uint64(h[8:])
	if size < heapHeader || size > uint64(fileSize-off) {
		return nil
	}
	buf := make([]byte, size)
	if _, err := r.ReadAt(buf, off); err != nil {
		return nil
	}
	seen := map[uint16]bool{}
	maxIdx := uint16(0)
	p := uint64(heapHeader)
	for p < size {
		if p+heapHeader > size {
			break // too small for an object: free space
		}
		idx := binary.LittleEndian.Uint16(buf[p:])
		osize := binary.LittleEndian.Uint64(buf[p+8:])
		var need uint64
		if idx > 0 {
			if osize > size-p-heapHeader {
				return fmt.Errorf("object %d of %d bytes overruns the collection of %d bytes", idx, osize, size)
			}
			need = heapHeader + (osize+7)&^7
			if seen[idx] {
				return fmt.Errorf("object index %d appears twice", idx)
			}
			seen[idx] = true
			maxIdx = max(maxIdx, idx)
		} else {
			need = osize
			if need < heapHeader {
				return fmt.Errorf("free space of %d bytes", need)
			}
		}
		if need > size-p {
			return fmt.Errorf("object %d (%d bytes) overruns the collection of %d bytes", idx, need, size)
		}
		p += need
	}
	if len(seen) != int(maxIdx) {
		return fmt.Errorf("objects numbered up to %d, but %d of them present", maxIdx, len(seen))
	}
	return nil
}

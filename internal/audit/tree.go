package audit

import (
	"fmt"
	"math/bits"

	"golang.org/x/mod/sumdb/tlog"
)

// frontier returns the stored-hash indexes of the maximal complete subtrees
// that make up a tree of n records, left to right (largest first). Their
// hashes are all that is needed to append to the tree and to compute its
// root: every left sibling a new record will ever need is one of them.
func frontier(n int64) []int64 {
	var idx []int64
	for lo := int64(0); lo < n; {
		level := 63 - bits.LeadingZeros64(uint64(n-lo)) // #nosec G115 -- n > lo inside the loop, so n-lo is positive
		idx = append(idx, tlog.StoredHashIndex(level, lo>>level))
		lo += int64(1) << level
	}
	return idx
}

// tree is the right edge of a Merkle tree in memory: the frontier hashes of
// its current size plus whatever was appended since the last prune. It
// appends records and computes roots in O(log n) memory whatever the size,
// which is what the sequencer (one batch at a time) and the verifier (one
// pass over 100M leaves) need.
type tree struct {
	n      int64
	hashes map[int64]tlog.Hash
}

// newTree starts from a tree of n records whose frontier hashes are given
// in the order frontier(n) lists them.
func newTree(n int64, front []tlog.Hash) (*tree, error) {
	idx := frontier(n)
	if len(idx) != len(front) {
		return nil, fmt.Errorf("start tree of size %d: want %d frontier hashes, got %d", n, len(idx), len(front))
	}
	t := &tree{n: n, hashes: make(map[int64]tlog.Hash, 2*len(idx)+8)}
	for i, x := range idx {
		t.hashes[x] = front[i]
	}
	return t, nil
}

// ReadHashes implements tlog.HashReader over the kept hashes.
func (t *tree) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		h, ok := t.hashes[x]
		if !ok {
			return nil, fmt.Errorf("read hash %d: not on the right edge of the tree of size %d", x, t.n)
		}
		out[i] = h
	}
	return out, nil
}

// Size returns the number of records in the tree.
func (t *tree) Size() int64 { return t.n }

// Append adds a record with the given leaf hash and returns the hashes to
// store from tlog.StoredHashIndex(0, old size) on.
func (t *tree) Append(leaf tlog.Hash) ([]tlog.Hash, error) {
	hs, err := tlog.StoredHashesForRecordHash(t.n, leaf, t)
	if err != nil {
		return nil, fmt.Errorf("append record %d: %w", t.n, err)
	}
	base := tlog.StoredHashIndex(0, t.n)
	for i, h := range hs {
		t.hashes[base+int64(i)] = h
	}
	t.n++
	if len(t.hashes) > 256 {
		t.prune()
	}
	return hs, nil
}

// prune forgets every hash that is not on the frontier of the current size.
func (t *tree) prune() {
	keep := make(map[int64]tlog.Hash, 80)
	for _, x := range frontier(t.n) {
		keep[x] = t.hashes[x]
	}
	t.hashes = keep
}

// Root returns the tree hash of the current size.
func (t *tree) Root() (tlog.Hash, error) {
	h, err := tlog.TreeHash(t.n, t)
	if err != nil {
		return tlog.Hash{}, fmt.Errorf("tree hash of size %d: %w", t.n, err)
	}
	return h, nil
}

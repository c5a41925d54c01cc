// Package lru chooses what a size-limited cache evicts: the
// least-recently-used items whose sizes add up to the bytes to free. The
// client's cache (cache/badgerstore) and a host's (server) share it.
package lru

import (
	"cmp"
	"container/heap"
	"slices"
)

// Oldest collects, from items offered in any order, the least-recently-used
// ones whose sizes add up to at least an excess. It keeps only what it may
// return: once the items kept cover the excess, every newer one that is not
// needed is dropped, so memory is bounded by the result, not by the cache.
type Oldest[T any] struct {
	excess, total int64
	h             newestFirst[T]
}

// NewOldest returns an Oldest for excess bytes; access gives an item's last
// access (larger is newer) and size its size in bytes.
func NewOldest[T any](excess int64, access, size func(T) int64) *Oldest[T] {
	return &Oldest[T]{excess: excess, h: newestFirst[T]{access: access, size: size}}
}

// Offer considers one item.
func (o *Oldest[T]) Offer(item T) {
	if o.excess <= 0 {
		return
	}
	heap.Push(&o.h, item)
	o.total += o.h.size(item)
	// Drop the newest while the rest still cover the excess.
	for o.h.Len() > 0 && o.total-o.h.size(o.h.items[0]) >= o.excess {
		o.total -= o.h.size(heap.Pop(&o.h).(T))
	}
}

// Items returns the items kept, oldest first. They cover the excess unless
// all the items offered together do not.
func (o *Oldest[T]) Items() []T {
	items := slices.Clone(o.h.items)
	slices.SortFunc(items, func(a, b T) int { return cmp.Compare(o.h.access(a), o.h.access(b)) })
	return items
}

// newestFirst is a max-heap of items by access time.
type newestFirst[T any] struct {
	items        []T
	access, size func(T) int64
}

// Len, Less, Swap, Push and Pop implement heap.Interface.
func (h *newestFirst[T]) Len() int           { return len(h.items) }
func (h *newestFirst[T]) Less(i, j int) bool { return h.access(h.items[i]) > h.access(h.items[j]) }
func (h *newestFirst[T]) Swap(i, j int)      { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *newestFirst[T]) Push(x any)         { h.items = append(h.items, x.(T)) }
func (h *newestFirst[T]) Pop() any {
	last := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return last
}

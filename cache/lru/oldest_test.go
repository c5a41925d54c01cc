package lru

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
)

type item struct {
	name         string
	access, size int64
}

func pick(excess int64, items []item) []string {
	o := NewOldest(excess, func(i item) int64 { return i.access }, func(i item) int64 { return i.size })
	for _, it := range items {
		o.Offer(it)
	}
	var names []string
	for _, it := range o.Items() {
		names = append(names, it.name)
	}
	return names
}

func TestOldest(t *testing.T) {
	items := []item{{"c", 30, 10}, {"a", 10, 10}, {"e", 50, 10}, {"b", 20, 10}, {"d", 40, 10}}
	tests := []struct {
		name   string
		excess int64
		items  []item
		want   []string
	}{
		{"nothing to free", 0, items, nil},
		{"negative excess", -5, items, nil},
		{"one item covers it", 10, items, []string{"a"}},
		{"part of an item counts whole", 11, items, []string{"a", "b"}},
		{"exactly three", 30, items, []string{"a", "b", "c"}},
		{"more than there is: everything, oldest first", 1000, items, []string{"a", "b", "c", "d", "e"}},
		{"no items", 10, nil, nil},
		{"a large old item alone", 50, []item{{"new", 9, 5}, {"big", 1, 60}, {"mid", 5, 5}}, []string{"big"}},
		{"a large new item is not taken when old ones cover it", 10, []item{{"big", 9, 60}, {"o1", 1, 5}, {"o2", 2, 5}}, []string{"o1", "o2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, pick(tt.excess, tt.items))
		})
	}
}

// Whatever the order items come in, the result is the shortest prefix of
// the items sorted by access that covers the excess.
func TestOldestMatchesSortedPrefix(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for round := range 200 {
		n := r.IntN(40)
		items := make([]item, n)
		var total int64
		for i := range items {
			items[i] = item{name: string(rune('A' + i)), access: int64(i) * 3, size: 1 + r.Int64N(100)}
			total += items[i].size
		}
		excess := r.Int64N(total + 50)
		sorted := slices.Clone(items)
		var want []string
		var covered int64
		for _, it := range sorted {
			if covered >= excess {
				break
			}
			want = append(want, it.name)
			covered += it.size
		}
		r.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
		assert.Equal(t, want, pick(excess, items), "round %d excess %d", round, excess)
	}
}

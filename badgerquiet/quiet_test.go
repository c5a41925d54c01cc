package badgerquiet

import (
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Reopen switches a database between quiet and compacting, keeping what
// was written; a fresh database needs no compaction.
func TestReopenSwitchesCompactors(t *testing.T) {
	opts := Quiet(badger.DefaultOptions(t.TempDir()).WithLogger(nil))
	db, err := badger.Open(opts)
	require.NoError(t, err)
	require.NoError(t, db.Update(func(txn *badger.Txn) error { return txn.Set([]byte("k"), []byte("v")) }))
	assert.Zero(t, db.Opts().NumCompactors)
	assert.False(t, Needs(db))

	db, err = Reopen(db, opts, true)
	require.NoError(t, err)
	assert.Equal(t, Compactors, db.Opts().NumCompactors)
	assert.Equal(t, L0Stall, db.Opts().NumLevelZeroTablesStall)

	db, err = Reopen(db, opts, false)
	require.NoError(t, err)
	defer db.Close()
	assert.Zero(t, db.Opts().NumCompactors)
	require.NoError(t, db.View(func(txn *badger.Txn) error {
		item, err := txn.Get([]byte("k"))
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error {
			assert.Equal(t, "v", string(v))
			return nil
		})
	}))
}

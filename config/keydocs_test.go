package config

import "testing"

// Every key, top-level and per host, says what it does: the reference pages
// and man page are generated from these.
func TestKeyDocsComplete(t *testing.T) {
	for _, k := range KeyDocs() {
		if k.Doc == "" {
			t.Errorf("key %s has no doc", k.Name)
		}
	}
	docs := HostKeyDocs()
	if len(docs) != len(hostKeys) {
		t.Fatalf("HostKeyDocs has %d keys, hostKeys %d", len(docs), len(hostKeys))
	}
	for _, k := range docs {
		if k.Doc == "" {
			t.Errorf("[[hosts]] key %s has no doc", k.Name)
		}
	}
}

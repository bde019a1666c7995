package pubsub

import (
	"errors"
	"testing"
)

// TestSchemaCacheBounded: the cache holds at most max schemas, dropping the
// oldest first, and keeps an unusable schema's reason like a schema.
func TestSchemaCacheBounded(t *testing.T) {
	c := schemaCache{max: 2}
	bad := errors.New("does not parse")
	c.put("a", schemaEntry{})
	c.put("b", schemaEntry{err: bad})
	c.put("b", schemaEntry{err: bad}) // a second put of the same id takes no second place
	c.put("c", schemaEntry{})
	if _, ok := c.get("a"); ok {
		t.Error("the oldest schema was kept past the bound")
	}
	if e, ok := c.get("b"); !ok || !errors.Is(e.err, bad) {
		t.Errorf("b: %v %v, want its cached reason", e, ok)
	}
	if _, ok := c.get("c"); !ok || len(c.byID) != 2 || len(c.order) != 2 {
		t.Errorf("cache holds %d entries (%d in order), want 2", len(c.byID), len(c.order))
	}
}

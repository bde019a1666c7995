package pubsub

import (
	"context"
	"fmt"
	"sync"

	"github.com/hamba/avro/v2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/pubsub/pubsubpb"
)

// schemaCache holds parsed schemas by schema id, and the reason a schema is
// unusable (too large, not parseable), so a bad schema is fetched once, not
// once per event. It holds at most max entries; the oldest goes first.
type schemaCache struct {
	max   int
	mu    sync.Mutex
	byID  map[string]schemaEntry
	order []string
}

type schemaEntry struct {
	schema avro.Schema
	err    error
}

func (c *schemaCache) get(id string) (schemaEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byID[id]
	return e, ok
}

func (c *schemaCache) put(id string, e schemaEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byID == nil {
		c.byID = map[string]schemaEntry{}
	}
	if _, ok := c.byID[id]; !ok {
		c.order = append(c.order, id)
	}
	c.byID[id] = e
	for len(c.order) > c.max {
		delete(c.byID, c.order[0])
		c.order = c.order[1:]
	}
}

// schema returns the parsed schema of id, fetching it with GetSchema on a
// miss. A transport error is returned (the stream reconnects); an unusable
// schema is cached and returned as the entry's err.
func (c *Client) schema(ctx context.Context, id string) (schemaEntry, error) {
	if e, ok := c.schemas.get(id); ok {
		return e, nil
	}
	ctx, cancel := context.WithTimeout(ctx, c.rpcTimeout)
	defer cancel()
	// The call's own bound: a schema is far smaller than a batch of events.
	info, err := c.api.GetSchema(ctx, &pubsubpb.SchemaRequest{SchemaId: id}, grpc.MaxCallRecvMsgSize(c.maxSchemaBytes+4096))
	var e schemaEntry
	js := info.GetSchemaJson()
	switch code := status.Code(err); {
	case code == codes.ResourceExhausted:
		e.err = fmt.Errorf("schema %q is over the %d-byte bound: %w", id, c.maxSchemaBytes, err)
	case code == codes.NotFound || code == codes.InvalidArgument:
		// The service knows no such schema: every event that names it is
		// undecodable, and asking again would not help.
		e.err = fmt.Errorf("get schema %q: %w", id, err)
	case err != nil:
		return schemaEntry{}, fmt.Errorf("get schema %q: %w", id, err)
	case len(js) > c.maxSchemaBytes:
		e.err = fmt.Errorf("schema %q is %d bytes, over the %d-byte bound", id, len(js), c.maxSchemaBytes)
	default:
		// A fresh cache per parse: avro.Parse's global cache would keep
		// every named type of every schema ever seen.
		e.schema, err = avro.ParseWithCache(js, "", &avro.SchemaCache{})
		if err != nil {
			e.err = fmt.Errorf("schema %q does not parse: %w", id, err)
		}
	}
	c.schemas.put(id, e)
	return e, nil
}

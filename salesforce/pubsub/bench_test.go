package pubsub

import (
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest/pubsubfake"
)

func cpuTime(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkDecodeAPIEvent measures decoding ApiEventStream events (the
// Avro payload into APIEvent), and reports events per CPU-second of the
// whole process, so the figure does not depend on how busy the machine is.
func BenchmarkDecodeAPIEvent(b *testing.B) {
	sc, err := avro.ParseWithCache(pubsubfake.APIEventStreamSchema, "", &avro.SchemaCache{})
	if err != nil {
		b.Fatal(err)
	}
	payload, err := avro.Marshal(sc, map[string]any{
		"CreatedDate": int64(1767225600000), "CreatedById": "005000000000001AAA",
		"EventIdentifier": "8a7f1e0c-6d8b-4b43-9f0e-2f1c0b7a1d11", "EventDate": int64(1767225600000),
		"UserId": "005000000000002AAA", "Username": "integration@example.com", "ConnectedAppId": "0H4000000000001",
		"Application": "Data Loader", "ApiType": "REST", "Operation": "Query",
		"QueriedEntities": "Account", "RowsProcessed": float64(2000), "SourceIp": "192.0.2.10",
		"AdditionalInfo": `{"field1":"value1"}`,
	})
	if err != nil {
		b.Fatal(err)
	}
	readers := &sync.Pool{New: newReaderFunc(DefaultMaxEventBytes)}
	ev := Event{ReplayID: []byte{0, 0, 0, 0, 0, 0, 0, 1}, SchemaID: "s", payload: payload, schema: sc, readers: readers}
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	start := cpuTime(b)
	for b.Loop() {
		a, err := DecodeAPIEvent(ev)
		if err != nil || a.RowsProcessed != 2000 {
			b.Fatal(fmt.Sprint(err, a))
		}
	}
	if cpu := cpuTime(b) - start; cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "events/cpu-s")
	}
}

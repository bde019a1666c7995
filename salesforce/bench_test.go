package salesforce

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

func tokenPage(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"totalSize":2500,"done":false,"nextRecordsUrl":"/services/data/v66.0/query/01g-500","records":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"attributes":{"type":"OauthToken"},"AppName":"App %03d","AppMenuItemId":"0Pp5j00000000%02dAAA","UserId":"0055j000000%04dAAA","User":{"attributes":{"type":"User","url":"/services/data/v66.0/sobjects/User/0055j000000%04dAAA"},"IsActive":true},"CreatedDate":"2024-03-01T10:00:%02d.000+0000","LastUsedDate":"2026-11-01T10:00:00.000+0000","UseCount":%d}`, i%200, i%100, i, i, i%60, i)
	}
	b.WriteString("]}")
	return []byte(b.String())
}

// BenchmarkDecodePage decodes one 500-record OauthToken page as the client
// does; BenchmarkDecodePageV1 is the baseline, the page read as the client
// read it before: encoding/json's Decoder, record by record.
func BenchmarkDecodePage(b *testing.B) {
	page := tokenPage(OauthTokenPageSize)
	b.SetBytes(int64(len(page)))
	for b.Loop() {
		n := 0
		_, err := decodePage(bytes.NewReader(page), nil, nil, func(dec *jsontext.Decoder) error {
			var t RevocableToken
			n++
			return jsonv2.UnmarshalDecode(dec, &t, decodeOpts)
		})
		if err != nil || n != OauthTokenPageSize {
			b.Fatal(err, n)
		}
	}
}

func BenchmarkDecodePageV1(b *testing.B) {
	page := tokenPage(OauthTokenPageSize)
	b.SetBytes(int64(len(page)))
	for b.Loop() {
		dec := json.NewDecoder(bytes.NewReader(page))
		n := 0
		for {
			t, err := dec.Token()
			if err != nil {
				b.Fatal(err)
			}
			if t == "records" {
				break
			}
		}
		if _, err := dec.Token(); err != nil {
			b.Fatal(err)
		}
		for dec.More() {
			var t RevocableToken
			if err := dec.Decode(&t); err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != OauthTokenPageSize {
			b.Fatal(n)
		}
	}
}

func usageCSV(rows int) []byte {
	var b strings.Builder
	b.WriteString(`"EVENT_TYPE","TIMESTAMP","REQUEST_ID","USER_ID","API_FAMILY","CLIENT_NAME","CONNECTED_APP_ID","STATUS_CODE","CONNECTED_APP_NAME","USER_NAME"` + "\n")
	for i := range rows {
		fmt.Fprintf(&b, `"ApiTotalUsage","20251009184000.123","4kTk%d","0055j00000AT%03d","REST","sync ""nightly""","0H45j0000000%03dAAA","%d","App %03d","u%d@example.com"`+"\n", i, i%997, i%200, 200+300*(i%7/6), i%200, i)
	}
	return []byte(b.String())
}

// BenchmarkParseAPITotalUsage is the ingest parser on an ApiTotalUsage file.
func BenchmarkParseAPITotalUsage(b *testing.B) {
	data := usageCSV(20000)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		n, err := ParseAPITotalUsage(bytes.NewReader(data), func(UsageEvent) {})
		if err != nil || n != 20000 {
			b.Fatal(err, n)
		}
	}
}

// BenchmarkCSVReadAll is the baseline: encoding/csv's ReadAll on the same bytes.
func BenchmarkCSVReadAll(b *testing.B) {
	data := usageCSV(20000)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
		if err != nil || len(recs) != 20001 {
			b.Fatal(err)
		}
	}
}

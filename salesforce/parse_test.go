package salesforce

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

func TestParseLimitInfo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    APIUsage
		wantErr bool
	}{
		{"plain", "api-usage=10018/100000", APIUsage{Used: 10018, Max: 100000}, false},
		{"per app", "api-usage=25/5000; per-app-api-usage=17/250(appName=sample-app)", APIUsage{Used: 25, Max: 5000, App: &AppAPIUsage{Name: "sample-app", Used: 17, Max: 250}}, false},
		{"spaces", " api-usage = 1/2 ", APIUsage{Used: 1, Max: 2}, false},
		{"empty", "", APIUsage{}, true},
		{"garbage", "api-usage=lots", APIUsage{}, true},
		{"negative", "api-usage=-1/5", APIUsage{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseLimitInfo(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			if got.Used != tc.want.Used || got.Max != tc.want.Max || (got.App == nil) != (tc.want.App == nil) || got.App != nil && *got.App != *tc.want.App {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParseErrorBody(t *testing.T) {
	t.Parallel()
	d, body := ParseErrorBody([]byte(`[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]`))
	if len(d) != 1 || d[0].ErrorCode != "INVALID_SESSION_ID" || body != "" {
		t.Errorf("array: %+v %q", d, body)
	}
	d, _ = ParseErrorBody([]byte(`{"error":"invalid_token","error_description":"invalid token"}`))
	if len(d) != 1 || d[0].ErrorCode != "invalid_token" {
		t.Errorf("oauth object: %+v", d)
	}
	d, body = ParseErrorBody([]byte("<html><body><h1>502 Bad Gateway</h1>\x00\x01</body></html>"))
	if d != nil || body != "502 Bad Gateway" {
		t.Errorf("html: %+v %q", d, body)
	}
	d, body = ParseErrorBody(nil)
	if d != nil || body != "" {
		t.Errorf("empty: %+v %q", d, body)
	}
}

func TestParseTimeLayouts(t *testing.T) {
	t.Parallel()
	want := time.Date(2023, 12, 19, 21, 4, 35, 0, time.UTC)
	for _, s := range []string{"2023-12-19T21:04:35.000+0000", "2023-12-19T23:04:35.000+0200", "2023-12-19T21:04:35Z", "2023-12-19T21:04:35.000Z"} {
		got, err := ParseTime(s)
		if err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("%s: %v %v", s, got, err)
		}
	}
	var tm Time
	if err := json.Unmarshal([]byte("null"), &tm); err != nil || !tm.IsZero() {
		t.Errorf("null: %v %v", tm, err)
	}
	if err := json.Unmarshal([]byte(`"yesterday"`), &tm); err == nil {
		t.Error("accepted a bad datetime")
	}
}

func gz(t testing.TB, s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	io.WriteString(zw, s)
	zw.Close()
	return b.Bytes()
}

func TestParseAPITotalUsage(t *testing.T) {
	t.Parallel()
	// Columns reordered, every value quoted, doubled quotes, a quoted newline,
	// CRLF line ends, 15- and 18-character ids, an empty app, and gzip.
	csv := "\"STATUS_CODE\",\"CLIENT_NAME\",\"CONNECTED_APP_NAME\",\"EVENT_TYPE\",\"CONNECTED_APP_ID\"\r\n" +
		"\"200\",\"sync \"\"nightly\"\"\",\"My Integration\",\"ApiTotalUsage\",\"0H45j000000XyzA\"\r\n" +
		"\"503\",\"multi\r\nline\",\"My Integration\",\"ApiTotalUsage\",\"0H45j000000XyzAAAA\"\r\n" +
		"\"200\",\"\",\"\",\"ApiTotalUsage\",\"\"\r\n"
	zr, err := gzip.NewReader(bytes.NewReader(gz(t, csv)))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	n, err := ParseAPITotalUsage(zr, func(e UsageEvent) {
		got = append(got, string(e.AppID)+"|"+string(e.AppName)+"|"+itoa(e.StatusCode))
	})
	if err != nil || n != 3 {
		t.Fatalf("rows=%d err=%v", n, err)
	}
	want := []string{"0H45j000000XyzA|My Integration|200", "0H45j000000XyzAAAA|My Integration|503", "||200"}
	if strings.Join(got, ";") != strings.Join(want, ";") {
		t.Errorf("got %v, want %v", got, want)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestParseAPITotalUsageErrors(t *testing.T) {
	t.Parallel()
	// What rejects the whole file.
	cases := map[string]string{
		"":              "csv line 1: empty file: no header",
		"\"A\",\"B\"\n": "csv line 1: header lacks CONNECTED_APP_ID, CONNECTED_APP_NAME or STATUS_CODE",
		"STATUS_CODE,CONNECTED_APP_ID,CONNECTED_APP_NAME\n\"200\",\"a\n": "csv line 2: unterminated quoted field",
		strings.Repeat("X", MaxCSVRecordBytes+1) + "\n200,a,b\n":         "csv line 1: header: record longer than 65536 bytes",
	}
	for in, want := range cases {
		_, err := ParseAPITotalUsage(strings.NewReader(in), func(UsageEvent) {})
		var ce *CSVError
		if !errors.As(err, &ce) || err.Error() != want {
			t.Errorf("%.60q: err = %v, want %s", in, err, want)
		}
	}
	// A truncated gzip stream is an error, not a short file.
	full := gz(t, "STATUS_CODE,CONNECTED_APP_ID,CONNECTED_APP_NAME\n"+strings.Repeat("\"200\",\"a\",\"b\"\n", 5000))
	zr, _ := gzip.NewReader(bytes.NewReader(full[:len(full)/2]))
	if _, err := ParseAPITotalUsage(zr, func(UsageEvent) {}); err == nil {
		t.Error("truncated gzip parsed without error")
	}
}

// TestScanAPITotalUsageSkipsBadRows: one bad row does not hold back the
// file; each kind is skipped, counted, and the first one's line is given.
func TestScanAPITotalUsageSkipsBadRows(t *testing.T) {
	t.Parallel()
	const head = "STATUS_CODE,CONNECTED_APP_ID,CONNECTED_APP_NAME\n"
	good := "200,0H4a,Good\n"
	bad := map[string]string{
		"decimal status": "200.0,0H4a,App\n",
		"text status":    "\"x\",\"\",\"\"\n",
		"huge status":    "2000,0H4a,App\n",
		"negative":       "-1,0H4a,App\n",
		"short row":      "\"200\"\n",
		"text after":     "\"200\"x,\"a\",\"b\"\n",
		"long name":      "200,0H4a," + strings.Repeat("n", MaxCSVNameBytes+1) + "\n",
		"long id":        "200," + strings.Repeat("0", MaxCSVIDBytes+1) + ",App\n",
		"long record":    "200,0H4a,\"" + strings.Repeat("a\n", MaxCSVRecordBytes) + "\"\n",
		"long line":      "200,0H4a," + strings.Repeat("n", 300<<10) + "\n",
	}
	for name, row := range bad {
		t.Run(name, func(t *testing.T) {
			in := head + good + row + good
			var names []string
			s, err := ScanAPITotalUsage(strings.NewReader(in), func(e UsageEvent) { names = append(names, string(e.AppName)) })
			if err != nil {
				t.Fatalf("file rejected: %v", err)
			}
			if s.Rows != 2 || s.Skipped != 1 || s.FirstSkipped == nil || s.FirstSkipped.Line != 3 || strings.Join(names, ",") != "Good,Good" {
				t.Fatalf("scan = %+v %v, names %v; want 2 rows, 1 skipped at line 3", s, s.FirstSkipped, names)
			}
			if len(s.FirstSkipped.Error()) > 200 {
				t.Errorf("skip reason is %d bytes long", len(s.FirstSkipped.Error()))
			}
		})
	}
	// The line count stays right after a skipped multi-line record.
	s, _ := ScanAPITotalUsage(strings.NewReader(head+"200,a,\"x\ny\"z\n"+good+"x,a,b\n"), func(UsageEvent) {})
	if s.Rows != 1 || s.Skipped != 2 || s.FirstSkipped.Line != 2 {
		t.Errorf("scan = %+v", s)
	}
}

// TestScanAPITotalUsageOptionalColumns reads CLIENT_IP, ENTITY_NAME and
// USER_ID by name, and leaves them nil when the file has no such column.
func TestScanAPITotalUsageOptionalColumns(t *testing.T) {
	t.Parallel()
	in := `"EVENT_TYPE","USER_ID","CLIENT_IP","CONNECTED_APP_ID","ENTITY_NAME","STATUS_CODE","CONNECTED_APP_NAME"` + "\n" +
		`"ApiTotalUsage","0055j00000AT6I1","203.0.113.7","0H45j000000XyzA","Account","200","My Integration"` + "\n" +
		`"ApiTotalUsage","0055j00000AT6I1","Salesforce.com IP","0H45j000000XyzA","","404","My Integration"` + "\n"
	var got []string
	if _, err := ScanAPITotalUsage(strings.NewReader(in), func(e UsageEvent) {
		got = append(got, string(e.UserID)+"|"+string(e.ClientIP)+"|"+string(e.EntityName)+"|"+itoa(e.StatusCode))
	}); err != nil {
		t.Fatal(err)
	}
	want := "0055j00000AT6I1|203.0.113.7|Account|200;0055j00000AT6I1|Salesforce.com IP||404"
	if strings.Join(got, ";") != want {
		t.Errorf("got %v, want %s", got, want)
	}
	if _, err := ScanAPITotalUsage(strings.NewReader("STATUS_CODE,CONNECTED_APP_ID,CONNECTED_APP_NAME\n200,a,b\n"), func(e UsageEvent) {
		if e.UserID != nil || e.ClientIP != nil || e.EntityName != nil {
			t.Errorf("absent columns not nil: %+v", e)
		}
	}); err != nil {
		t.Fatal(err)
	}
}

// hugeField streams a header, one good row, a row whose CONNECTED_APP_NAME
// is n bytes, and another good row, without holding it.
type hugeField struct {
	pre, post []byte
	n         int
}

func (h *hugeField) Read(b []byte) (int, error) {
	switch {
	case len(h.pre) > 0:
		k := copy(b, h.pre)
		h.pre = h.pre[k:]
		return k, nil
	case h.n > 0:
		k := min(len(b), h.n)
		for i := range b[:k] {
			b[i] = 'A'
		}
		h.n -= k
		return k, nil
	case len(h.post) > 0:
		k := copy(b, h.post)
		h.post = h.post[k:]
		return k, nil
	}
	return 0, io.EOF
}

// TestScanAPITotalUsageHugeFieldBounded is issue 18's attack: a 256 MiB
// CONNECTED_APP_NAME, quoted and unquoted. The row is skipped, the rows
// around it count, and the reader allocates a few MB, not the field.
func TestScanAPITotalUsageHugeFieldBounded(t *testing.T) {
	for _, q := range []string{"", `"`} {
		in := &hugeField{
			pre:  []byte("STATUS_CODE,CONNECTED_APP_ID,CONNECTED_APP_NAME\n200,0H4a,Good\n200,0H4b," + q),
			n:    256 << 20,
			post: []byte(q + "\n200,0H4a,Good\n"),
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		var names []string
		s, err := ScanAPITotalUsage(in, func(e UsageEvent) { names = append(names, string(e.AppName)) })
		runtime.ReadMemStats(&after)
		if err != nil || s.Rows != 2 || s.Skipped != 1 || s.FirstSkipped.Line != 3 || strings.Join(names, ",") != "Good,Good" {
			t.Fatalf("quote %q: scan = %+v, err %v, names %v", q, s, err, names)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20 {
			t.Errorf("quote %q: allocated %d bytes for a 256 MiB field", q, alloc)
		}
	}
}

func TestDecodePageAnyKeyOrder(t *testing.T) {
	t.Parallel()
	var n int
	skip := func(dec *jsontext.Decoder) error { return dec.SkipValue() }
	m, err := decodePage(strings.NewReader(`{"records":[{"a":1},{"a":2}],"nextRecordsUrl":"/services/data/v66.0/query/x-2","extra":{"k":[1,2]},"done":false,"totalSize":4}`), nil, nil, func(dec *jsontext.Decoder) error { n++; return skip(dec) })
	if err != nil || n != 2 || m.TotalSize != 4 || m.Done || m.NextRecordsURL == "" {
		t.Fatalf("m=%+v n=%d err=%v", m, n, err)
	}
	if _, err := decodePage(strings.NewReader(`{"totalSize":4,"done":false,"records":[{"a":1},`), nil, nil, skip); err == nil {
		t.Error("truncated page decoded without error")
	}
}

func FuzzParseLimitInfo(f *testing.F) {
	for _, s := range []string{"api-usage=25/5000; per-app-api-usage=17/250(appName=sample-app)", "api-usage=1/2", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseLimitInfo(s)
		if err == nil && (u.Used < 0 || u.Max < 0) {
			t.Fatalf("negative usage from %q", s)
		}
	})
}

func FuzzParseErrorBody(f *testing.F) {
	for _, s := range []string{`[{"message":"x","errorCode":"NOT_FOUND"}]`, `{"error":"invalid_grant"}`, "<html>x</html>", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, body := ParseErrorBody(b)
		if len(body) > 250 || strings.ContainsAny(body, "<>\x00") {
			t.Fatalf("excerpt %q is too long or has markup", body)
		}
	})
}

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2023-12-19T21:04:35.000+0000", "2026-06-09", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := ParseTime(s)
		if err == nil && tm.Location() != time.UTC {
			t.Fatal("not UTC")
		}
	})
}

func FuzzParseAPITotalUsage(f *testing.F) {
	f.Add([]byte("\"STATUS_CODE\",\"CONNECTED_APP_ID\",\"CONNECTED_APP_NAME\"\r\n\"200\",\"0H4\",\"a \"\"b\"\"\"\r\n"))
	f.Add([]byte("STATUS_CODE,CONNECTED_APP_ID,CONNECTED_APP_NAME\n500,,\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		rows := 0
		s, _ := ScanAPITotalUsage(bytes.NewReader(b), func(e UsageEvent) {
			rows++
			if len(e.AppName) > MaxCSVNameBytes || len(e.AppID) > MaxCSVIDBytes || e.StatusCode < 0 || e.StatusCode > 999 {
				t.Fatalf("an out-of-bounds event was delivered: %d-byte name, %d-byte id, status %d", len(e.AppName), len(e.AppID), e.StatusCode)
			}
		})
		if s.Rows != rows {
			t.Fatalf("reported %d rows, delivered %d", s.Rows, rows)
		}
		if (s.Skipped == 0) != (s.FirstSkipped == nil) {
			t.Fatalf("skipped %d but first skipped %v", s.Skipped, s.FirstSkipped)
		}
	})
}

func FuzzDecodePage(f *testing.F) {
	f.Add([]byte(`{"totalSize":1,"done":true,"records":[{"attributes":{"type":"User"},"Id":"005"}]}`))
	f.Add([]byte(`{"records":null,"totalSize":0,"done":true}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = decodePage(bytes.NewReader(b), nil, nil, func(dec *jsontext.Decoder) error {
			var tok OauthToken
			return jsonv2.UnmarshalDecode(dec, &tok, decodeOpts)
		})
	})
}

// TestScanAPITotalUsageAllocationsFlat: the reader's allocations do not
// grow with the rows: its buffers are reused.
func TestScanAPITotalUsageAllocationsFlat(t *testing.T) {
	per := func(rows int) float64 {
		data := usageCSV(rows)
		return testing.AllocsPerRun(3, func() {
			s, err := ScanAPITotalUsage(bytes.NewReader(data), func(UsageEvent) {})
			if err != nil || s.Rows != rows {
				t.Fatal(err, s)
			}
		})
	}
	small, large := per(100), per(5000)
	t.Logf("%.0f allocations for 100 rows, %.0f for 5,000", small, large)
	if large > small+10 {
		t.Errorf("%.0f allocations for 100 rows, %.0f for 5,000: rows allocate", small, large)
	}
}

// TestParseFormErrorBody: the OAuth endpoints' form-encoded errors are
// decoded; text that merely holds "error=" is not taken for one.
func TestParseFormErrorBody(t *testing.T) {
	t.Parallel()
	d, body := ParseErrorBody([]byte("error=unsupported_token_type&error_description=this%20token%20type%20is%20not%20supported"))
	if len(d) != 1 || d[0].ErrorCode != "unsupported_token_type" || d[0].Message != "this token type is not supported" || body != "" {
		t.Errorf("form: %+v %q", d, body)
	}
	for _, s := range []string{"error=<script>", "the error=bad thing happened", "error=a%20b", "x=1", "error="} {
		if d, _ := ParseErrorBody([]byte(s)); d != nil {
			t.Errorf("%q decoded as %+v", s, d)
		}
	}
}

package salesforce

import (
	"bufio"
	"encoding/csv"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
)

// csvRecords reads every record with the package's reader, leaving out
// blank lines (encoding/csv skips them too).
func csvRecords(in string) ([][]string, error) {
	p := &csvReader{br: bufio.NewReaderSize(strings.NewReader(in), 256<<10)}
	var out [][]string
	for {
		rec, err := p.record()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		if len(rec) == 1 && len(rec[0]) == 0 {
			continue
		}
		var r []string
		for _, f := range rec {
			r = append(r, string(f))
		}
		out = append(out, r)
	}
}

// TestCSVReaderMatchesEncodingCSV compares the reader with encoding/csv on
// inputs that are valid RFC 4180: fields taken straight from the line and
// fields unescaped into the buffer must read the same.
func TestCSVReaderMatchesEncodingCSV(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		`"a","b","c"` + "\n" + `"1","2","3"` + "\n",
		`"a","b","c"` + "\r\n" + `"1","2","3"` + "\r\n",
		`"a","b"` + "\n" + `"1","2"`, // no final line end
		`a,b,c` + "\n" + `1,,3` + "\n",
		`"","",""` + "\n",
		`"a ""quoted"" word","x"` + "\n",
		`"""example message""","y"` + "\n",
		`"""",""""""` + "\n", // a lone quote, two quotes
		`"ends with ""","""starts"` + "\n",
		`"mixed ""one"" and plain",plain,"plain quoted"` + "\n",
		`"multi` + "\n" + `line","after"` + "\n" + `"next","row"` + "\n",
		`"multi` + "\r\n" + `line with CRLF","x"` + "\r\n",
		`"multi ""q""` + "\n" + `and ""more""","z"` + "\n",
		`"a,b","c,d",e` + "\n",
		`"a",,"c"` + "\n",
		`,,` + "\n",
		`"x"` + "\n\n" + `"y"` + "\n", // a blank line between
		`"sync ""nightly"", v2","203.0.113.7","Account"` + "\n",
		`"ümlaut ""ß""","日本"` + "\n",
		`"trailing space ","  lead"` + "\n",
	} {
		want, err := readAllCSV(in)
		if err != nil {
			t.Fatalf("%q: encoding/csv: %v", in, err)
		}
		got, err := csvRecords(in)
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		if !slices.EqualFunc(got, want, slices.Equal[[]string]) {
			t.Errorf("%q:\n got %q\nwant %q", in, got, want)
		}
	}
}

func readAllCSV(in string) ([][]string, error) {
	r := csv.NewReader(strings.NewReader(in))
	r.FieldsPerRecord = -1
	return r.ReadAll()
}

// TestCSVReaderRejectsWhatEncodingCSVRejects: text after a closing quote
// is an error in both, and the reader goes on with the next record.
func TestCSVReaderRejectsWhatEncodingCSVRejects(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{`"a"x,"b"`, `"a""b"c,"d"`, `"a","b"x`} {
		if _, err := readAllCSV(bad + "\n"); err == nil {
			t.Fatalf("%q: encoding/csv accepts it", bad)
		}
		got, err := csvRecords(bad + "\n" + `"ok","1"` + "\n")
		var re *rowError
		if !errors.As(err, &re) || re.line != 1 {
			t.Errorf("%q: %v, want a row error on line 1", bad, err)
		}
		_ = got
	}
}

// TestCSVReaderFieldsDoNotAlias: a field taken from the line cannot be
// grown over its neighbour, and an unescaped one survives the buffer
// growing for later fields.
func TestCSVReaderFieldsDoNotAlias(t *testing.T) {
	t.Parallel()
	long := strings.Repeat(`""x`, 500)
	in := `"a""1","plain","` + long + `","b""2"` + "\n"
	p := &csvReader{br: bufio.NewReaderSize(strings.NewReader(in), 256<<10)}
	rec, err := p.record()
	if err != nil {
		t.Fatal(err)
	}
	want, _ := readAllCSV(in)
	for i, f := range rec {
		if string(f) != want[0][i] {
			t.Fatalf("field %d: %q, want %q", i, f, want[0][i])
		}
	}
	_ = append(rec[1], "XXXX"...)
	if string(rec[2][:1]) != `"` || string(rec[1]) != "plain" {
		t.Fatalf("appending to a field changed its neighbour: %q", rec[2][:4])
	}
}

// TestScanAPITotalUsageTime: Time is TIMESTAMP_DERIVED, TIMESTAMP when that
// is empty or missing, nil with neither.
func TestScanAPITotalUsageTime(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, want string }{
		{`"TIMESTAMP","CONNECTED_APP_ID","STATUS_CODE","CONNECTED_APP_NAME","TIMESTAMP_DERIVED"` + "\n" +
			`"20250115102233.123","0H4","200","a","2025-01-15T10:22:33.123Z"` + "\n" +
			`"20250115102234.000","0H4","200","a",""` + "\n", "2025-01-15T10:22:33.123Z;20250115102234.000"},
		{`"TIMESTAMP","CONNECTED_APP_ID","STATUS_CODE","CONNECTED_APP_NAME"` + "\n" +
			`"20250115102233.123","0H4","200","a"` + "\n", "20250115102233.123"},
		{`"CONNECTED_APP_ID","STATUS_CODE","CONNECTED_APP_NAME"` + "\n" + `"0H4","200","a"` + "\n", "<nil>"},
	} {
		var got []string
		if _, err := ScanAPITotalUsage(strings.NewReader(c.in), func(e UsageEvent) {
			if e.Time == nil {
				got = append(got, "<nil>")
			} else {
				got = append(got, string(e.Time))
			}
		}); err != nil {
			t.Fatal(err)
		}
		if strings.Join(got, ";") != c.want {
			t.Errorf("%q: %v, want %s", c.in, got, c.want)
		}
	}
}

package binenc

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

// sample writes one value of every kind.
func sample() []byte {
	w := NewWriter(0)
	w.RawString("MAGC")
	w.Uvarint(0)
	w.Uvarint(300)
	w.Uvarint(math.MaxUint64)
	w.Varint(-1)
	w.Varint(math.MinInt64)
	w.Byte(0xfe)
	w.Raw([]byte{1, 2, 3})
	w.String("")
	w.String("ünïcode")
	w.UnixMilli(time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.UTC))
	w.UnixMilli(time.UnixMilli(-1))
	w.Uint32BE(0xdeadbeef)
	return w.Bytes()
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	b := sample()
	r := NewReader(b)
	if got := string(r.Raw("magic", 4)); got != "MAGC" {
		t.Errorf("magic %q", got)
	}
	for _, want := range []uint64{0, 300, math.MaxUint64} {
		if got := r.Uvarint("u"); got != want {
			t.Errorf("Uvarint = %d, want %d", got, want)
		}
	}
	for _, want := range []int64{-1, math.MinInt64} {
		if got := r.Varint("i"); got != want {
			t.Errorf("Varint = %d, want %d", got, want)
		}
	}
	if got := r.Byte("b"); got != 0xfe {
		t.Errorf("Byte = %#x", got)
	}
	if got := r.Raw("raw", 3); !bytes.Equal(got, []byte{1, 2, 3}) {
		t.Errorf("Raw = %v", got)
	}
	for _, want := range []string{"", "ünïcode"} {
		if got := r.String("s", 64); got != want {
			t.Errorf("String = %q, want %q", got, want)
		}
	}
	if got, want := r.UnixMilli("t"), time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.UTC); !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("UnixMilli = %v, want %v", got, want)
	}
	if got := r.UnixMilli("t"); got.UnixMilli() != -1 {
		t.Errorf("UnixMilli = %v, want -1 ms", got)
	}
	if got := r.Uint32BE("crc"); got != 0xdeadbeef {
		t.Errorf("Uint32BE = %#x", got)
	}
	if r.Err() != nil || r.Len() != 0 || r.Offset() != len(b) {
		t.Fatalf("err %v, %d bytes left, offset %d of %d", r.Err(), r.Len(), r.Offset(), len(b))
	}
}

// TestEncodingIsStable pins the bytes: the state and token files depend on
// them.
func TestEncodingIsStable(t *testing.T) {
	t.Parallel()
	w := NewWriter(0)
	w.Uvarint(300)
	w.Varint(-3)
	w.String("ab")
	w.Uint32BE(0x01020304)
	w.UnixMilli(time.UnixMilli(1))
	if got, want := w.Bytes(), []byte{0xac, 0x02, 0x05, 0x02, 'a', 'b', 1, 2, 3, 4, 0x02}; !bytes.Equal(got, want) {
		t.Fatalf("got % x, want % x", got, want)
	}
}

// TestTruncatedAnywhere: every truncation of a valid input is an error
// (never a panic, never a wrong value read as right), and the error names
// a field and an offset inside the input.
func TestTruncatedAnywhere(t *testing.T) {
	t.Parallel()
	b := sample()
	for n := range len(b) {
		r := NewReader(b[:n])
		r.Raw("magic", 4)
		r.Uvarint("u")
		r.Uvarint("u")
		r.Uvarint("u")
		r.Varint("i")
		r.Varint("i")
		r.Byte("b")
		r.Raw("raw", 3)
		r.String("s", 64)
		r.String("s", 64)
		r.UnixMilli("t")
		r.UnixMilli("t")
		r.Uint32BE("crc")
		var e *Error
		if !errors.As(r.Err(), &e) {
			t.Fatalf("cut at %d of %d: err %v", n, len(b), r.Err())
		}
		if e.Offset > n || e.Field == "" || !strings.Contains(e.Error(), e.Field) {
			t.Fatalf("cut at %d: error %+v (%q)", n, e, e.Error())
		}
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []byte
		read func(r *Reader)
		want string
	}{
		{"empty number", nil, func(r *Reader) { r.Uvarint("version") }, "at byte 0: version: truncated or malformed number"},
		{"unterminated number", []byte{0x80, 0x80}, func(r *Reader) { r.Varint("use count") }, "at byte 0: use count: truncated or malformed number"},
		{"overflowing number", bytes.Repeat([]byte{0xff}, 11), func(r *Reader) { r.Uvarint("n") }, "at byte 0: n: truncated or malformed number"},
		{"string past the end", []byte{5, 'a'}, func(r *Reader) { r.String("app name", 64) }, "at byte 1: app name: string of 5 bytes runs past the end or the 64-byte cap"},
		{"string over the cap", append([]byte{5}, "abcde"...), func(r *Reader) { r.String("app name", 4) }, "at byte 1: app name: string of 5 bytes runs past the end or the 4-byte cap"},
		{"count past the end", []byte{200, 1, 1, 1}, func(r *Reader) { r.Count("tokens", 5, math.MaxInt) }, "at byte 2: 200 tokens claimed, the rest of the file holds at most 0"},
		{"count over the cap", []byte{3, 1, 1, 1}, func(r *Reader) { r.Count("values", 1, 2) }, "at byte 1: 3 values claimed, more than the 2 allowed"},
		{"raw past the end", []byte{1}, func(r *Reader) { r.Raw("network", 2) }, "at byte 0: network: 2 bytes run past the end"},
		{"byte past the end", nil, func(r *Reader) { r.Byte("kind") }, "at byte 0: kind: truncated"},
		{"first error sticks", []byte{1}, func(r *Reader) {
			r.Uvarint("a")
			r.Uvarint("b")
			r.Fail("c", "later")
		}, "at byte 1: b: truncated or malformed number"},
		{"fail without a field", []byte{1, 2}, func(r *Reader) {
			r.Byte("a")
			r.Fail("", "%d bytes left over", r.Len())
		}, "at byte 1: 1 bytes left over"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReader(tc.in)
			tc.read(r)
			if r.Err() == nil || r.Err().Error() != tc.want {
				t.Fatalf("err %v, want %q", r.Err(), tc.want)
			}
			// After an error every read is a zero value.
			if r.Uvarint("x") != 0 || r.Varint("x") != 0 || r.String("x", 9) != "" || r.Count("x", 1, 9) != 0 || r.Raw("x", 0) != nil || r.Byte("x") != 0 {
				t.Fatal("a read after the error returned a value")
			}
		})
	}
}

func TestCountBoundsByBytesLeft(t *testing.T) {
	t.Parallel()
	// Three items of at least two bytes fit in six bytes, not in five.
	ok := NewReader([]byte{3, 0, 0, 0, 0, 0, 0})
	if n := ok.Count("apps", 2, math.MaxInt); n != 3 || ok.Err() != nil {
		t.Fatalf("count %d, err %v", n, ok.Err())
	}
	short := NewReader([]byte{3, 0, 0, 0, 0, 0})
	if n := short.Count("apps", 2, math.MaxInt); n != 0 || short.Err() == nil {
		t.Fatalf("count %d, err %v", n, short.Err())
	}
	// A huge claim is refused before the caller can allocate for it.
	w := NewWriter(0)
	w.Uvarint(1 << 62)
	huge := NewReader(w.Bytes())
	if n := huge.Count("rows", 1, math.MaxInt); n != 0 || huge.Err() == nil {
		t.Fatalf("a count of 2^62 in a few bytes: %d, err %v", n, huge.Err())
	}
}

func TestReaderAtReportsFileOffsets(t *testing.T) {
	t.Parallel()
	r := NewReaderAt([]byte{1}, 8)
	if r.Offset() != 8 {
		t.Fatalf("offset %d", r.Offset())
	}
	r.Byte("version")
	r.Uvarint("org name")
	if r.Err() == nil || r.Err().Error() != "at byte 9: org name: truncated or malformed number" {
		t.Fatalf("err %v", r.Err())
	}
}

func FuzzReader(f *testing.F) {
	f.Add(sample())
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		r := NewReader(b)
		for r.Err() == nil && r.Len() > 0 {
			switch r.Byte("op") % 5 {
			case 0:
				r.Uvarint("u")
			case 1:
				r.Varint("i")
			case 2:
				r.String("s", 1<<10)
			case 3:
				r.Raw("r", r.Count("n", 1, 1<<10))
			case 4:
				r.Uint32BE("c")
			}
			if r.Offset() > len(b) {
				t.Fatalf("offset %d past %d bytes", r.Offset(), len(b))
			}
		}
	})
}

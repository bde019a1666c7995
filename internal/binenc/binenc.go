// Package binenc writes and reads the exporter's binary file formats (the
// detection state and the token store): varints, length-prefixed strings,
// raw bytes and times, appended by a Writer and read back by a Reader that
// never reads past its input and never allocates for what the input cannot
// hold.
//
// A Reader's first error sticks: every later read returns a zero value, so
// a decoder reads a whole structure and checks Err once. The error names
// the field being read and the byte offset in the file, so a damaged file is
// reported as where it is damaged.
package binenc

import (
	"encoding/binary"
	"fmt"
	"time"
)

// Writer appends encoded values to a byte slice.
type Writer struct {
	b []byte
}

// NewWriter returns a Writer with room for size bytes.
func NewWriter(size int) *Writer { return &Writer{b: make([]byte, 0, size)} }

// Bytes returns what was written.
func (w *Writer) Bytes() []byte { return w.b }

// Len is the number of bytes written.
func (w *Writer) Len() int { return len(w.b) }

// Uvarint writes v as an unsigned varint.
func (w *Writer) Uvarint(v uint64) { w.b = binary.AppendUvarint(w.b, v) }

// Varint writes v as a signed (zig-zag) varint.
func (w *Writer) Varint(v int64) { w.b = binary.AppendVarint(w.b, v) }

// Byte writes one byte.
func (w *Writer) Byte(c byte) { w.b = append(w.b, c) }

// Raw writes p as is.
func (w *Writer) Raw(p []byte) { w.b = append(w.b, p...) }

// RawString writes s as is, without its length.
func (w *Writer) RawString(s string) { w.b = append(w.b, s...) }

// String writes s's length as a varint, then s.
func (w *Writer) String(s string) {
	w.Uvarint(uint64(len(s)))
	w.b = append(w.b, s...)
}

// UnixMilli writes t as signed Unix milliseconds.
func (w *Writer) UnixMilli(t time.Time) { w.Varint(t.UnixMilli()) }

// Uint32BE writes v as four big-endian bytes.
func (w *Writer) Uint32BE(v uint32) { w.b = binary.BigEndian.AppendUint32(w.b, v) }

// Error is a Reader's failure: at which byte offset of the file (see
// NewReaderAt), in which field, and what was wrong.
type Error struct {
	Offset int
	Field  string
	// Msg says what was wrong; it names the field.
	Msg string
}

func (e *Error) Error() string { return fmt.Sprintf("at byte %d: %s", e.Offset, e.Msg) }

// Reader reads encoded values from a byte slice. Its first error sticks.
type Reader struct {
	b    []byte
	off  int
	base int
	err  error
}

// NewReader returns a Reader of b.
func NewReader(b []byte) *Reader { return &Reader{b: b} }

// NewReaderAt returns a Reader of b, which starts at byte base of its file:
// errors give offsets in the file.
func NewReaderAt(b []byte, base int) *Reader { return &Reader{b: b, base: base} }

// Err is the first error, or nil.
func (r *Reader) Err() error { return r.err }

// Offset is the offset in the file of the next byte to read.
func (r *Reader) Offset() int { return r.base + r.off }

// Len is the number of bytes left.
func (r *Reader) Len() int { return len(r.b) - r.off }

// Fail records an error in field at the current offset, unless there is
// one already. Its message is the field's name, then the formatted text.
func (r *Reader) Fail(field, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if field != "" {
		msg = field + ": " + msg
	}
	r.fail(field, msg)
}

func (r *Reader) fail(field, msg string) {
	if r.err == nil {
		r.err = &Error{Offset: r.Offset(), Field: field, Msg: msg}
	}
}

// Uvarint reads an unsigned varint.
func (r *Reader) Uvarint(field string) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b[r.off:])
	if n <= 0 {
		r.Fail(field, "truncated or malformed number")
		return 0
	}
	r.off += n
	return v
}

// Varint reads a signed varint.
func (r *Reader) Varint(field string) int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b[r.off:])
	if n <= 0 {
		r.Fail(field, "truncated or malformed number")
		return 0
	}
	r.off += n
	return v
}

// Byte reads one byte.
func (r *Reader) Byte(field string) byte {
	if r.err != nil {
		return 0
	}
	if r.off >= len(r.b) {
		r.Fail(field, "truncated")
		return 0
	}
	c := r.b[r.off]
	r.off++
	return c
}

// Raw reads n bytes. The slice returned is the Reader's input, not a copy.
func (r *Reader) Raw(field string, n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > r.Len() {
		r.Fail(field, "%d bytes run past the end", n)
		return nil
	}
	p := r.b[r.off : r.off+n]
	r.off += n
	return p
}

// String reads a length and that many bytes, and refuses a length over
// maxLen or past the end before it allocates.
func (r *Reader) String(field string, maxLen int) string {
	n := r.Uvarint(field)
	if r.err != nil {
		return ""
	}
	if n > uint64(maxLen) || n > uint64(r.Len()) {
		r.Fail(field, "string of %d bytes runs past the end or the %d-byte cap", n, maxLen)
		return ""
	}
	s := string(r.b[r.off : r.off+int(n)])
	r.off += int(n)
	return s
}

// Count reads a count of items that take at least each bytes apiece (each
// at least 1), and refuses one over maxCount or one the rest of the input
// cannot hold: nothing is allocated for items that are not there.
func (r *Reader) Count(field string, each, maxCount int) int {
	n := r.Uvarint(field)
	if r.err != nil {
		return 0
	}
	if n > uint64(maxCount) {
		r.fail(field, fmt.Sprintf("%d %s claimed, more than the %d allowed", n, field, maxCount))
		return 0
	}
	if left := uint64(r.Len()) / uint64(max(each, 1)); n > left {
		r.fail(field, fmt.Sprintf("%d %s claimed, the rest of the file holds at most %d", n, field, left))
		return 0
	}
	return int(n)
}

// UnixMilli reads signed Unix milliseconds as a UTC time.
func (r *Reader) UnixMilli(field string) time.Time { return time.UnixMilli(r.Varint(field)).UTC() }

// Uint32BE reads four big-endian bytes.
func (r *Reader) Uint32BE(field string) uint32 {
	p := r.Raw(field, 4)
	if p == nil {
		return 0
	}
	return binary.BigEndian.Uint32(p)
}

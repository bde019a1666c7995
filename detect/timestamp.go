package detect

// ParseTimestamp reads an ELF row time as Unix seconds (the fraction
// dropped), without allocating. It takes:
//
//   - TIMESTAMP_DERIVED as Salesforce writes it, "2025-01-15T10:22:33.123Z"
//     (the fast path), and any other RFC 3339 time: another precision or
//     none, an offset "+01:00" instead of Z;
//   - the REST API's offset without a colon, "2025-01-15T10:22:33.123+0000";
//   - ELF TIMESTAMP, "20250115102233.123" (GMT), with or without a fraction.
//
// Surrounding spaces are ignored. ok is false for anything else, and for a
// date or time that does not exist (February 30th, hour 24, second 60).
func ParseTimestamp(b []byte) (unix int64, ok bool) {
	if len(b) == 24 && b[4] == '-' && b[7] == '-' && b[10] == 'T' && b[13] == ':' && b[16] == ':' && b[19] == '.' && b[23] == 'Z' &&
		digits(b[20:23]) {
		return rfc3339Clock(b)
	}
	return parseTimestampSlow(b)
}

// parseTimestampSlow is ParseTimestamp for every form.
func parseTimestampSlow(b []byte) (int64, bool) {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	if len(b) >= 14 && digits(b[:14]) {
		// TIMESTAMP: 14 digits and an optional fraction; GMT.
		if rest := b[14:]; len(rest) > 0 && (rest[0] != '.' || len(rest) < 2 || !digits(rest[1:])) {
			return 0, false
		}
		return civil(num(b[0:4]), num(b[4:6]), num(b[6:8]), num(b[8:10]), num(b[10:12]), num(b[12:14]))
	}
	if len(b) < 20 || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' {
		return 0, false
	}
	unix, ok := rfc3339Clock(b)
	if !ok {
		return 0, false
	}
	rest := b[19:]
	if len(rest) >= 2 && rest[0] == '.' && rest[1] >= '0' && rest[1] <= '9' {
		n := 2
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		rest = rest[n:]
	}
	switch {
	case len(rest) == 1 && rest[0] == 'Z':
		return unix, true
	case len(rest) == 6 && rest[3] == ':' && digits(rest[1:3]) && digits(rest[4:6]): // +01:00
	case len(rest) == 5 && digits(rest[1:5]): // +0100
		rest = []byte{rest[0], rest[1], rest[2], ':', rest[3], rest[4]}
	default:
		return 0, false
	}
	if rest[0] != '+' && rest[0] != '-' {
		return 0, false
	}
	oh, om := num(rest[1:3]), num(rest[4:6])
	if oh > 23 || om > 59 {
		return 0, false
	}
	off := int64(oh*3600 + om*60)
	if rest[0] == '-' {
		off = -off
	}
	return unix - off, true
}

// rfc3339Clock reads the "2006-01-02T15:04:05" of b, its separators
// already checked.
func rfc3339Clock(b []byte) (int64, bool) {
	if !digits(b[0:4]) || !digits(b[5:7]) || !digits(b[8:10]) || !digits(b[11:13]) || !digits(b[14:16]) || !digits(b[17:19]) {
		return 0, false
	}
	return civil(num(b[0:4]), num(b[5:7]), num(b[8:10]), num(b[11:13]), num(b[14:16]), num(b[17:19]))
}

// civil is a UTC date and time as Unix seconds; ok is false when it does
// not exist.
func civil(y, mo, d, h, mi, s int) (int64, bool) {
	if mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || h > 23 || mi > 59 || s > 59 {
		return 0, false
	}
	return daysFromCivil(y, mo, d)*86400 + int64(h*3600+mi*60+s), true
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

func digits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func num(b []byte) int {
	n := 0
	for _, c := range b {
		n = n*10 + int(c-'0')
	}
	return n
}

// daysFromCivil is days since 1970-01-01 of a proleptic Gregorian date
// (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era*146097 + doe - 719468)
}

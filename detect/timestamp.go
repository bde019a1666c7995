package detect

// ParseTimestamp reads an ELF TIMESTAMP ("20251009184000.123", GMT) or
// TIMESTAMP_DERIVED ("2025-10-09T18:40:00.123Z") value as Unix seconds,
// without allocating. ok is false for anything else; Add then uses the
// period's start.
func ParseTimestamp(b []byte) (unix int64, ok bool) {
	var y, mo, d, h, mi, s int
	switch {
	case len(b) >= 14 && digits(b[:14]):
		y, mo, d = num(b[0:4]), num(b[4:6]), num(b[6:8])
		h, mi, s = num(b[8:10]), num(b[10:12]), num(b[12:14])
	case len(b) >= 19 && b[4] == '-' && b[7] == '-' && b[10] == 'T' && b[13] == ':' && b[16] == ':' &&
		digits(b[0:4]) && digits(b[5:7]) && digits(b[8:10]) && digits(b[11:13]) && digits(b[14:16]) && digits(b[17:19]):
		y, mo, d = num(b[0:4]), num(b[5:7]), num(b[8:10])
		h, mi, s = num(b[11:13]), num(b[14:16]), num(b[17:19])
	default:
		return 0, false
	}
	if mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60 {
		return 0, false
	}
	return daysFromCivil(y, mo, d)*86400 + int64(h*3600+mi*60+s), true
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
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era*146097 + doe - 719468)
}

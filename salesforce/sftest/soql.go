package sftest

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// The SOQL subset the client sends: SELECT fields, relationship paths and
// aggregates with aliases; FROM one object; WHERE with AND, OR, NOT,
// parentheses, comparisons and IN; GROUP BY; ORDER BY ... ASC|DESC
// [NULLS FIRST|LAST]; LIMIT; OFFSET.

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tString
	tNumber
	tDateTime
	tDate
	tOp
	tLParen
	tRParen
	tComma
)

type lexTok struct {
	kind tokKind
	text string
	pos  int
}

func lex(s string) ([]lexTok, error) {
	var out []lexTok
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case unicode.IsSpace(rune(c)):
			i++
		case c == '(':
			out = append(out, lexTok{tLParen, "(", i})
			i++
		case c == ')':
			out = append(out, lexTok{tRParen, ")", i})
			i++
		case c == ',':
			out = append(out, lexTok{tComma, ",", i})
			i++
		case c == '\'':
			j := i + 1
			var b strings.Builder
			for ; j < len(s) && s[j] != '\''; j++ {
				if s[j] == '\\' && j+1 < len(s) {
					j++
					switch s[j] {
					case 'n':
						b.WriteByte('\n')
					case 'r':
						b.WriteByte('\r')
					case 't':
						b.WriteByte('\t')
					default:
						b.WriteByte(s[j])
					}
					continue
				}
				b.WriteByte(s[j])
			}
			if j >= len(s) {
				return nil, syntaxErr(s, i, "unterminated string")
			}
			out = append(out, lexTok{tString, b.String(), i})
			i = j + 1
		case c == '=' || c == '<' || c == '>' || c == '!':
			j := i + 1
			if j < len(s) && (s[j] == '=' || (c == '<' && s[j] == '>')) {
				j++
			}
			op := s[i:j]
			if op == "!" {
				return nil, syntaxErr(s, i, "unexpected token: '!'")
			}
			out = append(out, lexTok{tOp, op, i})
			i = j
		case c >= '0' && c <= '9' || c == '-' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
			j := i + 1
			for j < len(s) && strings.IndexByte("0123456789.-:TZ+", s[j]) >= 0 {
				j++
			}
			lit := s[i:j]
			switch {
			case strings.Contains(lit, "T"):
				out = append(out, lexTok{tDateTime, lit, i})
			case strings.Count(lit, "-") == 2 && len(lit) == 10:
				out = append(out, lexTok{tDate, lit, i})
			default:
				if _, err := strconv.ParseFloat(lit, 64); err != nil {
					return nil, syntaxErr(s, i, "unexpected token: '"+lit+"'")
				}
				out = append(out, lexTok{tNumber, lit, i})
			}
			i = j
		case c == '_' || unicode.IsLetter(rune(c)):
			j := i + 1
			for j < len(s) && (s[j] == '_' || s[j] == '.' || s[j] == ':' || unicode.IsLetter(rune(s[j])) || unicode.IsDigit(rune(s[j]))) {
				j++
			}
			out = append(out, lexTok{tIdent, s[i:j], i})
			i = j
		default:
			return nil, syntaxErr(s, i, fmt.Sprintf("unexpected token: '%c'", c))
		}
	}
	return append(out, lexTok{tEOF, "", len(s)}), nil
}

// soqlError is a query error with Salesforce's errorCode.
type soqlError struct {
	code, msg string
}

func (e *soqlError) Error() string { return e.code + ": " + e.msg }

func syntaxErr(q string, pos int, msg string) error {
	return &soqlError{"MALFORMED_QUERY", fmt.Sprintf("\n%s\n%s^\nERROR at Row:1:Column:%d\n%s", q, strings.Repeat(" ", pos), pos+1, msg)}
}

type selectItem struct {
	fn    string // "" for a plain field; COUNT, COUNT_DISTINCT, SUM, MIN, MAX, AVG
	field string // path, "" for COUNT()
	alias string
}

type cond struct {
	op          string // AND, OR, NOT, CMP, IN, NOTIN
	left, right *cond
	field       string
	cmp         string
	val         value
	vals        []value
}

type orderItem struct {
	field      string
	desc       bool
	nullsFirst bool
}

type query struct {
	text      string
	items     []selectItem
	object    string
	where     *cond
	groupBy   []string
	orderBy   []orderItem
	limit     int // -1 none
	offset    int
	countOnly bool
	version   string // the request's API version ("" when unknown)
}

type parser struct {
	q    string
	toks []lexTok
	i    int
}

func (p *parser) peek() lexTok { return p.toks[p.i] }
func (p *parser) next() lexTok { t := p.toks[p.i]; p.i++; return t }
func (p *parser) isKw(kw string) bool {
	t := p.peek()
	return t.kind == tIdent && strings.EqualFold(t.text, kw)
}
func (p *parser) expectKw(kw string) error {
	if !p.isKw(kw) {
		return p.unexpected()
	}
	p.i++
	return nil
}
func (p *parser) unexpected() error {
	t := p.peek()
	if t.kind == tEOF {
		return syntaxErr(p.q, t.pos, "unexpected token: '<EOF>'")
	}
	return syntaxErr(p.q, t.pos, "unexpected token: '"+t.text+"'")
}

var aggFns = map[string]bool{"COUNT": true, "COUNT_DISTINCT": true, "SUM": true, "MIN": true, "MAX": true, "AVG": true}

var reserved = map[string]bool{"FROM": true, "WHERE": true, "GROUP": true, "ORDER": true, "LIMIT": true, "OFFSET": true, "AND": true, "OR": true, "NOT": true, "IN": true, "BY": true, "ASC": true, "DESC": true, "NULLS": true, "SELECT": true}

func parseSOQL(q string) (*query, error) {
	toks, err := lex(q)
	if err != nil {
		return nil, err
	}
	p := &parser{q: q, toks: toks}
	out := &query{text: q, limit: -1}
	if err := p.expectKw("SELECT"); err != nil {
		return nil, err
	}
	for {
		t := p.next()
		if t.kind != tIdent || reserved[strings.ToUpper(t.text)] {
			p.i--
			return nil, p.unexpected()
		}
		it := selectItem{field: t.text}
		if p.peek().kind == tLParen {
			fn := strings.ToUpper(t.text)
			if !aggFns[fn] {
				return nil, &soqlError{"INVALID_FIELD", fmt.Sprintf("\n%s\nERROR at Row:1:Column:%d\nUnknown function %s", q, t.pos+1, t.text)}
			}
			p.next()
			it = selectItem{fn: fn}
			if p.peek().kind == tIdent {
				it.field = p.next().text
			} else if fn != "COUNT" {
				return nil, p.unexpected()
			}
			if p.next().kind != tRParen {
				p.i--
				return nil, p.unexpected()
			}
			if it.fn == "COUNT" && it.field == "" {
				out.countOnly = true
			}
		}
		if p.peek().kind == tIdent && !reserved[strings.ToUpper(p.peek().text)] {
			it.alias = p.next().text
		}
		out.items = append(out.items, it)
		if p.peek().kind != tComma {
			break
		}
		p.next()
	}
	if err := p.expectKw("FROM"); err != nil {
		return nil, err
	}
	t := p.next()
	if t.kind != tIdent {
		p.i--
		return nil, p.unexpected()
	}
	out.object = t.text
	if p.isKw("WHERE") {
		p.next()
		c, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		out.where = c
	}
	if p.isKw("GROUP") {
		p.next()
		if err := p.expectKw("BY"); err != nil {
			return nil, err
		}
		for {
			t := p.next()
			if t.kind != tIdent {
				p.i--
				return nil, p.unexpected()
			}
			out.groupBy = append(out.groupBy, t.text)
			if p.peek().kind != tComma {
				break
			}
			p.next()
		}
	}
	if p.isKw("ORDER") {
		p.next()
		if err := p.expectKw("BY"); err != nil {
			return nil, err
		}
		for {
			t := p.next()
			if t.kind != tIdent {
				p.i--
				return nil, p.unexpected()
			}
			o := orderItem{field: t.text}
			if p.isKw("ASC") {
				p.next()
			} else if p.isKw("DESC") {
				p.next()
				o.desc = true
			}
			o.nullsFirst = !o.desc
			if p.isKw("NULLS") {
				p.next()
				switch {
				case p.isKw("FIRST"):
					o.nullsFirst = true
				case p.isKw("LAST"):
					o.nullsFirst = false
				default:
					return nil, p.unexpected()
				}
				p.next()
			}
			out.orderBy = append(out.orderBy, o)
			if p.peek().kind != tComma {
				break
			}
			p.next()
		}
	}
	if p.isKw("LIMIT") {
		p.next()
		t := p.next()
		n, err := strconv.Atoi(t.text)
		if t.kind != tNumber || err != nil || n < 0 {
			p.i--
			return nil, p.unexpected()
		}
		out.limit = n
	}
	if p.isKw("OFFSET") {
		p.next()
		t := p.next()
		n, err := strconv.Atoi(t.text)
		if t.kind != tNumber || err != nil || n < 0 {
			p.i--
			return nil, p.unexpected()
		}
		out.offset = n
	}
	if p.peek().kind != tEOF {
		return nil, p.unexpected()
	}
	if out.countOnly && (len(out.items) > 1 || len(out.orderBy) > 0) {
		return nil, &soqlError{"MALFORMED_QUERY", "COUNT() must be the only element in the SELECT list and can't be used with ORDER BY"}
	}
	return out, nil
}

func (p *parser) parseOr() (*cond, error) {
	l, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	for p.isKw("OR") {
		p.next()
		r, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		l = &cond{op: "OR", left: l, right: r}
	}
	return l, nil
}

func (p *parser) parseAnd() (*cond, error) {
	l, err := p.parseNot()
	if err != nil {
		return nil, err
	}
	for p.isKw("AND") {
		p.next()
		r, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		l = &cond{op: "AND", left: l, right: r}
	}
	return l, nil
}

func (p *parser) parseNot() (*cond, error) {
	if p.isKw("NOT") {
		p.next()
		c, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		return &cond{op: "NOT", left: c}, nil
	}
	if p.peek().kind == tLParen {
		p.next()
		c, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if p.next().kind != tRParen {
			p.i--
			return nil, p.unexpected()
		}
		return c, nil
	}
	t := p.next()
	if t.kind != tIdent || reserved[strings.ToUpper(t.text)] {
		p.i--
		return nil, p.unexpected()
	}
	c := &cond{field: t.text}
	switch {
	case p.isKw("IN"), p.isKw("NOT"):
		c.op = "IN"
		if p.isKw("NOT") {
			p.next()
			c.op = "NOTIN"
			if !p.isKw("IN") {
				return nil, p.unexpected()
			}
		}
		p.next()
		if p.next().kind != tLParen {
			p.i--
			return nil, p.unexpected()
		}
		for {
			v, err := p.parseValue()
			if err != nil {
				return nil, err
			}
			c.vals = append(c.vals, v)
			if p.peek().kind == tComma {
				p.next()
				continue
			}
			break
		}
		if p.next().kind != tRParen {
			p.i--
			return nil, p.unexpected()
		}
		return c, nil
	case p.peek().kind == tOp:
		c.op, c.cmp = "CMP", p.next().text
		if c.cmp == "<>" {
			c.cmp = "!="
		}
		v, err := p.parseValue()
		if err != nil {
			return nil, err
		}
		c.val = v
		return c, nil
	}
	return nil, p.unexpected()
}

func (p *parser) parseValue() (value, error) {
	t := p.next()
	switch t.kind {
	case tString:
		return strVal(t.text), nil
	case tNumber:
		f, _ := strconv.ParseFloat(t.text, 64)
		return numVal(f), nil
	case tDateTime:
		tm, err := parseLiteralTime(t.text)
		if err != nil {
			return value{}, &soqlError{"INVALID_QUERY_FILTER_OPERATOR", fmt.Sprintf("value of filter criterion for field is invalid: %s", t.text)}
		}
		return timeVal(tm), nil
	case tDate:
		tm, err := time.Parse("2006-01-02", t.text)
		if err != nil {
			return value{}, &soqlError{"INVALID_QUERY_FILTER_OPERATOR", "invalid date: " + t.text}
		}
		return value{k: kDate, t: tm.UnixMilli()}, nil
	case tIdent:
		switch strings.ToLower(t.text) {
		case "null":
			return value{}, nil
		case "true":
			return boolVal(true), nil
		case "false":
			return boolVal(false), nil
		}
	}
	p.i--
	return value{}, p.unexpected()
}

func parseLiteralTime(s string) (time.Time, error) {
	for _, l := range []string{"2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05.000Z07:00", "2006-01-02T15:04:05Z0700", "2006-01-02T15:04:05.000Z0700"} {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("bad datetime %q", s)
}

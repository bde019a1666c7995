package sftest

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// accessor reads one (possibly relationship) field path of a row.
type accessor struct {
	path   string // as written in SOQL
	rel    *relDef
	target *objectDef
	fd     *fieldDef
}

func (a *accessor) get(o *Org, r int) value {
	if a.rel != nil {
		t := a.rel.fk(o, r)
		if t < 0 || a.rel.shared && !a.target.visible(o, t) {
			return value{}
		}
		return a.fd.get(o, t)
	}
	return a.fd.get(o, r)
}

func invalidField(q *query, path, msg string) error {
	return &soqlError{"INVALID_FIELD", fmt.Sprintf("\n%s\nERROR at Row:1:Column:1\n%s", q.text, msg)}
}

func resolve(o *Org, q *query, d *objectDef, path string) (*accessor, error) {
	parts := strings.Split(path, ".")
	switch len(parts) {
	case 1:
		fd := d.fields[strings.ToLower(path)]
		if !fieldExists(o, q, fd) {
			return nil, invalidField(q, path, fmt.Sprintf("No such column '%s' on entity '%s'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.", path, d.name))
		}
		return &accessor{path: path, fd: fd}, nil
	case 2:
		rel := d.rels[strings.ToLower(parts[0])]
		if rel == nil {
			return nil, invalidField(q, path, fmt.Sprintf("Didn't understand relationship '%s' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.", parts[0]))
		}
		target := schema[rel.target]
		fd := target.fields[strings.ToLower(parts[1])]
		if !fieldExists(o, q, fd) {
			return nil, invalidField(q, path, fmt.Sprintf("No such column '%s' on entity '%s'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.", parts[1], target.name))
		}
		return &accessor{path: path, rel: rel, target: target, fd: fd}, nil
	}
	return nil, invalidField(q, path, "No such column '"+path+"' on entity '"+d.name+"'.")
}

// compiled is a query bound to the schema.
type compiled struct {
	q     *query
	d     *objectDef
	items []*accessor // nil for COUNT()
	where func(o *Org, r int) bool
	group []*accessor
	order []*accessor
	agg   bool
}

// fieldExists reports whether the org has the field at the query's API
// version: a field newer than the version, or of a feature the org has not
// turned on, is INVALID_FIELD, as in Salesforce.
func fieldExists(o *Org, q *query, fd *fieldDef) bool {
	if fd == nil || fd.exists != nil && !fd.exists(o) {
		return false
	}
	if fd.since == "" || q.version == "" {
		return true
	}
	v, err1 := strconv.ParseFloat(q.version, 64)
	since, err2 := strconv.ParseFloat(fd.since, 64)
	return err1 != nil || err2 != nil || v >= since
}

// objectExists reports whether the query's API version has the object.
func objectExists(q *query, d *objectDef) bool {
	if d.since == "" || q.version == "" {
		return true
	}
	v, err1 := strconv.ParseFloat(q.version, 64)
	since, err2 := strconv.ParseFloat(d.since, 64)
	return err1 != nil || err2 != nil || v >= since
}

func compile(o *Org, q *query) (*compiled, error) {
	d := schema[strings.ToLower(q.object)]
	if d != nil && d.name == "ExternalClientApplication" && o.Behavior.NoExternalClientApplication {
		d = nil
	}
	if d == nil || d.access != nil && !d.access(o) || !objectExists(q, d) {
		return nil, &soqlError{"INVALID_TYPE", fmt.Sprintf("\n%s\nERROR at Row:1:Column:1\nsObject type '%s' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.", q.text, q.object)}
	}
	if d.big != nil {
		if err := checkBigObject(q, d); err != nil {
			return nil, err
		}
	}
	c := &compiled{q: q, d: d}
	for _, it := range q.items {
		if it.fn != "" {
			c.agg = true
		}
		if it.field == "" {
			c.items = append(c.items, nil)
			continue
		}
		a, err := resolve(o, q, d, it.field)
		if err != nil {
			return nil, err
		}
		c.items = append(c.items, a)
	}
	c.agg = c.agg && !q.countOnly || len(q.groupBy) > 0
	for _, g := range q.groupBy {
		a, err := resolve(o, q, d, g)
		if err != nil {
			return nil, err
		}
		if !a.fd.group {
			return nil, invalidField(q, g, fmt.Sprintf("field '%s' can not be grouped in a query call", a.fd.name))
		}
		c.group = append(c.group, a)
	}
	if c.agg {
		if d.noAggs != nil && d.noAggs(o) {
			return nil, &soqlError{"MALFORMED_QUERY", fmt.Sprintf("\n%s\nERROR at Row:1:Column:1\nAggregate queries are not supported on entity '%s'", q.text, d.name)}
		}
		for i, it := range q.items {
			if it.fn != "" {
				continue
			}
			if !slices.ContainsFunc(q.groupBy, func(g string) bool { return strings.EqualFold(g, it.field) }) {
				return nil, &soqlError{"MALFORMED_QUERY", fmt.Sprintf("\n%s\nERROR at Row:1:Column:1\nField must be grouped or aggregated: %s", q.text, c.items[i].fd.name)}
			}
		}
		if len(q.groupBy) == 0 && q.limit >= 0 {
			return nil, &soqlError{"MALFORMED_QUERY", "You can't use a LIMIT clause in a query that uses an aggregate function, but does not use a GROUP BY clause"}
		}
	}
	for _, ob := range q.orderBy {
		a, err := resolve(o, q, d, ob.field)
		if err != nil {
			return nil, err
		}
		c.order = append(c.order, a)
	}
	if q.where != nil {
		w, err := compileCond(o, q, d, q.where)
		if err != nil {
			return nil, err
		}
		c.where = w
	}
	return c, nil
}

func compileCond(o *Org, q *query, d *objectDef, cd *cond) (func(*Org, int) bool, error) {
	switch cd.op {
	case "AND", "OR":
		l, err := compileCond(o, q, d, cd.left)
		if err != nil {
			return nil, err
		}
		r, err := compileCond(o, q, d, cd.right)
		if err != nil {
			return nil, err
		}
		if cd.op == "AND" {
			return func(o *Org, i int) bool { return l(o, i) && r(o, i) }, nil
		}
		return func(o *Org, i int) bool { return l(o, i) || r(o, i) }, nil
	case "NOT":
		l, err := compileCond(o, q, d, cd.left)
		if err != nil {
			return nil, err
		}
		return func(o *Org, i int) bool { return !l(o, i) }, nil
	}
	a, err := resolve(o, q, d, cd.field)
	if err != nil {
		return nil, err
	}
	if !a.fd.filter {
		return nil, invalidField(q, cd.field, fmt.Sprintf("field '%s' can not be filtered in query call", a.fd.name))
	}
	if a.rel != nil && !o.Behavior.RelationshipFilters {
		return nil, invalidField(q, cd.field, fmt.Sprintf("field '%s' can not be filtered in query call", cd.field))
	}
	switch cd.op {
	case "IN", "NOTIN":
		vals, neg := cd.vals, cd.op == "NOTIN"
		return func(o *Org, i int) bool {
			v := a.get(o, i)
			in := slices.ContainsFunc(vals, func(x value) bool { return equal(v, x) })
			return in != neg
		}, nil
	}
	lit, cmp := cd.val, cd.cmp
	return func(o *Org, i int) bool {
		v := a.get(o, i)
		switch cmp {
		case "=":
			return equal(v, lit)
		case "!=":
			return !equal(v, lit)
		}
		if v.k == kNull || lit.k == kNull {
			return false
		}
		c, ok := compare(v, lit)
		if !ok {
			return false
		}
		switch cmp {
		case "<":
			return c < 0
		case "<=":
			return c <= 0
		case ">":
			return c > 0
		case ">=":
			return c >= 0
		}
		return false
	}, nil
}

// result is what a query produced: row indices, or rendered aggregate records.
type result struct {
	c     *compiled
	rows  []int32
	aggs  [][]byte
	total int
}

// run evaluates a compiled query with the read lock held.
func (c *compiled) run(o *Org) (*result, error) {
	lo, hi := sortedRange(o, c.d, c.q.where)
	res := &result{c: c}
	match := func(i int) bool {
		return c.d.visible(o, i) && (c.where == nil || c.where(o, i))
	}
	if c.q.countOnly {
		for i := lo; i < hi; i++ {
			if match(i) {
				res.total++
			}
		}
		return res, nil
	}
	if c.agg {
		return c.aggregate(o, lo, hi, match)
	}
	presorted := len(c.order) == 1 && strings.EqualFold(c.order[0].path, c.d.sortedBy) && !c.q.orderBy[0].desc
	if presorted && c.q.limit >= 0 && c.q.offset == 0 {
		// In the order the rows are kept in, with a LIMIT: stop at it, as an
		// index range scan does (totalSize is the rows returned).
		for i := lo; i < hi && len(res.rows) < c.q.limit; i++ {
			if match(i) {
				res.rows = append(res.rows, int32(i))
			}
		}
		res.total = len(res.rows)
		return res, nil
	}
	for i := lo; i < hi; i++ {
		if match(i) {
			res.rows = append(res.rows, int32(i))
		}
	}
	if len(c.order) > 0 && !presorted {
		slices.SortStableFunc(res.rows, func(x, y int32) int {
			for k, a := range c.order {
				ob := c.q.orderBy[k]
				vx, vy := a.get(o, int(x)), a.get(o, int(y))
				if vx.k == kNull || vy.k == kNull {
					if vx.k == vy.k {
						continue
					}
					if (vx.k == kNull) == ob.nullsFirst {
						return -1
					}
					return 1
				}
				r, _ := compare(vx, vy)
				if ob.desc {
					r = -r
				}
				if r != 0 {
					return r
				}
			}
			return 0
		})
	}
	res.total = len(res.rows)
	if c.q.offset > 0 {
		res.rows = res.rows[min(c.q.offset, len(res.rows)):]
	}
	if c.q.limit >= 0 && len(res.rows) > c.q.limit {
		res.rows = res.rows[:c.q.limit]
	}
	if c.q.limit >= 0 || c.q.offset > 0 {
		res.total = len(res.rows)
	}
	return res, nil
}

type accum struct {
	keys     []value
	count    []int64
	distinct []map[string]struct{}
	sum      []float64
	minV     []value
	maxV     []value
}

const maxAggregateRows = 2000

func (c *compiled) aggregate(o *Org, lo, hi int, match func(int) bool) (*result, error) {
	if o.Behavior.AggregateQuirk == AggregateOverCursorCap && c.d.cursorCap > 0 {
		match = capMatches(match, c.d.cursorCap)
	}
	groups := map[string]*accum{}
	var order []string
	n := len(c.q.items)
	for i := lo; i < hi; i++ {
		if !match(i) {
			continue
		}
		var kb strings.Builder
		keys := make([]value, len(c.group))
		for j, g := range c.group {
			keys[j] = g.get(o, i)
			kb.WriteString(string(appendJSON(nil, keys[j], false)))
			kb.WriteByte(0)
		}
		k := kb.String()
		a := groups[k]
		if a == nil {
			a = &accum{keys: keys, count: make([]int64, n), distinct: make([]map[string]struct{}, n), sum: make([]float64, n), minV: make([]value, n), maxV: make([]value, n)}
			groups[k] = a
			order = append(order, k)
		}
		for j, it := range c.q.items {
			if it.fn == "" {
				continue
			}
			if it.field == "" {
				a.count[j]++
				continue
			}
			v := c.items[j].get(o, i)
			if v.k == kNull {
				continue
			}
			a.count[j]++
			switch it.fn {
			case "COUNT_DISTINCT":
				if a.distinct[j] == nil {
					a.distinct[j] = map[string]struct{}{}
				}
				a.distinct[j][string(appendJSON(nil, v, false))] = struct{}{}
			case "SUM", "AVG":
				a.sum[j] += v.f
			case "MIN":
				if r, _ := compare(v, a.minV[j]); a.minV[j].k == kNull || r < 0 {
					a.minV[j] = v
				}
			case "MAX":
				if r, _ := compare(v, a.maxV[j]); a.maxV[j].k == kNull || r > 0 {
					a.maxV[j] = v
				}
			}
		}
	}
	if len(c.group) == 0 && len(order) == 0 {
		order = append(order, "")
		groups[""] = &accum{count: make([]int64, n), distinct: make([]map[string]struct{}, n), sum: make([]float64, n), minV: make([]value, n), maxV: make([]value, n)}
	}
	if len(order) > maxAggregateRows && c.q.limit < 0 {
		return nil, &soqlError{"MALFORMED_QUERY", "Aggregate query does not support queryMore(), use LIMIT to restrict the results to a single batch"}
	}
	res := &result{c: c}
	for _, k := range order {
		a := groups[k]
		b := []byte(`{"attributes":{"type":"AggregateResult"}`)
		expr := 0
		for j, it := range c.q.items {
			name := it.alias
			if it.fn != "" && name == "" {
				name = "expr" + strconv.Itoa(expr)
				expr++
			}
			var v value
			switch it.fn {
			case "":
				gi := slices.IndexFunc(c.q.groupBy, func(g string) bool { return strings.EqualFold(g, it.field) })
				v = a.keys[gi]
				if name == "" {
					name = c.items[j].fd.name // a grouped relationship field appears under its field name only
				}
			case "COUNT":
				v = numVal(float64(a.count[j]))
			case "COUNT_DISTINCT":
				v = numVal(float64(len(a.distinct[j])))
			case "SUM":
				if a.count[j] > 0 {
					v = numVal(a.sum[j])
				}
			case "AVG":
				if a.count[j] > 0 {
					v = numVal(a.sum[j] / float64(a.count[j]))
				}
			case "MIN":
				v = a.minV[j]
			case "MAX":
				v = a.maxV[j]
			}
			b = append(b, ',')
			b = appendJSONString(b, name)
			b = append(b, ':')
			b = appendJSON(b, v, it.fn == "AVG")
		}
		res.aggs = append(res.aggs, append(b, '}'))
	}
	if c.q.limit >= 0 && len(res.aggs) > c.q.limit {
		res.aggs = res.aggs[:c.q.limit]
	}
	res.total = len(res.aggs)
	return res, nil
}

// renderRecord writes one record in SELECT order; fields of one relationship
// are nested in one object with its own attributes.
func (c *compiled) renderRecord(o *Org, b []byte, r int, apiVersion string) []byte {
	b = append(b, `{"attributes":{"type":"`...)
	b = append(b, c.d.name...)
	b = append(b, '"')
	if c.d.id != nil {
		b = append(b, `,"url":"/services/data/v`...)
		b = append(b, apiVersion...)
		b = append(b, "/sobjects/"...)
		b = append(b, c.d.name...)
		b = append(b, '/')
		b = append(b, c.d.id(o, r)...)
		b = append(b, '"')
	}
	b = append(b, '}')
	done := map[*relDef]bool{}
	for _, a := range c.items {
		if a.rel == nil {
			b = append(b, ',')
			b = appendJSONString(b, a.fd.name)
			b = append(b, ':')
			b = appendJSON(b, a.fd.get(o, r), a.fd.double)
			continue
		}
		if done[a.rel] {
			continue
		}
		done[a.rel] = true
		b = append(b, ',')
		b = appendJSONString(b, a.rel.name)
		b = append(b, ':')
		t := a.rel.fk(o, r)
		if t < 0 || a.rel.shared && !a.target.visible(o, t) {
			b = append(b, "null"...)
			continue
		}
		b = append(b, `{"attributes":{"type":"`...)
		b = append(b, a.target.name...)
		b = append(b, '"')
		if a.target.id != nil {
			b = append(b, `,"url":"/services/data/v`...)
			b = append(b, apiVersion...)
			b = append(b, "/sobjects/"...)
			b = append(b, a.target.name...)
			b = append(b, '/')
			b = append(b, a.target.id(o, t)...)
			b = append(b, '"')
		}
		b = append(b, '}')
		for _, a2 := range c.items {
			if a2.rel == a.rel {
				b = append(b, ',')
				b = appendJSONString(b, a2.fd.name)
				b = append(b, ':')
				b = appendJSON(b, a2.fd.get(o, t), a2.fd.double)
			}
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

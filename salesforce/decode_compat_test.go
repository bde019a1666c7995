package salesforce

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// decodeBoth decodes one record as the client does (the v2 decoder with
// decodeOpts) and as encoding/json does, into fresh values of T.
func decodeBoth[T any](t *testing.T, rec string) (v2, v1 T, err2, err1 error) {
	t.Helper()
	_, err2 = decodePage(strings.NewReader(`{"totalSize":1,"done":true,"records":[`+rec+`]}`), nil, nil, func(dec *jsontext.Decoder) error {
		return jsonv2.UnmarshalDecode(dec, &v2, decodeOpts)
	})
	err1 = json.Unmarshal([]byte(rec), &v1)
	return v2, v1, err2, err1
}

func sameAsV1[T any](t *testing.T, rec string) {
	t.Helper()
	v2, v1, err2, err1 := decodeBoth[T](t, rec)
	if (err2 == nil) != (err1 == nil) {
		t.Errorf("%T from %s: client error %v, encoding/json error %v", v1, rec, err2, err1)
		return
	}
	if err1 == nil && !reflect.DeepEqual(v2, v1) {
		t.Errorf("%T from %s:\nclient        %+v\nencoding/json %+v", v1, rec, v2, v1)
	}
}

// fill sets every field of v (a pointer to a struct) to a value other than
// its zero, recursively.
func fill(v reflect.Value, seed int) {
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), seed)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[Time]() {
			v.Set(reflect.ValueOf(Time{time.Date(2024, 2, 29, 23, 59, 58, int(time.Duration(seed)*time.Millisecond), time.UTC)}))
			return
		}
		if v.Type() == reflect.TypeFor[Secret]() {
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), seed+i)
			}
		}
	case reflect.String:
		v.SetString("v" + strings.Repeat("x", seed%5) + "é")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(int64(40 + seed))
	case reflect.Float64:
		v.SetFloat(1.5 + float64(seed))
	}
}

// compatRecords are a type's record written by encoding/json with every
// field set, with its names in lower case, and with every value null.
func compatRecords(t *testing.T, typ reflect.Type) []string {
	t.Helper()
	v := reflect.New(typ)
	fill(v.Elem(), 3)
	b, err := json.Marshal(v.Interface())
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		t.Fatal(err)
	}
	lower, null := map[string]json.RawMessage{}, map[string]json.RawMessage{}
	for k, raw := range fields {
		lower[strings.ToLower(k)] = raw
		null[k] = json.RawMessage("null")
	}
	out := []string{string(b)}
	for _, m := range []map[string]json.RawMessage{lower, null} {
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	return out
}

func checkType[T any](t *testing.T) {
	t.Helper()
	for _, rec := range compatRecords(t, reflect.TypeFor[T]()) {
		sameAsV1[T](t, rec)
	}
}

// TestDecoderMatchesEncodingJSON: the client's page decoder (encoding/
// json's version 2 with decodeOpts) reads every record type the client
// queries as encoding/json read it: every field set, names in another case,
// nulls, and the shapes a hostile or odd org may send.
func TestDecoderMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	checkType[OauthToken](t)
	checkType[RevocableToken](t)
	checkType[User](t)
	checkType[ConnectedApplication](t)
	checkType[EventLogFile](t)
	checkType[APIEvent](t)
	checkType[AppPolicy](t)
	checkType[ECAPolicy](t)
	checkType[ThreatEvent](t)
	checkType[assignmentRow](t)
	checkType[permissionSetRow](t)
	for _, rec := range []string{
		`{"attributes":{"type":"OauthToken","url":"/x"},"Id":"0CQ1","AppName":"A","User":{"attributes":{"type":"User"},"IsActive":false,"Username":"u@x"},"CreatedDate":"2024-03-01T10:00:05.000+0000","LastUsedDate":null,"UseCount":3,"Extra":[1,{"a":null}]}`,
		`{"AppName":"first","AppName":"second","UseCount":1,"UseCount":2}`,
		`{"appname":"lower","USERID":"upper","User":null}`,
		"{\"AppName\":\"bad \xff\xfe utf-8\",\"UserId\":\"\xc3\"}",
		`{"CreatedDate":"2024-03-01T10:00:05.000-0530","LastUsedDate":"2024-03-01T10:00:05Z"}`,
		`{"CreatedDate":"2024-03-01","LastUsedDate":""}`,
		`{"CreatedDate":"2023-02-29T10:00:05.000+0000"}`,
		`{"CreatedDate":"2024-13-01T10:00:05.000+0000"}`,
		`{"CreatedDate":"2024-03-01T24:00:05.000+0000"}`,
		`{"CreatedDate":"2024-03-01T10:00:05.000+2400"}`,
		`{"CreatedDate":"2024-03-01T10:00:05.0a0+0000"}`,
		`{"CreatedDate":12}`,
		`{"CreatedDate":true}`,
		`{"UseCount":3.0}`,
		`{"UseCount":"3"}`,
		`{"UseCount":1e3}`,
		`{"UseCount":99999999999999999999}`,
		`{"User":{"IsActive":"yes"}}`,
		`{"User":[]}`,
		`{"AppName":null,"UserId":"\u0000\ud800"}`,
		`{"DeleteToken":"secret"}`,
	} {
		sameAsV1[RevocableToken](t, rec)
	}
	for _, rec := range []string{
		`{"attributes":{"type":"AggregateResult"},"users":3,"AppName":"A","expr0":3.0,"d":"2024-03-01T10:00:05.000+0000","n":null}`,
		`{"users":1,"users":2}`,
	} {
		sameAsV1[AggregateRecord](t, rec)
	}
}

// TestParseDateTimeMatchesTimeParse: the fast path for Salesforce's layout
// gives what time.Parse gives, and leaves every other string to it.
func TestParseDateTimeMatchesTimeParse(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"2023-12-19T21:04:35.000+0000", "2024-02-29T00:00:00.999-0800", "1999-12-31T23:59:59.001+1345",
		"2023-02-29T10:00:05.000+0000", "2024-04-31T10:00:05.000+0000", "2024-03-01T10:60:05.000+0000",
		"2024-03-01T10:00:60.000+0000", "2024-03-01T10:00:05.000+0060", "2024-03-01T10:00:05.000 0000",
		"2024-03-01T10:00:05.000Z0000", "+024-03-01T10:00:05.000+0000", "2024-03-01T10:00:05.000+00:0",
		"0000-01-01T00:00:00.000+0000", "2024-03-01T10:00:05Z",
	} {
		want, wantErr := time.Parse(DateTimeLayout, s)
		got, ok := parseDateTime(s)
		if ok != (wantErr == nil) || (ok && !got.Equal(want)) {
			t.Errorf("%s: fast path %v %v, time.Parse %v %v", s, got, ok, want, wantErr)
		}
	}
}

func FuzzParseDateTime(f *testing.F) {
	f.Add("2023-12-19T21:04:35.000+0000")
	f.Add("2024-02-29T00:00:00.999-0800")
	f.Fuzz(func(t *testing.T, s string) {
		want, wantErr := time.Parse(DateTimeLayout, s)
		got, ok := parseDateTime(s)
		if ok && (wantErr != nil || !got.Equal(want)) {
			t.Fatalf("%q: fast path %v, time.Parse %v %v", s, got, want, wantErr)
		}
	})
}

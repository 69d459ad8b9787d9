package descriptor

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"gopkg.in/yaml.v3"
)

// FuzzParse checks that Parse never panics, that every error it returns is an *Error matching ErrInvalid,
// and that a descriptor it accepts, written back as YAML, parses again to the same descriptor. The seeds
// are below and in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		full,
		"",
		endpoint + "health: {readiness: {http: {path: /}}, liveness: {exec: {command: [x]}}}\n",
		"endpoints:\n  - {name: web, port: 70000, type: http, openapi: x}\n",
		"required:\n  configs: [{name: A, env: B}, {name: B}]\n  secrets: [{name: C, file: /c}]\n",
		"a: &a [x, x]\nb: &b [*a, *a]\nendpoints: [*b]\n",
		"endpoints: &e [*e]\n",
		"{\"endpoints\": [{\"name\": \"web\", \"port\": 80, \"type\": \"ws\"}]}",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Parse(file, data)
		if err != nil {
			var e *Error
			if !errors.Is(err, ErrInvalid) || !errors.As(err, &e) || e.File != file || len(e.Problems) == 0 {
				t.Fatalf("error %#v is not an *Error with problems matching ErrInvalid", err)
			}
			return
		}
		again, err := Parse("again.yaml", toYAML(t, d))
		if err != nil {
			t.Fatalf("%+v written as YAML does not parse: %v\n%s", d, err, toYAML(t, d))
		}
		if !reflect.DeepEqual(again, d) {
			t.Fatalf("written as YAML and parsed again\n got %+v\nwant %+v", again, d)
		}
	})
}

// toYAML writes d as a descriptor, with the field names of its JSON form.
func toYAML(t *testing.T, d Descriptor) []byte {
	t.Helper()
	data, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	out, err := yaml.Marshal(integers(v))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// integers replaces the json.Numbers in v, all integers here, by int64s.
func integers(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			v[k] = integers(x)
		}
	case []any:
		for i, x := range v {
			v[i] = integers(x)
		}
	case json.Number:
		n, err := v.Int64()
		if err != nil {
			panic(err)
		}
		return n
	}
	return v
}

package server

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// Bodies encoding/json would take but mean two things, or something else than they seem: a key given twice
// (it keeps the last) and a field name in another case (it matches names case-insensitively). Each is refused
// with 400, naming the field, and changes nothing.
func TestDuplicateAndMiscasedFieldsAreRefused(t *testing.T) {
	e := newTestEnv(t)
	e.createProject("shop")
	cases := []struct {
		name, method, path, body, code, field string
	}{
		{"duplicate", http.MethodPost, "/api/v1/projects", `{"name":"a","name":"b"}`, "duplicate_field", "name"},
		{"duplicate differing only in case", http.MethodPost, "/api/v1/projects", `{"name":"a","Name":"b"}`, "unknown_field", "Name"},
		{"upper case", http.MethodPost, "/api/v1/projects", `{"NAME":"x"}`, "unknown_field", "NAME"},
		{"nested duplicate", http.MethodPatch, "/api/v1/projects/shop/environments/development",
			`{"replicas":1,"kubernetes":{"namespace":"a","namespace":"b"}}`, "duplicate_field", "kubernetes.namespace"},
		{"nested case", http.MethodPost, "/api/v1/projects/shop/environments",
			`{"name":"qa","Production":true}`, "unknown_field", "Production"},
		{"duplicate of a flag", http.MethodPost, "/api/v1/projects/shop/environments",
			`{"name":"qa","production":false,"production":true}`, "duplicate_field", "production"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			apiErr := wantError(t, e.do(tc.method, tc.path, e.admin, tc.body), http.StatusBadRequest, tc.code, tc.field)
			if !strings.Contains(apiErr.Message, `"`+tc.field+`"`) {
				t.Errorf("message %q does not name %q", apiErr.Message, tc.field)
			}
		})
	}
	if got := e.envNames("shop"); !equal(got, []string{"development", "production"}) {
		t.Errorf("refused bodies changed the environments: %v", got)
	}
	if ps, _ := e.st.ListProjects(t.Context(), "", 10); len(ps) != 1 {
		t.Errorf("refused bodies created projects: %+v", ps)
	}
	// The right spelling, once, is taken.
	e.must(http.StatusCreated, http.MethodPost, "/api/v1/projects", e.developer, `{"name":"a"}`, nil)
}

type keysInner struct {
	Value string `json:"value"`
}

type keysEmbedded struct {
	Shared string `json:"shared"`
}

type keysBody struct {
	keysEmbedded
	Name   string               `json:"name,omitempty"`
	Plain  int                  // no tag: its Go name
	Skip   string               `json:"-"`
	Inner  *keysInner           `json:"inner"`
	List   []keysInner          `json:"list"`
	ByName map[string]keysInner `json:"byName"`
	Raw    json.RawMessage      `json:"raw"`
	Any    any                  `json:"any"`
}

func TestCheckKeys(t *testing.T) {
	typ := reflect.TypeFor[*keysBody]()
	for _, body := range []string{
		`{}`,
		`{"name":"a","Plain":1,"shared":"s","inner":{"value":"v"},"list":[{"value":"1"},{"value":"2"}],` +
			`"byName":{"a":{"value":"x"},"A":{"value":"y"}},"raw":{"Any":1,"any":2},"any":{"k":[{"k":1}]}}`,
		`{"inner":null,"list":null}`,
	} {
		if err := checkKeys([]byte(body), typ); err != nil {
			t.Errorf("checkKeys(%s) = %v, want nil", body, err)
		}
	}
	for _, tc := range []struct{ body, code, field string }{
		{`{"name":"a","name":"a"}`, "duplicate_field", "name"},
		{`{"plain":1}`, "unknown_field", "plain"},
		{`{"SHARED":"s"}`, "unknown_field", "SHARED"},
		{`{"inner":{"Value":"v"}}`, "unknown_field", "inner.Value"},
		{`{"list":[{"value":"1"},{"value":"1","value":"2"}]}`, "duplicate_field", "list[1].value"},
		{`{"list":[{"VALUE":"1"}]}`, "unknown_field", "list[0].VALUE"},
		{`{"byName":{"a":{"value":"x"},"a":{"value":"y"}}}`, "duplicate_field", "byName.a"},
		{`{"byName":{"a":{"vaLue":"x"}}}`, "unknown_field", "byName.a.vaLue"},
		{`{"raw":{"k":1,"k":2}}`, "duplicate_field", "raw.k"},
		{`{"any":[{"k":1,"k":2}]}`, "duplicate_field", "any[0].k"},
	} {
		err := checkKeys([]byte(tc.body), typ)
		apiErr, ok := err.(*APIError)
		if !ok || apiErr.Status != http.StatusBadRequest || apiErr.Code != tc.code || apiErr.Field != tc.field {
			t.Errorf("checkKeys(%s) = %#v, want 400 %s naming %s", tc.body, err, tc.code, tc.field)
		}
	}
}

package results

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// Metrics without a typed field (a metric registered in package registry
// after this package was written: NDB, CMMD, a test's toy metric) keep
// their fragment in Metrics.Extra under their key, written inline in the
// "metrics" object. Reading stays strict: a key is accepted only when it is
// a typed field or an extra key allowed with AllowExtra, which package
// registry calls for each entry whose fragment lives in Extra. This package
// cannot import registry (registry imports it), hence the hook rather than
// a parameter of every reader.

var (
	extraMu   sync.RWMutex
	extraKeys = map[string]func(json.RawMessage) error{}
)

// typedKeys are the JSON names of Metrics' typed fields.
var typedKeys = sync.OnceValue(func() map[string]bool {
	out := map[string]bool{}
	t := reflect.TypeOf(Metrics{})
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out[name] = true
		}
	}
	return out
})

// AllowExtra lets documents carry an extra metric fragment under key;
// check, when not nil, validates the fragment when a document is read. It
// panics when key is a typed field's name (a programming error).
func AllowExtra(key string, check func(json.RawMessage) error) {
	if typedKeys()[key] || key == "" {
		panic("results: extra metric key " + key + " is a typed field or empty")
	}
	extraMu.Lock()
	defer extraMu.Unlock()
	extraKeys[key] = check
}

// DisallowExtra undoes AllowExtra (for tests that register a toy metric).
func DisallowExtra(key string) {
	extraMu.Lock()
	defer extraMu.Unlock()
	delete(extraKeys, key)
}

// extraCheck returns the check of an allowed extra key.
func extraCheck(key string) (func(json.RawMessage) error, bool) {
	extraMu.RLock()
	defer extraMu.RUnlock()
	c, ok := extraKeys[key]
	return c, ok
}

// plainMetrics is Metrics without its JSON methods.
type plainMetrics Metrics

// MarshalJSON writes the typed fields as the struct tags say and then the
// extra fragments in key order; without extras the bytes are those of the
// plain struct, so documents without extra metrics are unchanged.
func (m Metrics) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(plainMetrics(m))
	if err != nil || len(m.Extra) == 0 {
		return b, err
	}
	var buf bytes.Buffer
	buf.Write(b[:len(b)-1]) // without the closing brace
	sep := len(b) > 2       // "{}" has no field before the extras
	keys := make([]string, 0, len(m.Extra))
	for k := range m.Extra {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if typedKeys()[k] {
			return nil, fmt.Errorf("extra metric %q has the name of a typed field", k)
		}
		if sep {
			buf.WriteByte(',')
		}
		sep = true
		kb, _ := json.Marshal(k)
		buf.Write(kb)
		buf.WriteByte(':')
		var v bytes.Buffer
		if err := json.Compact(&v, m.Extra[k]); err != nil {
			return nil, fmt.Errorf("extra metric %q: %w", k, err)
		}
		buf.Write(v.Bytes())
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// UnmarshalJSON reads the typed fields strictly (unknown fields are an
// error) and every key allowed with AllowExtra into Extra, checking it.
func (m *Metrics) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	var extra map[string]json.RawMessage
	for k, v := range raw {
		if typedKeys()[k] {
			continue
		}
		check, ok := extraCheck(k)
		if !ok {
			return fmt.Errorf("json: unknown field %q in metrics", k)
		}
		if check != nil {
			if err := check(v); err != nil {
				return fmt.Errorf("metrics.%s: %w", k, err)
			}
		}
		if extra == nil {
			extra = map[string]json.RawMessage{}
		}
		extra[k] = slices.Clone(v)
		delete(raw, k)
	}
	if extra != nil {
		var err error
		if b, err = json.Marshal(raw); err != nil {
			return err
		}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var p plainMetrics
	if err := dec.Decode(&p); err != nil {
		return err
	}
	*m = Metrics(p)
	m.Extra = extra
	return nil
}

// SetExtra stores v, encoded as JSON, as the extra fragment of key.
func (m *Metrics) SetExtra(key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("results: extra metric %q: %w", key, err)
	}
	if m.Extra == nil {
		m.Extra = map[string]json.RawMessage{}
	}
	m.Extra[key] = b
	return nil
}

// GetExtra decodes the extra fragment of key into v, strictly; it reports
// false when the document has none.
func (m *Metrics) GetExtra(key string, v any) (bool, error) {
	raw, ok := m.Extra[key]
	if !ok {
		return false, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return true, fmt.Errorf("results: extra metric %q: %w", key, err)
	}
	return true, nil
}

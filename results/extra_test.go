package results

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// TestExtraRoundTrip: a fragment under an allowed extra key is written
// inline after the typed fields, read back into Extra and written again to
// the same bytes; the key is refused once disallowed, and its check runs.
func TestExtraRoundTrip(t *testing.T) {
	type toy struct {
		Value float64 `json:"value"`
	}
	AllowExtra("toy", func(raw json.RawMessage) error {
		var v toy
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&v); err != nil {
			return err
		}
		if v.Value < 0 {
			return errors.New("negative toy")
		}
		return nil
	})
	defer DisallowExtra("toy")
	d := sample()
	if err := d.Metrics.SetExtra("toy", toy{Value: 0.5}); err != nil {
		t.Fatal(err)
	}
	b, err := Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	if i, j := bytes.Index(b, []byte(`"cis": 1.04`)), bytes.Index(b, []byte(`"toy": {`)); i < 0 || j < i {
		t.Fatalf("toy not written inline after the typed fields:\n%s", b)
	}
	got, err := Parse("doc.json", b)
	if err != nil {
		t.Fatal(err)
	}
	var v toy
	if ok, err := got.Metrics.GetExtra("toy", &v); !ok || err != nil || v.Value != 0.5 {
		t.Fatalf("toy read back as %+v (%v, %v)", v, ok, err)
	}
	if b2, _ := Marshal(got); !bytes.Equal(b, b2) {
		t.Errorf("round trip changed the document:\n%s\n%s", b, b2)
	}
	bad := bytes.Replace(b, []byte(`"value": 0.5`), []byte(`"value": -1`), 1)
	if _, err := Parse("doc.json", bad); err == nil || !strings.Contains(err.Error(), "negative toy") {
		t.Errorf("bad fragment: error %v", err)
	}
	DisallowExtra("toy")
	if _, err := Parse("doc.json", b); err == nil || !strings.Contains(err.Error(), `unknown field "toy"`) {
		t.Errorf("disallowed extra key: error %v", err)
	}
}

func TestAllowExtraRefusesTypedKey(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("AllowExtra accepted the typed key fid")
		}
	}()
	AllowExtra(KeyFID, nil)
}

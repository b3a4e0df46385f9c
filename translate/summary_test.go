package translate

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestSummaryWrite: one line of text, or the JSON object --json prints.
func TestSummaryWrite(t *testing.T) {
	s := &Summary{Method: "MUNIT", Store: "store/MUNIT", Inputs: 2, SamplesPerInput: 3, Computed: 6, Seconds: 1.25, Randomness: "style", Complete: true}
	var b bytes.Buffer
	if err := s.Write(&b, false); err != nil || b.String() != "MUNIT: 2 inputs x 3 samples in store/MUNIT (6 computed, 0 reused) in 1.2s\n" {
		t.Errorf("text %q, %v", b.String(), err)
	}
	b.Reset()
	var got map[string]any
	if err := s.Write(&b, true); err != nil || json.Unmarshal(b.Bytes(), &got) != nil || got["randomness"] != "style" || got["complete"] != true {
		t.Errorf("JSON %q, %v", b.String(), err)
	}
	if _, ok := got["shard"]; ok {
		t.Error("an unsharded run's JSON names a shard")
	}
	if _, ok := got["copied"]; ok {
		t.Error("a generator's run's JSON counts copies")
	}
	s.Copied, s.Computed, s.Shard = 6, 0, "1/2"
	if b.Reset(); s.Write(&b, false) != nil || !strings.Contains(b.String(), "(this shard: 6 copied, 0 reused;") {
		t.Errorf("copied shard: %q", b.String())
	}
}

package rewrite_test

import (
	"os"
	"testing"
	"time"

	"github.com/munit-eval/munit-eval/model"
	"github.com/munit-eval/munit-eval/rewrite"
)

func TestOpenProto(t *testing.T) {
	p := os.Getenv("PROTO_MODEL")
	if p == "" {
		t.Skip()
	}
	data, _ := os.ReadFile(p)
	t0 := time.Now()
	res, _ := rewrite.Apply(data, rewrite.Options{})
	t.Logf("rewrite: %v (%d sites)", time.Since(t0), len(res.Sites))
	for _, nr := range []bool{true, false} {
		t0 = time.Now()
		s, err := model.OpenData(p, data, model.Options{Threads: 1, NoRewrite: nr})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("open norewrite=%v: %v", nr, time.Since(t0))
		s.Close()
	}
}

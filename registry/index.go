package registry

import (
	"fmt"
	"strings"
)

// String names the needs, "pairs + logits" ("none" for none).
func (n Need) String() string {
	var out []string
	for _, x := range []struct {
		need Need
		name string
	}{{NeedPairs, "LPIPS pair distances"}, {NeedLogits, "classifier logits"}, {NeedFeatures, "sample features"}, {NeedReal, "real features"}} {
		if n.Has(x.need) {
			out = append(out, x.name)
		}
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
}

// Index is the metric index of docs/metrics.md: one Markdown table row per
// registered metric (key, title, what it needs, whether it is a default,
// its report table, the quantities check compares). A test keeps the page
// equal to it.
func Index() string {
	var b strings.Builder
	b.WriteString("| key | metric | needs | default | report table | compared by check |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- |\n")
	for _, e := range All() {
		def := "no"
		if e.Default {
			def = "yes"
		}
		tbl := ""
		if e.Table != nil {
			tbl = fmt.Sprintf("`%s`", e.Table.Name)
		}
		var qs []string
		for _, q := range e.Compare {
			qs = append(qs, "`"+q.Name+"`")
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s |\n", e.Key, e.Title, e.Needs, def, tbl, strings.Join(qs, ", "))
	}
	return b.String()
}

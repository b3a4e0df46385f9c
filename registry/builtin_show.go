package registry

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/munit-eval/munit-eval/results"
	"github.com/munit-eval/munit-eval/table"
)

// The report's tables of the built-in metrics, in the paper's order.
var (
	// TableQuality is the paper's Table 1: LPIPS diversity, beside which
	// the report puts the human preference study's Quality column (the
	// study is not a computed metric: package amt writes it).
	TableQuality = &Table{Name: "quality_diversity", Title: "Quality and diversity",
		Note: func(View) string { return "Quality and diversity: higher is better." }}
	// TableScores is the paper's Table 2: CIS and IS.
	TableScores = &Table{Name: "scores", Title: "Conditional Inception Score (CIS) and Inception Score (IS)",
		Note: func(v View) string {
			if !v.Exp {
				return "IS and CIS are the MUNIT paper's raw mean KL divergences in nats (higher is better); --scores exp prints exp() of them, as the official script does."
			}
			return "IS and CIS are exp() of the mean KL divergences, as the official script prints them (higher is better); --scores nats prints the paper's raw means in nats. Intervals are exp() of the intervals in nats."
		}}
	// TableDistances holds the distances to real images, FID and KID.
	TableDistances = &Table{Name: "distances", Title: "Fréchet Inception Distance (FID) and Kernel Inception Distance (KID)",
		Note: func(View) string {
			return "FID and KID: lower is better; KID shows the standard deviation over subsets (sd), not an interval."
		}}
	// TablePRDC holds precision, recall, density and coverage.
	TablePRDC = &Table{Name: "prdc", Title: "Precision, recall, density and coverage",
		Note: func(View) string {
			return "Precision, recall, density and coverage: higher is better; they have no interval."
		}}
)

// f4 formats a value with four decimals, the paper's precision.
func f4(v float64) string { return table.Num(v, 4) }

// f4p formats an optional value; "" when absent.
func f4p(v *float64) string {
	if v == nil {
		return ""
	}
	return f4(*v)
}

// ci4 formats an optional interval's bounds; "" when absent.
func ci4(ci *[2]float64) string {
	if ci == nil {
		return ""
	}
	return table.Interval(*ci, 4)
}

// count formats a count; "" for 0 (not recorded).
func count(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

func countp(n *int) string {
	if n == nil {
		return ""
	}
	return strconv.Itoa(*n)
}

// LPIPSName is "LPIPS <net> v<version>" for a diversity result.
func LPIPSName(dv *results.Diversity) string {
	net, ver := dv.LPIPSNet, dv.LPIPSVersion
	if net == "" {
		net = "net?"
	}
	if ver == "" {
		ver = "?"
	}
	return "LPIPS " + net + " v" + ver
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// lpips returns a document's diversity, or nil: the functions below read
// it only when it is there.
func lpips(d *results.Document) *results.Diversity { return d.Metrics.LPIPSDiversity }

var lpipsColumns = []Column{{Header: "Diversity", Model: func(d *results.Document) string { return LPIPSName(lpips(d)) }, ModelKind: "LPIPS",
	Better: +1, Decimals: 3, Cell: func(d *results.Document, _ View) table.Cell {
		if dv := lpips(d); dv != nil {
			ci := dv.CI95
			return table.Value(dv.Mean, &ci)
		}
		return table.Cell{}
	}}}

func lpipsProtocol(d *results.Document) string {
	dv := lpips(d)
	s := fmt.Sprintf("Diversity is the mean %s distance over %d pairs", LPIPSName(dv), dv.N)
	if d.Method == results.MethodRealData {
		s += " of real target images"
	} else {
		s += fmt.Sprintf(" (%d inputs, %d pairs per input, %s pairing", dv.NumInputs, dv.PairsPerInput, orUnknown(dv.Pairing))
		if d.Protocol.SamplesPerInput > 0 {
			s += fmt.Sprintf(", %d samples per input", d.Protocol.SamplesPerInput)
		}
		s += ")"
	}
	method := "expanded percentile-bootstrap"
	if dv.Interval == results.IntervalBootstrapT {
		method = "studentized-bootstrap"
	}
	if t := dv.Trials; t != nil {
		s += fmt.Sprintf("; %d trials of %d pairs per input on fresh samples, their means %s ± %s (population std over trials)",
			t.Count, t.PairsPerTrial, f4(t.Mean), f4(t.Std))
	}
	s += fmt.Sprintf(", seed %d, 95%% %s interval over inputs", d.Protocol.Seed, method)
	if d.Protocol.Bootstrap > 0 {
		s += fmt.Sprintf(" (%d resamples)", d.Protocol.Bootstrap)
	}
	return s
}

// lpipsText is a detail of a document's diversity, "" without one.
func lpipsText(f func(dv *results.Diversity) string) func(*results.Document) string {
	return func(d *results.Document) string {
		if dv := lpips(d); dv != nil {
			return f(dv)
		}
		return ""
	}
}

var lpipsDetails = []Detail{
	{Header: "LPIPS", Text: lpipsText(func(dv *results.Diversity) string { return dv.LPIPSNet + " v" + dv.LPIPSVersion })},
	{Header: "inputs", Text: lpipsText(func(dv *results.Diversity) string { return strconv.Itoa(dv.NumInputs) })},
	{Header: "pairs", Text: lpipsText(func(dv *results.Diversity) string { return strconv.Itoa(dv.N) })},
	{Header: "diversity", Text: lpipsText(func(dv *results.Diversity) string { return f4(dv.Mean) })},
	{Header: "95% CI", Interval: true, Text: lpipsText(func(dv *results.Diversity) string { return ci4(&dv.CI95) })},
	{Header: "std", Text: lpipsText(func(dv *results.Diversity) string { return f4(dv.Std) })},
	{Header: "stderr", Text: lpipsText(func(dv *results.Diversity) string { return f4(dv.Stderr) })},
	{Header: "trials (mean ± std)", Text: lpipsText(func(dv *results.Diversity) string {
		if dv.Trials == nil {
			return ""
		}
		return fmt.Sprintf("%d: %s ± %s", dv.Trials.Count, f4(dv.Trials.Mean), f4(dv.Trials.Std))
	})},
}

// scoreColumn is the CIS or IS column: the value in nats or its exp()
// form (a stored exp value, else exp of nats), with the interval mapped
// through the same monotone function.
func scoreColumn(name string, nats, exps func(m *results.Metrics) *float64, ci func(m *results.Metrics) *[2]float64) Column {
	return Column{Header: name, Unit: func(v View) string {
		if v.Exp {
			return "exp"
		}
		return "nats"
	}, Better: +1, Decimals: 3, Cell: func(d *results.Document, v View) table.Cell {
		m := &d.Metrics
		x, xe, iv := nats(m), exps(m), ci(m)
		switch {
		case !v.Exp && x != nil:
			return table.Value(*x, iv)
		case v.Exp && xe != nil:
			return table.Value(*xe, expCI(iv))
		case v.Exp && x != nil:
			return table.Value(math.Exp(*x), expCI(iv))
		}
		return table.Cell{}
	}}
}

// expCI maps an interval in nats through exp; nil stays nil.
func expCI(ci *[2]float64) *[2]float64 {
	if ci == nil {
		return nil
	}
	return &[2]float64{math.Exp(ci[0]), math.Exp(ci[1])}
}

var isColumns = []Column{
	scoreColumn("CIS", func(m *results.Metrics) *float64 { return m.CIS }, func(m *results.Metrics) *float64 { return m.CISExp },
		func(m *results.Metrics) *[2]float64 { return m.CISCI95 }),
	scoreColumn("IS", func(m *results.Metrics) *float64 { return m.IS }, func(m *results.Metrics) *float64 { return m.ISExp },
		func(m *results.Metrics) *[2]float64 { return m.ISCI95 }),
}

func isProtocol(d *results.Document) string {
	m := &d.Metrics
	if m.CIS == nil && m.IS == nil && m.CISExp == nil && m.ISExp == nil {
		return "" // the split Inception Score alone has no column
	}
	ni, k := d.Protocol.NumInputs, d.Protocol.SamplesPerInput
	if m.NumInputs != nil {
		ni = *m.NumInputs
	}
	if m.SamplesPerInput != nil {
		k = *m.SamplesPerInput
	}
	s := fmt.Sprintf("IS/CIS over %d inputs × %d samples per input, seed %d", ni, k, d.Protocol.Seed)
	if d.Method == results.MethodRealData {
		s = fmt.Sprintf("IS of %d real target images, each its own input (no CIS: it is 0 with one sample per input), seed %d", ni*k, d.Protocol.Seed)
	}
	if m.CISCI95 != nil || m.ISCI95 != nil {
		if d.Method == results.MethodRealData && m.IntervalMethods[results.KeyIS] == results.IntervalJackknifeT {
			s += ", 95% jackknife interval for the expectation of the plug-in IS at this count"
		} else if m.IntervalMethods[results.KeyCIS] == results.IntervalJackknifeT || m.IntervalMethods[results.KeyIS] == results.IntervalJackknifeT {
			s += ", 95% jackknife intervals for the expectation of the plug-in values shown (the paper's) at this M and K; the bias-corrected estimates and their intervals for the population values are in the results document"
		} else {
			s += ", 95% bootstrap interval over inputs"
			if d.Protocol.Bootstrap > 0 {
				s += fmt.Sprintf(" (%d resamples)", d.Protocol.Bootstrap)
			}
		}
	}
	if ref, ok := d.Models[results.ModelClassifier]; ok && len(ref.Classes) > 0 {
		s += fmt.Sprintf(", classifier with %d classes", len(ref.Classes))
	}
	return s
}

// grouped reports whether a document's IS comes from samples grouped by
// input (a flat folder has the split Inception Score alone).
func grouped(m *results.Metrics) bool { return m.IS != nil || m.ISSplits == nil }

// splitScore is the split Inception Score, mean ± population std.
func splitScore(d *results.Document) string {
	if s := d.Metrics.ISSplits; s != nil {
		return fmt.Sprintf("%.4f ± %.4f", s.Mean, s.Std)
	}
	return ""
}

var isDetails = []Detail{
	{Header: "images", Text: func(d *results.Document) string {
		if grouped(&d.Metrics) {
			return ""
		}
		return strconv.Itoa(d.Protocol.NumInputs)
	}},
	{Header: "inputs", Text: func(d *results.Document) string { return countp(d.Metrics.NumInputs) }},
	{Header: "samples", Text: func(d *results.Document) string { return countp(d.Metrics.SamplesPerInput) }},
	{Header: "IS (nats)", Text: func(d *results.Document) string { return f4p(d.Metrics.IS) }},
	{Header: "95% CI", Interval: true, Text: func(d *results.Document) string { return ci4(d.Metrics.ISCI95) }},
	{Header: "exp(IS)", Text: func(d *results.Document) string { return f4p(d.Metrics.ISExp) }},
	{Header: "CIS (nats)", Text: func(d *results.Document) string { return f4p(d.Metrics.CIS) }},
	{Header: "95% CI", Interval: true, Text: func(d *results.Document) string { return ci4(d.Metrics.CISCI95) }},
	{Header: "exp(CIS)", Text: func(d *results.Document) string { return f4p(d.Metrics.CISExp) }},
	{HeaderOf: func(d *results.Document) string {
		n := 0
		if s := d.Metrics.ISSplits; s != nil {
			n = s.Splits
		}
		return fmt.Sprintf("IS (%d splits)", n)
	}, Text: splitScore},
}

// isDetailNotes is the share of samples per predicted class.
func isDetailNotes(d *results.Document) []string {
	if m := &d.Metrics; len(m.ClassShare) > 0 {
		return ClassShares(m.Classes, m.ClassShare, 10)
	}
	return nil
}

// ClassShares summarises the share of samples per predicted class (argmax)
// in at most two short lines, however many classes the classifier has (an
// ImageNet Inception has 1,000): with up to top classes all are listed;
// otherwise the five (at most top) most predicted, the number of others, and the classes
// never predicted, counted and named by their first few names.
func ClassShares(names []string, shares []float64, top int) []string {
	// shownTop bounds the classes named beyond the full list, so that the
	// line of a 1,000-class classifier stays near 140 characters (it was
	// 228) and wraps to two lines on a 100-column terminal.
	const shownTop = 5
	name := func(i int) string {
		if i < len(names) && names[i] != "" {
			return names[i]
		}
		return "class " + strconv.Itoa(i)
	}
	if len(shares) <= top {
		parts := make([]string, len(shares))
		for i, s := range shares {
			parts[i] = fmt.Sprintf("%s %.1f%%", name(i), 100*s)
		}
		return []string{"samples per class (argmax): " + strings.Join(parts, ", ")}
	}
	idx := make([]int, len(shares))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return shares[idx[a]] > shares[idx[b]] })
	var parts []string
	predicted := 0
	for _, i := range idx {
		if shares[i] > 0 {
			predicted++
			if len(parts) < min(top, shownTop) {
				parts = append(parts, fmt.Sprintf("%s %.1f%%", name(i), 100*shares[i]))
			}
		}
	}
	s := fmt.Sprintf("classes predicted (argmax): %d of %d; top %d: %s", predicted, len(shares), len(parts), strings.Join(parts, ", "))
	if rest := predicted - len(parts); rest > 0 {
		s += fmt.Sprintf(", and %d more", rest)
	}
	out := []string{s}
	var never []string
	for i, v := range shares {
		if v == 0 {
			never = append(never, name(i))
		}
	}
	if len(never) > 0 {
		shown := never[:min(5, len(never))]
		n := fmt.Sprintf("never predicted: %d classes, e.g. %s", len(never), strings.Join(shown, ", "))
		if len(never) > len(shown) {
			n += ", …"
		}
		out = append(out, n)
	}
	return out
}

var fidColumns = []Column{{Header: "FID", Better: -1, Decimals: 2, Cell: func(d *results.Document, _ View) table.Cell {
	if f := d.Metrics.FID; f != nil {
		return table.Value(f.Value, f.CI95)
	}
	return table.Cell{}
}}}

func fidProtocol(d *results.Document) string {
	f := d.Metrics.FID
	s := fmt.Sprintf("FID between %s (%d features)", versusReal(d, f.NumSamples, f.NumReal), f.FeatureDim)
	if f.CI95 != nil && d.Metrics.IntervalMethods[results.KeyFID] == results.IntervalJackknifeT {
		s += " with a 95% jackknife interval for the expectation of the plug-in FID shown at these counts (the bias-corrected estimate and its interval for the population FID are in the results document)"
	}
	return s + fmt.Sprintf(", seed %d", d.Protocol.Seed)
}

// versusReal names what a distance compares: n samples and r real images,
// or, in the real-data row, two seeded halves of the real images.
func versusReal(d *results.Document, n, r int) string {
	if d.Method == results.MethodRealData {
		return fmt.Sprintf("two seeded halves of the real target images (%d and %d)", n, r)
	}
	return fmt.Sprintf("%d samples and %d real images", n, r)
}

// fidText is a detail of a document's FID, "" without one.
func fidText(f func(f *results.FID) string) func(*results.Document) string {
	return func(d *results.Document) string {
		if x := d.Metrics.FID; x != nil {
			return f(x)
		}
		return ""
	}
}

var fidDetails = []Detail{
	{Header: "samples", Text: fidText(func(f *results.FID) string { return count(f.NumSamples) })},
	{Header: "real", Text: fidText(func(f *results.FID) string { return count(f.NumReal) })},
	{Header: "FID", Text: fidText(func(f *results.FID) string { return f4(f.Value) })},
	{Header: "95% CI", Interval: true, Text: fidText(func(f *results.FID) string { return ci4(f.CI95) })},
}

var kidColumns = []Column{{Header: "KID", Better: -1, Decimals: 4, Cell: func(d *results.Document, _ View) table.Cell {
	if k := d.Metrics.KID; k != nil {
		sd := k.Std
		return table.Cell{Kind: table.CellValue, Value: k.Mean, SD: &sd}
	}
	return table.Cell{}
}}}

func kidProtocol(d *results.Document) string {
	k := d.Metrics.KID
	s := fmt.Sprintf("KID over %d subsets of %d, seed %d", k.Subsets, k.SubsetSize, d.Protocol.Seed)
	if d.Method == results.MethodRealData {
		s = fmt.Sprintf("KID between two seeded halves of the real target images over %d subsets of %d (unbiased: about 0, and below 0 as often as above), seed %d", k.Subsets, k.SubsetSize, d.Protocol.Seed)
	}
	return s
}

// kidText is a detail of a document's KID, "" without one.
func kidText(f func(k *results.KID) float64) func(*results.Document) string {
	return func(d *results.Document) string {
		if k := d.Metrics.KID; k != nil {
			return fmt.Sprintf("%.5f", f(k))
		}
		return ""
	}
}

var kidDetails = []Detail{
	{Header: "KID", Text: kidText(func(k *results.KID) float64 { return k.Mean })},
	{Header: "KID std", Text: kidText(func(k *results.KID) float64 { return k.Std })},
}

// prdcColumn is one of the four PRDC values.
func prdcColumn(header string, get func(p *results.PRDC) float64) Column {
	return Column{Header: header, Better: +1, Decimals: 3, Cell: func(d *results.Document, _ View) table.Cell {
		if p := d.Metrics.PRDC; p != nil {
			return table.Value(get(p), nil)
		}
		return table.Cell{}
	}}
}

var prdcColumns = []Column{
	prdcColumn("Precision", func(p *results.PRDC) float64 { return p.Precision }),
	prdcColumn("Recall", func(p *results.PRDC) float64 { return p.Recall }),
	prdcColumn("Density", func(p *results.PRDC) float64 { return p.Density }),
	prdcColumn("Coverage", func(p *results.PRDC) float64 { return p.Coverage }),
}

func prdcProtocol(d *results.Document) string {
	p := d.Metrics.PRDC
	return fmt.Sprintf("precision and recall (k = %d), density and coverage (k = %d) between %s, seed %d",
		p.PRK, p.DCK, versusReal(d, p.NumSamples, p.NumReal), d.Protocol.Seed)
}

// prdcDetail is a detail of a document's PRDC, "" without one; header,
// when it has a %d, takes the neighbour count k.
func prdcDetail(header string, k func(p *results.PRDC) int, text func(p *results.PRDC) string) Detail {
	dt := Detail{Header: header, Text: func(d *results.Document) string {
		if p := d.Metrics.PRDC; p != nil {
			return text(p)
		}
		return ""
	}}
	if k != nil {
		dt.HeaderOf = func(d *results.Document) string { return fmt.Sprintf(header, k(d.Metrics.PRDC)) }
	}
	return dt
}

func prK(p *results.PRDC) int { return p.PRK }
func dcK(p *results.PRDC) int { return p.DCK }

var prdcDetails = []Detail{
	prdcDetail("samples", nil, func(p *results.PRDC) string { return strconv.Itoa(p.NumSamples) }),
	prdcDetail("real", nil, func(p *results.PRDC) string { return strconv.Itoa(p.NumReal) }),
	prdcDetail("precision (k=%d)", prK, func(p *results.PRDC) string { return f4(p.Precision) }),
	prdcDetail("recall (k=%d)", prK, func(p *results.PRDC) string { return f4(p.Recall) }),
	prdcDetail("F", nil, func(p *results.PRDC) string { return f4(p.FScore) }),
	prdcDetail("density (k=%d)", dcK, func(p *results.PRDC) string { return f4(p.Density) }),
	prdcDetail("coverage (k=%d)", dcK, func(p *results.PRDC) string { return f4(p.Coverage) }),
}

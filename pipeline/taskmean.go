package pipeline

import (
	"fmt"
	"path/filepath"

	"github.com/munit-eval/munit-eval/results"
	"github.com/munit-eval/munit-eval/translate"
)

// taskMeans makes, for every method of every domains dataset, the document
// of the mean over its tasks, as StarGAN v2's eval.py reports: the plain
// mean of the tasks' FIDs and of their LPIPS means (each task weighs the
// same, whatever its inputs). Its dataset is the group's name; it records
// the tasks and their values. Documents of the real-data row take no part.
func (c *Config) taskMeans(docs []*results.Document) ([]*results.Document, []string, error) {
	task := map[string]Dataset{}
	var groups []string
	for _, d := range c.Datasets {
		if d.Group == "" {
			continue
		}
		task[d.Name] = d
		if len(groups) == 0 || groups[len(groups)-1] != d.Group {
			groups = append(groups, d.Group)
		}
	}
	var out []*results.Document
	var paths []string
	for _, g := range groups {
		var methods []string
		byMethod := map[string][]*results.Document{}
		for _, doc := range docs {
			d, ok := task[doc.Dataset]
			if !ok || d.Group != g || doc.Method == results.MethodRealData {
				continue
			}
			if byMethod[doc.Method] == nil {
				methods = append(methods, doc.Method)
			}
			byMethod[doc.Method] = append(byMethod[doc.Method], doc)
		}
		for _, m := range methods {
			ds := byMethod[m]
			mean := results.New(m, g)
			mean.Created, mean.Protocol, mean.Models, mean.Versions = ds[0].Created, ds[0].Protocol, ds[0].Models, ds[0].Versions
			mean.Protocol.Inputs, mean.Protocol.Real, mean.Protocol.Samples, mean.Protocol.NumInputs = "", "", "", 0
			tm := &results.TaskMean{}
			var fid, lp float64
			for _, doc := range ds {
				tm.Tasks = append(tm.Tasks, task[doc.Dataset].Task)
				if f := doc.Metrics.FID; f != nil {
					tm.FID = append(tm.FID, f.Value)
					fid += f.Value
				}
				if l := doc.Metrics.LPIPSDiversity; l != nil {
					tm.LPIPS = append(tm.LPIPS, l.Mean)
					lp += l.Mean
				}
			}
			// A task without the metric leaves the mean out rather than
			// averaging fewer tasks than eval.py does.
			n := float64(len(ds))
			if len(tm.FID) == len(ds) {
				tm.FIDMean = results.Float(fid / n)
			} else {
				tm.FID = nil
			}
			if len(tm.LPIPS) == len(ds) {
				tm.LPIPSMean = results.Float(lp / n)
			} else {
				tm.LPIPS = nil
			}
			mean.Metrics.TaskMean = tm
			if err := results.Validate(g+"/"+m, mean); err != nil {
				return nil, nil, err
			}
			dir, err := translate.MethodDir(m)
			if err != nil {
				return nil, nil, fmt.Errorf("method %q: %w", m, err)
			}
			out = append(out, mean)
			paths = append(paths, filepath.Join(c.ResultsDir(), g+"__"+dir+".json"))
		}
	}
	return out, paths, nil
}

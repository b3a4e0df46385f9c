package pipeline

// Datasets laid out as StarGAN v2's official folders (ROOT/train/<domain>,
// ROOT/val/<domain>; clovaai/stargan-v2 core/data_loader.py) expand into
// one task per (source -> target) pair of domains, as its metrics/eval.py
// loops over them.

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
)

// domainFolders lists the domains of ROOT: the sorted sub-folders of
// ROOT/val (eval.py sorts os.listdir of the val folder; a domain's index
// is its position), each with its ROOT/train/<domain>.
func domainFolders(root, name string) ([]string, error) {
	ents, err := os.ReadDir(filepath.Join(root, "val"))
	if err != nil {
		return nil, fmt.Errorf("domains %s: no val folder (want %s/val/<domain> and %s/train/<domain>)", name, name, name)
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() && e.Name()[0] != '.' {
			out = append(out, e.Name())
		}
	}
	slices.Sort(out)
	if len(out) < 2 {
		return nil, fmt.Errorf("domains %s: val holds %d domain folders, a translation task needs at least 2", name, len(out))
	}
	for _, d := range out {
		if !safeName.MatchString(d) {
			return nil, fmt.Errorf("domains %s: domain %q: use letters, digits, '.', '_' and '-' (it names tasks)", name, d)
		}
		if st, err := os.Stat(filepath.Join(root, "train", d)); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("domains %s: val/%s has no train/%s (the FID's real images of the tasks into %s)", name, d, d, d)
		}
	}
	return out, nil
}

// expandDomains replaces every dataset with a domains folder by its tasks,
// as eval.py orders them (target-major, then source): dataset NAME.S2T
// with inputs val/S and real train/T, whose methods translate into T (the
// target_domain index T has in the sorted list, as eval.py's trg_idx) and,
// when reference-guided without their own references, take val/T's images
// as references.
func (c *Config) expandDomains() error {
	var out []Dataset
	for _, d := range c.Datasets {
		if d.Domains.Value == "" {
			out = append(out, d)
			continue
		}
		if d.Inputs.Value != "" || d.Real.Value != "" || d.RealStats.Value != "" {
			return fmt.Errorf("line %d: dataset %q: domains gives the inputs and real folders of every task; drop inputs, real and real_stats", d.line, d.Name)
		}
		doms, err := domainFolders(c.Resolve(d.Domains.Value), d.Domains.Value)
		if err != nil {
			return fmt.Errorf("line %d: %w", d.Domains.Line, err)
		}
		at := func(parts ...string) Path {
			return Path{Value: filepath.Join(append([]string{d.Domains.Value}, parts...)...), Line: d.Domains.Line}
		}
		for ti, trg := range doms {
			for _, src := range doms {
				if src == trg {
					continue
				}
				t := d
				t.Name, t.Group, t.Task = d.Name+"."+src+"2"+trg, d.Name, src+"2"+trg
				t.Domains, t.Inputs, t.Real = Path{}, at("val", src), at("train", trg)
				t.Methods = slices.Clone(d.Methods)
				for i := range t.Methods {
					m := &t.Methods[i]
					if m.TargetDomain == "" && (m.Mapping.Value != "" || m.StyleEncoder.Value != "") {
						m.TargetDomain = strconv.Itoa(ti)
					}
					if m.StyleEncoder.Value != "" && m.References.Value == "" {
						m.References = at("val", trg)
					}
				}
				out = append(out, t)
			}
		}
	}
	c.Datasets = out
	return nil
}

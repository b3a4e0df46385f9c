package translate

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Layouts of a pre-generated sample folder (Config.FromFolder).
const (
	LayoutDirs   = "<stem>/<k>.png" // one folder per input, samples 0.png, 1.png, ...
	LayoutSuffix = "<stem>_<k>.png" // samples beside each other, k after the last '_'
	LayoutSingle = "<stem>.png"     // one sample per input
)

// folderScan is a pre-generated folder matched against the inputs.
type folderScan struct {
	layout string
	k      int
	// sources[i][k] is the file of sample k of selected input i, relative
	// to the folder.
	sources [][]string
}

// isImageName reports whether a file name has an image extension that
// images.Load reads (.png, .jpg, .jpeg, any case).
func isImageName(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".png", ".jpg", ".jpeg":
		return true
	}
	return false
}

// sampleIndex parses a decimal sample index without sign or leading zeros.
func sampleIndex(s string) (int, bool) {
	if s == "" || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	k, err := strconv.Atoi(s)
	return k, err == nil
}

// scanFolder matches the pre-generated folder dir against the selected
// inputs (stems, in order) and all stems of the input folder. The layout is
// LayoutDirs when a sub-folder is named after an input; otherwise
// LayoutSingle when every selected input has a file named after its stem;
// otherwise LayoutSuffix. wantK > 0 is the number of samples asked; 0 takes
// it from the folder (the count of the first input's samples). Files or
// folders belonging to inputs of the input folder that were not selected are
// ignored; any missing sample, and anything else in the folder (an unknown
// stem, a sample index >= K, a non-image file), is an error listing them.
// Hidden files are skipped.
func scanFolder(dir string, selected []string, allStems map[string]bool, wantK int) (*folderScan, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading pre-generated folder: %w", err)
	}
	sel := map[string]int{}
	for i, s := range selected {
		sel[s] = i
	}
	var visible []os.DirEntry
	layout := ""
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		visible = append(visible, e)
		if e.IsDir() && allStems[e.Name()] {
			layout = LayoutDirs
		}
	}
	// found[i][k] = file, for selected input i.
	found := make([]map[int]string, len(selected))
	for i := range found {
		found[i] = map[int]string{}
	}
	var extra []string
	add := func(i, k int, rel string) {
		if prev, dup := found[i][k]; dup {
			extra = append(extra, rel+" (sample "+strconv.Itoa(k)+" of "+selected[i]+" is also "+prev+")")
			return
		}
		found[i][k] = rel
	}
	if layout == LayoutDirs {
		for _, e := range visible {
			name := e.Name()
			if !e.IsDir() || !allStems[name] {
				extra = append(extra, name)
				continue
			}
			i, ok := sel[name]
			if !ok {
				continue // an input that was not selected
			}
			sub, err := os.ReadDir(filepath.Join(dir, name))
			if err != nil {
				return nil, fmt.Errorf("reading pre-generated folder: %w", err)
			}
			for _, f := range sub {
				fn := f.Name()
				if strings.HasPrefix(fn, ".") {
					continue
				}
				rel := name + "/" + fn
				k, ok := sampleIndex(strings.TrimSuffix(fn, filepath.Ext(fn)))
				if f.IsDir() || !isImageName(fn) || !ok {
					extra = append(extra, rel)
					continue
				}
				add(i, k, rel)
			}
		}
	} else {
		layout = LayoutSingle
		exact := map[string]string{}
		for _, e := range visible {
			if !e.IsDir() && isImageName(e.Name()) {
				base := strings.TrimSuffix(e.Name(), filepath.Ext(e.Name()))
				if _, dup := exact[base]; !dup {
					exact[base] = e.Name()
				}
			}
		}
		for _, s := range selected {
			if _, ok := exact[s]; !ok {
				layout = LayoutSuffix
				break
			}
		}
		for _, e := range visible {
			name := e.Name()
			if e.IsDir() || !isImageName(name) {
				extra = append(extra, name)
				continue
			}
			base := strings.TrimSuffix(name, filepath.Ext(name))
			if layout == LayoutSingle {
				if !allStems[base] {
					extra = append(extra, name)
				} else if i, ok := sel[base]; ok {
					add(i, 0, name)
				}
				continue
			}
			cut := strings.LastIndexByte(base, '_')
			k, ok := 0, false
			if cut > 0 {
				k, ok = sampleIndex(base[cut+1:])
			}
			if !ok || !allStems[base[:cut]] {
				extra = append(extra, name)
				continue
			}
			if i, ok := sel[base[:cut]]; ok {
				add(i, k, name)
			}
		}
	}
	k := wantK
	if k == 0 && len(selected) > 0 {
		k = len(found[0])
		if k == 0 {
			k = 1 // report the first input's sample 0 as missing
		}
	}
	if layout == LayoutSingle && k > 1 {
		return nil, fmt.Errorf("pre-generated folder %s has one sample per input (layout %s) but %d samples per input were asked", dir, layout, k)
	}
	var missing []string
	scan := &folderScan{layout: layout, k: k, sources: make([][]string, len(selected))}
	for i, s := range selected {
		scan.sources[i] = make([]string, k)
		for kk := 0; kk < k; kk++ {
			rel, ok := found[i][kk]
			if !ok {
				missing = append(missing, layoutName(layout, s, kk))
				continue
			}
			scan.sources[i][kk] = rel
		}
		var beyond []int
		for kk := range found[i] {
			if kk >= k {
				beyond = append(beyond, kk)
			}
		}
		sort.Ints(beyond)
		for _, kk := range beyond {
			extra = append(extra, found[i][kk])
		}
	}
	if len(missing) > 0 || len(extra) > 0 {
		sort.Strings(extra)
		var parts []string
		if len(missing) > 0 {
			parts = append(parts, fmt.Sprintf("missing %d: %s", len(missing), listSome(missing, 10)))
		}
		if len(extra) > 0 {
			parts = append(parts, fmt.Sprintf("extra %d: %s", len(extra), listSome(extra, 10)))
		}
		return nil, fmt.Errorf("pre-generated folder %s (layout %s, %d samples per input) does not match the %d inputs: %s",
			dir, layout, k, len(selected), strings.Join(parts, "; "))
	}
	return scan, nil
}

// layoutName is the file a layout expects for sample k of stem (with the
// .png extension; .jpg and .jpeg are accepted too).
func layoutName(layout, stem string, k int) string {
	switch layout {
	case LayoutDirs:
		return stem + "/" + strconv.Itoa(k) + ".png"
	case LayoutSuffix:
		return stem + "_" + strconv.Itoa(k) + ".png"
	}
	return stem + ".png"
}

// listSome joins the first n names and says how many more there are.
func listSome(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:n], ", ") + fmt.Sprintf(" and %d more", len(names)-n)
}

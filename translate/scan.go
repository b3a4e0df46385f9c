package translate

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ScanSamples reads a folder of samples laid out as --from-folder reads
// them, without an input folder: the inputs are the folder's sub-folders
// (LayoutDirs, <stem>/<k>.png) or, when it has none, the stems before the
// last '_' of its image files (LayoutSuffix, <stem>_<k>.png). Every input
// must hold samples 0..K−1 with the same K (the first input's count), and
// the folder nothing else; otherwise the error lists what is missing or
// extra (the same check as --from-folder). It returns the layout, the
// stems in sorted order and files[i][k], the path of sample k of stem i.
func ScanSamples(dir string) (layout string, stems []string, files [][]string, err error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return "", nil, nil, fmt.Errorf("reading sample folder: %w", err)
	}
	set := map[string]bool{}
	dirs := false
	for _, e := range ents {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			dirs = true
			set[e.Name()] = true
		}
	}
	if !dirs {
		for _, e := range ents {
			name := e.Name()
			if e.IsDir() || strings.HasPrefix(name, ".") || !isImageName(name) {
				continue
			}
			base := strings.TrimSuffix(name, filepath.Ext(name))
			if cut := strings.LastIndexByte(base, '_'); cut > 0 {
				if _, ok := sampleIndex(base[cut+1:]); ok {
					set[base[:cut]] = true
				}
			}
		}
	}
	if len(set) == 0 {
		return "", nil, nil, fmt.Errorf("sample folder %s holds no samples laid out as %s or %s", dir, LayoutDirs, LayoutSuffix)
	}
	for s := range set {
		stems = append(stems, s)
	}
	sort.Strings(stems)
	scan, err := scanFolder(dir, stems, set, 0)
	if err != nil {
		return "", nil, nil, err
	}
	if scan.layout == LayoutSingle {
		return "", nil, nil, fmt.Errorf("sample folder %s holds one sample per file name, not %s or %s", dir, LayoutDirs, LayoutSuffix)
	}
	files = make([][]string, len(stems))
	for i, row := range scan.sources {
		files[i] = make([]string, len(row))
		for k, rel := range row {
			files[i][k] = filepath.Join(dir, filepath.FromSlash(rel))
		}
	}
	return scan.layout, stems, files, nil
}

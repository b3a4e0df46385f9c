package amt

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Method is one compared method: its name and sample store folder
// (STORE/<method>).
type Method struct {
	Name  string
	Store string
}

// MakeConfig holds the parameters of Make. DefaultMakeConfig gives the
// paper's defaults.
type MakeConfig struct {
	// Methods are the compared methods, the reference among them.
	Methods []Method
	// Reference names the method every other one is compared with.
	Reference string
	// Dataset names the dataset the stores hold (e.g. "edges2shoes"); the
	// key keeps it, so that amt analyze labels the results with it.
	Dataset string
	// Inputs, when set, is the folder the input images are read from (by
	// stem); otherwise each store's own input folder.
	Inputs string
	// Questions per baseline, questions per HIT, workers per HIT.
	Questions int
	PerHIT    int
	Workers   int
	// Catch is the share of each HIT's questions that are catch questions.
	Catch float64
	// Seed draws the questions and derives the image-naming secret.
	Seed int64
	// BaseURL is where BATCH/images/ will be served from; image URLs are
	// BaseURL + "/" + name. Empty gives relative URLs "images/<name>".
	BaseURL string
	// Out is the batch folder. It must not exist or be empty unless Force.
	Out   string
	Force bool
	// Workers for image encoding (0: the number of CPUs).
	Jobs int
}

// DefaultMakeConfig returns the paper's protocol: 500 questions per baseline,
// 10 per HIT, 5 workers per HIT, 10% catch questions, seed 0.
func DefaultMakeConfig() MakeConfig {
	return MakeConfig{Reference: "MUNIT", Questions: 500, PerHIT: 10, Workers: 5, Catch: 0.1}
}

// MaxWorkers bounds MakeConfig.Workers (assignments per HIT).
const MaxWorkers = 1000

// MaxPerHIT bounds MakeConfig.PerHIT: a HIT is one sitting of one worker.
const MaxPerHIT = 1000

// MaxQuestions bounds MakeConfig.Questions (per baseline): the paper asks
// 500, and every question writes two images.
const MaxQuestions = 100000

// Make builds an AMT batch (docs/amt.md) in cfg.Out:
// DesignBatch, then Design.Write. The batch holds
//
//   - images/: every image shown, re-encoded as PNG (no metadata), named
//     hex(HMAC-SHA256(secret, occurrence))[:32] + ".png", where the
//     occurrence is (input stem, pixels) for inputs and (question id, side,
//     pixels) for outputs, so that no name can be computed without the secret,
//     byte-identical inputs still get a file each, and no output image recurs
//     across questions (a recurring image would betray the reference, which
//     appears in every comparison);
//   - batch.csv: MTurk's batch input, one row per HIT, columns
//     q<s>_input, q<s>_left, q<s>_right for s = 1..PerHIT;
//   - hit.html: the HIT layout (crowd-html-elements);
//   - key.json: the answer key (Key), mode 0600.
//
// The batch is written into a temporary folder beside cfg.Out and moved into
// place at the end, so a failed or interrupted Make leaves no partial batch.
func Make(ctx context.Context, cfg MakeConfig) (*Key, error) {
	d, err := DesignBatch(cfg)
	if err != nil {
		return nil, err
	}
	return d.Write(ctx)
}

// check validates a MakeConfig.
func (cfg *MakeConfig) check() error {
	switch {
	case cfg.Out == "":
		return errors.New("amt: no output folder")
	case cfg.Questions < 1 || cfg.Questions > MaxQuestions:
		return fmt.Errorf("amt: questions %d, want 1 to %d per baseline", cfg.Questions, MaxQuestions)
	case cfg.PerHIT > MaxPerHIT:
		return fmt.Errorf("amt: per-hit %d, want at most %d", cfg.PerHIT, MaxPerHIT)
	case cfg.PerHIT < 1:
		return fmt.Errorf("amt: per-hit %d, want at least 1", cfg.PerHIT)
	case cfg.Workers < 1 || cfg.Workers > MaxWorkers:
		return fmt.Errorf("amt: workers %d, want 1 to %d per HIT", cfg.Workers, MaxWorkers)
	case !(cfg.Catch >= 0 && cfg.Catch < 1):
		return fmt.Errorf("amt: catch %g, want a share in [0, 1)", cfg.Catch)
	}
	if c := catchPerHIT(cfg.Catch, cfg.PerHIT); c >= cfg.PerHIT {
		return fmt.Errorf("amt: catch %g leaves no room for real questions in a HIT of %d (%d catch questions)", cfg.Catch, cfg.PerHIT, c)
	}
	names := map[string]bool{}
	hasRef := false
	for _, m := range cfg.Methods {
		if m.Name == "" || m.Store == "" {
			return fmt.Errorf("amt: method %q with store %q: want NAME=STORE/<method>", m.Name, m.Store)
		}
		if m.Name == CatchMethod {
			return fmt.Errorf("amt: %q is reserved for catch questions; rename the method", CatchMethod)
		}
		if names[m.Name] {
			return fmt.Errorf("amt: method %s given twice", m.Name)
		}
		names[m.Name] = true
		hasRef = hasRef || m.Name == cfg.Reference
	}
	if !hasRef {
		return fmt.Errorf("amt: the reference %q is not among the methods (%d given); add --method %s=STORE/<method>", cfg.Reference, len(cfg.Methods), cfg.Reference)
	}
	if len(cfg.Methods) < 2 {
		return errors.New("amt: no baseline: give at least one --method besides the reference")
	}
	if strings.ContainsAny(cfg.BaseURL, "\"'<>` \t\r\n") {
		return fmt.Errorf("amt: base URL %q contains quotes, spaces or angle brackets", cfg.BaseURL)
	}
	if sanitizeCell(cfg.BaseURL) != cfg.BaseURL {
		return fmt.Errorf("amt: base URL %q starts with a spreadsheet formula character", cfg.BaseURL)
	}
	return nil
}

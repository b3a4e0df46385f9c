package amt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"strings"
)

// KeySchema is the value of Key.Schema for this version of the answer key.
const KeySchema = "munit-eval/amt-key/v1"

// Answers and the pseudo-method of catch questions.
const (
	// AnswerLeft and AnswerRight are the only valid answers of a question.
	AnswerLeft  = "left"
	AnswerRight = "right"
	// CatchMethod names the obvious loser of a catch question (a scrambled
	// copy of the reference's output) in Question.Left or Question.Right.
	CatchMethod = "catch"
)

// File names inside a batch folder.
const (
	KeyFile          = "key.json"
	BatchCSVFile     = "batch.csv"
	HITFile          = "hit.html"
	ImagesDir        = "images"
	LocalResultsFile = "local-results.csv"
)

// Key is the researcher's answer key of a batch (BATCH/key.json, schema
// KeySchema). It is never shown to workers: it holds which method is on which
// side of every question and the secret that names the images.
type Key struct {
	Schema string `json:"schema"`
	// Reference is the method every baseline is compared with (e.g. "MUNIT").
	Reference string `json:"reference"`
	// Params are the batch's parameters, as given to amt make.
	Params Params `json:"params"`
	// Secret is the hex HMAC-SHA256 key that named the images.
	Secret string `json:"secret"`
	// Variables is batch.csv's header: the template variables of hit.html,
	// in column order. Fields are the answer fields of one HIT, in the order
	// the HIT shows them.
	Variables []string `json:"variables"`
	Fields    []string `json:"fields"`
	// HITs holds batch.csv's rows: HITs[h][v] is the value of Variables[v]
	// in row h (0-based, header excluded). MTurk echoes these values in the
	// results' Input.* columns, which is how rows are matched to HITs.
	HITs [][]string `json:"hits"`
	// Questions are all questions of the batch, in HIT order.
	Questions []Question `json:"questions"`
	// Images records where every image of BATCH/images came from, by file
	// name.
	Images map[string]ImageInfo `json:"images"`
}

// Params are the parameters a batch was made with.
type Params struct {
	// Methods are the compared methods (reference included) and their stores.
	Methods []MethodRef `json:"methods"`
	// Baselines are the methods compared with the reference, in flag order.
	Baselines []string `json:"baselines"`
	// Dataset is the dataset the stores hold, as given to amt make
	// --dataset (empty when not given; keys written before the field
	// existed have none).
	Dataset string `json:"dataset,omitempty"`
	// Inputs is the input folder (empty: each store's own input folder).
	Inputs string `json:"inputs,omitempty"`
	// Questions is the number of questions per baseline; PerHIT the
	// questions per HIT (catch questions included); Workers the
	// assignments (workers) per HIT.
	Questions int `json:"questions"`
	PerHIT    int `json:"per_hit"`
	Workers   int `json:"workers"`
	// Catch is the requested share of catch questions; CatchPerHIT the
	// number each HIT holds (the last HIT may hold more, see Make).
	Catch       float64 `json:"catch"`
	CatchPerHIT int     `json:"catch_per_hit"`
	Seed        int64   `json:"seed"`
	BaseURL     string  `json:"base_url"`
}

// MethodRef names a method and its sample store folder.
type MethodRef struct {
	Name            string `json:"name"`
	Store           string `json:"store"`
	SamplesPerInput int    `json:"samples_per_input"`
}

// Question is one two-alternative forced choice.
type Question struct {
	// ID is the question's index in Key.Questions.
	ID int `json:"id"`
	// HIT is the 0-based row of batch.csv holding the question.
	HIT int `json:"hit"`
	// AnswerField is the form field of the answer; MTurk's results column is
	// "Answer." + AnswerField.
	AnswerField string `json:"answer_field"`
	// Left and Right are the methods shown on each side (CatchMethod for a
	// catch question's scrambled side).
	Left  string `json:"left"`
	Right string `json:"right"`
	// Catch marks a catch question; Correct is its right answer
	// (AnswerLeft or AnswerRight), nil for other questions.
	Catch   bool    `json:"catch"`
	Correct *string `json:"correct"`
}

// ImageInfo says where an image of the batch came from.
type ImageInfo struct {
	// Kind is "input", "sample" or "scrambled".
	Kind string `json:"kind"`
	// Method is the method of a sample (or of the scrambled sample).
	Method string `json:"method,omitempty"`
	// Input is the input's stem; K the sample index.
	Input string `json:"input"`
	K     int    `json:"k"`
	// Source is the file the pixels were read from, SHA256 the hash of the
	// batch's file.
	Source string `json:"source"`
	SHA256 string `json:"sha256"`
}

// Image kinds of ImageInfo.Kind.
const (
	KindInput     = "input"
	KindSample    = "sample"
	KindScrambled = "scrambled"
)

// Slot variables of a question in position s (1-based) of a HIT.
func slotField(s int) string  { return fmt.Sprintf("q%d", s) }
func inputVar(s int) string   { return fmt.Sprintf("q%d_input", s) }
func leftVar(s int) string    { return fmt.Sprintf("q%d_left", s) }
func rightVar(s int) string   { return fmt.Sprintf("q%d_right", s) }
func strPtr(s string) *string { return &s }

// ReadKey reads and validates an answer key.
func ReadKey(path string) (*Key, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("amt: %w", err)
	}
	return ParseKey(path, b)
}

// ParseKey decodes and validates an answer key; name is used in messages.
// Unknown fields are rejected so that another file is not read as an empty key.
func ParseKey(name string, b []byte) (*Key, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var k Key
	if err := dec.Decode(&k); err != nil {
		return nil, fmt.Errorf("amt: %s: not an answer key: %w", name, err)
	}
	if err := k.validate(); err != nil {
		return nil, fmt.Errorf("amt: %s: %w", name, err)
	}
	return &k, nil
}

// validate checks the key's internal consistency.
func (k *Key) validate() error {
	if k.Schema != KeySchema {
		return fmt.Errorf("schema %q, want %q", k.Schema, KeySchema)
	}
	if k.Reference == "" {
		return fmt.Errorf("no reference method")
	}
	if len(k.Variables) == 0 || len(k.Fields) == 0 {
		return fmt.Errorf("no variables or answer fields")
	}
	if len(k.Variables) != 3*len(k.Fields) {
		return fmt.Errorf("%d variables for %d answer fields, want 3 per field", len(k.Variables), len(k.Fields))
	}
	seen := map[string]bool{}
	for _, v := range append(append([]string(nil), k.Variables...), k.Fields...) {
		if !validName(v) {
			return fmt.Errorf("variable or field name %q: want letters, digits and _", v)
		}
	}
	for _, v := range k.Variables {
		if seen[v] {
			return fmt.Errorf("variable %q repeated", v)
		}
		seen[v] = true
	}
	fieldIndex := map[string]bool{}
	for _, f := range k.Fields {
		if fieldIndex[f] {
			return fmt.Errorf("answer field %q repeated", f)
		}
		fieldIndex[f] = true
	}
	rows := map[string]int{}
	for h, row := range k.HITs {
		if len(row) != len(k.Variables) {
			return fmt.Errorf("hit %d has %d values for %d variables", h, len(row), len(k.Variables))
		}
		id := rowID(row)
		if j, dup := rows[id]; dup {
			return fmt.Errorf("hits %d and %d have the same values: results could not tell them apart", j, h)
		}
		rows[id] = h
	}
	type slot struct {
		hit   int
		field string
	}
	used := map[slot]int{}
	for i, q := range k.Questions {
		if q.ID != i {
			return fmt.Errorf("questions[%d] has id %d", i, q.ID)
		}
		if q.HIT < 0 || q.HIT >= len(k.HITs) {
			return fmt.Errorf("question %d: hit %d out of range (%d hits)", i, q.HIT, len(k.HITs))
		}
		if !fieldIndex[q.AnswerField] {
			return fmt.Errorf("question %d: unknown answer field %q", i, q.AnswerField)
		}
		s := slot{q.HIT, q.AnswerField}
		if j, dup := used[s]; dup {
			return fmt.Errorf("questions %d and %d share hit %d field %s", j, i, q.HIT, q.AnswerField)
		}
		used[s] = i
		if q.Left == "" || q.Right == "" || q.Left == q.Right {
			return fmt.Errorf("question %d: sides %q and %q", i, q.Left, q.Right)
		}
		if q.Left != k.Reference && q.Right != k.Reference {
			return fmt.Errorf("question %d: neither side is the reference %s", i, k.Reference)
		}
		if q.Catch {
			if q.Correct == nil || (*q.Correct != AnswerLeft && *q.Correct != AnswerRight) {
				return fmt.Errorf("catch question %d: correct must be left or right", i)
			}
			if (*q.Correct == AnswerLeft) != (q.Right == CatchMethod) {
				return fmt.Errorf("catch question %d: correct side %s is the scrambled one", i, *q.Correct)
			}
		} else if q.Correct != nil {
			return fmt.Errorf("question %d is no catch question but has a correct answer", i)
		}
	}
	return nil
}

// validName reports whether s is a usable MTurk template variable or form
// field name: ASCII letters, digits and '_', starting with a letter.
func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case (c >= '0' && c <= '9' || c == '_') && i > 0:
		default:
			return false
		}
	}
	return true
}

// rowID joins a HIT's values into one map key.
func rowID(values []string) string { return strings.Join(values, "\x00") }

// Baselines returns the key's baselines in order.
func (k *Key) Baselines() []string { return k.Params.Baselines }

// variableIndex returns the column of variable v in Variables, or -1.
func (k *Key) variableIndex(v string) int {
	for i, x := range k.Variables {
		if x == v {
			return i
		}
	}
	return -1
}

// imageName returns the image file name (without folder) that a batch.csv
// value points to, or "" when it names no image of the batch.
func (k *Key) imageName(url string) string {
	name := path.Base(url)
	if _, ok := k.Images[name]; !ok {
		return ""
	}
	return name
}

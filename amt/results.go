package amt

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"github.com/munit-eval/munit-eval/warning"
	"io"
	"strconv"
	"strings"
)

// Columns of MTurk's batch results that the analysis reads. Others are ignored.
const (
	ColHITId             = "HITId"
	ColHITTypeId         = "HITTypeId"
	ColAssignmentId      = "AssignmentId"
	ColWorkerId          = "WorkerId"
	ColAssignmentStatus  = "AssignmentStatus"
	ColAcceptTime        = "AcceptTime"
	ColSubmitTime        = "SubmitTime"
	ColWorkTimeInSeconds = "WorkTimeInSeconds"
	InputPrefix          = "Input."
	AnswerPrefix         = "Answer."
)

// Assignment statuses of MTurk's results.
const (
	StatusSubmitted = "Submitted"
	StatusApproved  = "Approved"
	StatusRejected  = "Rejected"
)

// LocalHITType is the HITTypeId of the local study's rows (amt serve): one
// answer per row, as it is given.
const LocalHITType = "local"

// MaxResultsBytes bounds a results file, against reading a wrong huge file.
const MaxResultsBytes = 1 << 30

// Row is one row of a results file: one assignment of MTurk (a worker's
// answers to one HIT), or one answer of the local study.
type Row struct {
	// File and Line locate the row (Line is the 1-based line its record starts on).
	File string
	Line int
	// HIT is the batch.csv row the Input.* values matched.
	HIT                           int
	HITId, AssignmentId, WorkerId string
	// HITTypeId is LocalHITType for the local study's rows, which hold one
	// answer each (a participant's HIT is in progress until every question
	// has its row), where an MTurk row is a whole submitted assignment.
	HITTypeId string
	Status    string
	WorkTime  float64 // seconds; NaN when absent
	// Answers holds the trimmed value of Answer.<field> for every field
	// of the key, in Key.Fields order ("" when empty).
	Answers []string
}

// ResultsHeader is the header the local study writes, and Simulate: MTurk's
// results layout for key.
func ResultsHeader(key *Key) []string {
	h := []string{ColHITId, ColHITTypeId, ColAssignmentId, ColWorkerId, ColAssignmentStatus, ColAcceptTime, ColSubmitTime, ColWorkTimeInSeconds}
	for _, v := range key.Variables {
		h = append(h, InputPrefix+v)
	}
	for _, f := range key.Fields {
		h = append(h, AnswerPrefix+f)
	}
	return h
}

// ReadResults parses one results file of key's batch (MTurk's downloaded
// batch results, or the local study's local-results.csv). It accepts a UTF-8
// byte-order mark and CRLF line ends; ignores columns it does not know; skips a
// truncated last line (an interrupted download or write: too few fields, or a
// quoted field left open on the last line) with a warning, and never any
// other row; and rejects, with the file and line number, a malformed row
// anywhere else (a quote left open mid-file, which would swallow the rest of
// the file, a bare quote, too few or too many fields), a missing column (HITId, WorkerId,
// AssignmentStatus, every Input.<variable> and Answer.<field> of the key), a
// row whose Input.* values match no HIT of the key, an unknown assignment
// status, an empty WorkerId, and an answer other than "left", "right" or
// empty. Rejected assignments are returned too; the analysis drops them.
func ReadResults(name string, r io.Reader, key *Key) (rows []Row, warnings []warning.Warning, err error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxResultsBytes+1))
	if err != nil {
		return nil, nil, fmt.Errorf("amt: %s: %w", name, err)
	}
	if len(data) > MaxResultsBytes {
		return nil, nil, fmt.Errorf("amt: %s: larger than %d bytes", name, MaxResultsBytes)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	lastLine := bytes.Count(data, []byte("\n")) + 1
	if bytes.HasSuffix(data, []byte("\n")) {
		lastLine--
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false
	header, err := cr.Read()
	if err == io.EOF {
		return nil, nil, fmt.Errorf("amt: %s: empty file, want MTurk batch results with a header row", name)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("amt: %s: %w", name, err)
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.TrimSpace(h)
		if _, dup := col[h]; dup && h != "" {
			return nil, nil, fmt.Errorf("amt: %s:1: column %q appears twice", name, h)
		}
		col[h] = i
	}
	need := func(c string) (int, error) {
		i, ok := col[c]
		if !ok {
			return 0, fmt.Errorf("amt: %s:1: no column %q (is this a results file of this batch?)", name, c)
		}
		return i, nil
	}
	var cHIT, cWorker, cStatus int
	for _, p := range []struct {
		c   string
		dst *int
	}{{ColHITId, &cHIT}, {ColWorkerId, &cWorker}, {ColAssignmentStatus, &cStatus}} {
		if *p.dst, err = need(p.c); err != nil {
			return nil, nil, err
		}
	}
	cAssign, hasAssign := col[ColAssignmentId]
	cType, hasType := col[ColHITTypeId]
	cTime, hasTime := col[ColWorkTimeInSeconds]
	inCols := make([]int, len(key.Variables))
	for i, v := range key.Variables {
		if inCols[i], err = need(InputPrefix + v); err != nil {
			return nil, nil, err
		}
	}
	ansCols := make([]int, len(key.Fields))
	for i, f := range key.Fields {
		if ansCols[i], err = need(AnswerPrefix + f); err != nil {
			return nil, nil, err
		}
	}
	hitByValues := make(map[string]int, len(key.HITs))
	for h, row := range key.HITs {
		hitByValues[rowID(row)] = h
	}
	values := make([]string, len(inCols))
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return nil, nil, fmt.Errorf("amt: %s: %w", name, err)
			}
			// An unterminated quote runs to the end of the file. Only when
			// its row starts on the last line is it a cut-off last row; a
			// quote opened earlier swallowed every row after it.
			if errors.Is(pe.Err, csv.ErrQuote) && pe.StartLine >= lastLine {
				warnings = append(warnings, warning.New(CodeStudy, warning.SubjectPreference, "%s:%d: truncated last row skipped (unterminated quoted field)", name, pe.StartLine))
				break
			}
			if errors.Is(pe.Err, csv.ErrQuote) {
				return nil, nil, fmt.Errorf("amt: %s:%d: a quoted field opened on this line is never closed: it swallows lines %d to %d (the rest of the file); fix the quote", name, pe.StartLine, pe.StartLine, lastLine)
			}
			return nil, nil, fmt.Errorf("amt: %s:%d: malformed row: %w", name, pe.StartLine, pe.Err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // blank line
		}
		if len(rec) < len(header) {
			if line >= lastLine {
				warnings = append(warnings, warning.New(CodeStudy, warning.SubjectPreference, "%s:%d: truncated last row skipped (%d of %d fields)", name, line, len(rec), len(header)))
				break
			}
			return nil, nil, fmt.Errorf("amt: %s:%d: %d fields, the header has %d", name, line, len(rec), len(header))
		}
		if len(rec) > len(header) {
			return nil, nil, fmt.Errorf("amt: %s:%d: %d fields, the header has %d", name, line, len(rec), len(header))
		}
		for i, c := range inCols {
			values[i] = rec[c]
		}
		hit, ok := hitByValues[rowID(values)]
		if !ok {
			return nil, nil, fmt.Errorf("amt: %s:%d: HIT %q: its Input.* values match no HIT of the key (results of another batch?)", name, line, rec[cHIT])
		}
		row := Row{File: name, Line: line, HIT: hit, HITId: rec[cHIT], WorkerId: strings.TrimSpace(rec[cWorker]), Status: strings.TrimSpace(rec[cStatus])}
		if hasAssign {
			row.AssignmentId = rec[cAssign]
		}
		if hasType {
			row.HITTypeId = strings.TrimSpace(rec[cType])
		}
		if row.WorkerId == "" {
			return nil, nil, fmt.Errorf("amt: %s:%d: empty WorkerId", name, line)
		}
		switch row.Status {
		case StatusSubmitted, StatusApproved, StatusRejected:
		default:
			return nil, nil, fmt.Errorf("amt: %s:%d: AssignmentStatus %q, want Submitted, Approved or Rejected", name, line, row.Status)
		}
		row.WorkTime = nan()
		if hasTime {
			if s := strings.TrimSpace(rec[cTime]); s != "" {
				t, err := strconv.ParseFloat(s, 64)
				if err != nil || t < 0 {
					return nil, nil, fmt.Errorf("amt: %s:%d: WorkTimeInSeconds %q is not a number of seconds", name, line, s)
				}
				row.WorkTime = t
			}
		}
		row.Answers = make([]string, len(ansCols))
		for i, c := range ansCols {
			a := strings.TrimSpace(rec[c])
			switch a {
			case "", AnswerLeft, AnswerRight:
			default:
				return nil, nil, fmt.Errorf("amt: %s:%d: %s%s = %q, want %q or %q", name, line, AnswerPrefix, key.Fields[i], truncate(a, 40), AnswerLeft, AnswerRight)
			}
			row.Answers[i] = a
		}
		rows = append(rows, row)
	}
	return rows, warnings, nil
}

// truncate shortens s to n bytes for messages.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// sanitizeCell defuses CSV (formula) injection for spreadsheet programs: a
// cell starting with '=', '+', '-', '@', tab or carriage return gets a leading
// apostrophe (OWASP's recommendation).
func sanitizeCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

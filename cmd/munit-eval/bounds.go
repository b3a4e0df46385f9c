package main

import (
	"fmt"

	"github.com/munit-eval/munit-eval/evaluate"
	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/translate"
	"github.com/spf13/cobra"
)

// maxStreams bounds --streams: each stream holds a batch of activations.
const maxStreams = 64

// checkTranslate bounds translate's numeric flags with the protocol's
// limits (evaluate.Bounds; 0 keeps its meaning of "all" or "as found"),
// and checks the inputs' sizes against the pixel budgets and the memory
// from their headers, before any work: translate is the one command that
// runs a generator without an evaluate.Protocol.
func checkTranslate(cmd *cobra.Command, c translate.Config) error {
	for _, b := range []struct {
		flag, key string
		v         int
	}{
		{"num-inputs", "num_inputs", c.NumInputs},
		{"samples-per-input", "samples_per_input", c.Samples},
		{"batch", "batch", c.Batch},
		{"size", "size", c.Size},
	} {
		_, most, _ := evaluate.Bounds(b.key)
		if b.v < 0 || b.v > most {
			return usageError{fmt.Errorf("translate: --%s must be between 0 and %d, got %d", b.flag, most, b.v)}
		}
	}
	if c.Streams < 0 || c.Streams > maxStreams {
		return usageError{fmt.Errorf("translate: --streams must be between 0 and %d, got %d", maxStreams, c.Streams)}
	}
	if c.Size > 0 {
		if err := evaluate.CheckBatchPixels(max(c.Batch, 1), int64(c.Size)*int64(c.Size)); err != nil {
			return usageError{fmt.Errorf("translate: %w", flagError(err))}
		}
	}
	if c.Generator == "" || c.Inputs == "" {
		return nil // the copy of a folder runs no network; RunE names what is missing
	}
	p := evaluate.DefaultProtocol()
	p.NumInputs, p.Select, p.Size, p.Batch = c.NumInputs, c.Select, c.Size, c.Batch
	if p.Batch == 0 {
		p.Batch = translate.DefaultConfig().Batch
	}
	if err := evaluate.CheckInputs(c.Inputs, p, global.memBytes); err != nil {
		return fmt.Errorf("translate: %w", flagError(err))
	}
	return nil
}

// checkSizeFlag bounds a resize flag other than the protocol's --size
// (lpips --real-size, distance --size) like the protocol's size.
func checkSizeFlag(cmdName, flag string, v int) error {
	least, most, _ := evaluate.Bounds("size")
	if v < least || v > most {
		return usageError{fmt.Errorf("%s: --%s must be between %d and %d, got %d (the pixel budget is %d x %d per image)",
			cmdName, flag, least, most, v, evaluate.MaxSize, evaluate.MaxSize)}
	}
	return nil
}

// checkPair checks the two images of distance against the pixel budget
// and the memory, from their headers.
func checkPair(a, b string, size int) error {
	px, err := evaluate.ImagePixels([]images.File{{Path: a}, {Path: b}}, size)
	if err != nil {
		return fmt.Errorf("distance: %w", err)
	}
	if err := evaluate.CheckMemory(2, px, global.memBytes); err != nil {
		return fmt.Errorf("distance: %w", err)
	}
	return nil
}

package model

import (
	"fmt"
	"strings"
)

// TooSmallError is a run that failed because the image was smaller than the
// network can take: reflection padding (CycleGAN's and MUNIT's first layer,
// and their residual blocks after downsampling) needs every padded side to
// be longer than the padding. onnxruntime's own text ("Pad reflect requires
// axis length >= 2") names neither the model's limit nor a remedy.
type TooSmallError struct {
	// Path is the model file; H and W the image size that failed.
	Path string
	H, W int
	// Min is the smallest square side the model runs on (found by running
	// it on blank images), 0 when it could not be found.
	Min int
	// Err is onnxruntime's error.
	Err error
}

func (e *TooSmallError) Error() string {
	if e.Min > 0 {
		return fmt.Sprintf("%s: the model needs images of at least %dx%d, got %dx%d (its reflection padding is wider than the image)", e.Path, e.Min, e.Min, e.W, e.H)
	}
	return fmt.Sprintf("%s: the image (%dx%d) is too small for the model's reflection padding: %v", e.Path, e.W, e.H, e.Err)
}

// Unwrap returns onnxruntime's error.
func (e *TooSmallError) Unwrap() error { return e.Err }

// tooSmall turns onnxruntime's reflection-padding failure on inputs into a
// TooSmallError; other errors pass unchanged.
func (s *Session) tooSmall(inputs map[string]Tensor, err error) error {
	if err == nil || !strings.Contains(err.Error(), "Pad reflect") || s.info.ImageInput == "" {
		return err
	}
	img := inputs[s.info.ImageInput]
	if len(img.Shape) != 4 {
		return err
	}
	e := &TooSmallError{Path: s.info.Path, H: int(img.Shape[2]), W: int(img.Shape[3]), Err: err}
	e.Min = s.minImageSize(max(e.H, e.W)+1, 4096)
	return e
}

// minImageSize returns the smallest square side in [lo, hi] that the model
// runs on, from runs on one blank image: doubling from lo until a run
// succeeds, then bisecting between the last failure and that success. It
// assumes that a model that takes a side takes every larger one of the
// same divisibility (true of padding limits); a model that fails a probe
// for another reason just makes the search report a larger side. The other inputs are zeros:
// noise inputs shaped by their stride, others with dynamic axes set to 1.
// It returns 0 when the model needs an input it cannot shape, or no side
// up to hi works.
func (s *Session) minImageSize(lo, hi int) int {
	batch := int64(max(s.info.FixedBatch, 1))
	var outs []string
	for _, t := range s.info.Outputs {
		outs = append(outs, t.Name)
	}
	runs := func(side int) bool {
		in := map[string]Tensor{}
		for _, t := range s.info.Inputs {
			var shape []int64
			switch {
			case t.Name == s.info.ImageInput:
				shape = []int64{batch, 3, int64(side), int64(side)}
			case noiseNames(s.info.Noise)[t.Name]:
				for _, n := range s.info.Noise {
					if n.Input == t.Name {
						if side%n.Stride != 0 {
							return false
						}
						shape = []int64{batch, int64(n.Channels), int64(side / n.Stride), int64(side / n.Stride)}
					}
				}
			default:
				shape = make([]int64, len(t.Shape))
				for i, d := range t.Shape {
					shape[i] = max(d, 1)
				}
				if len(shape) > 0 {
					shape[0] = batch
				}
				if len(shape) > 2 && t.Shape[2] < 0 {
					return false // a spatial input other than the image (content)
				}
			}
			n := int64(1)
			for _, d := range shape {
				n *= d
			}
			in[t.Name] = Tensor{Shape: shape, Data: make([]float32, n)}
		}
		// s.run, not Run: Run would probe again on a padding failure.
		_, err := s.run(in, outs)
		return err == nil
	}
	bad, good := lo-1, 0
	for side := lo; side <= hi; side *= 2 {
		if runs(side) {
			good = side
			break
		}
		bad = side
	}
	if good == 0 {
		return 0
	}
	for good-bad > 1 {
		mid := (bad + good) / 2
		if runs(mid) {
			good = mid
		} else {
			bad = mid
		}
	}
	return good
}

package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// MetaNoise is the metadata key of a generator's noise inputs: a JSON list
// of NoiseInput (docs/models.md, "Test-time noise").
const MetaNoise = "munit_eval.noise"

// MetaHWMultiple is the metadata key that asks for image sides that are
// multiples of its value.
const MetaHWMultiple = "munit_eval.hw_multiple"

// Noise distributions (NoiseInput.Dist).
const (
	NoiseUniform = "uniform" // uniform on [0, 1)
	NoiseNormal  = "normal"  // standard normal N(0, 1)
)

// NoiseInput is one entry of a generator's munit_eval.noise metadata: the
// model input Input is a float32 tensor [N, Channels, H/Stride, W/Stride],
// H and W the input image's size, filled with independent draws of Dist.
// Exported dropout uses a uniform input u as x * (u >= p) / (1 - p); an
// encoder's Gaussian noise uses a normal input n as content + n.
type NoiseInput struct {
	Input    string `json:"input"`
	Dist     string `json:"dist"`
	Channels int    `json:"channels"`
	Stride   int    `json:"stride"`
}

// ParseNoise parses the value of MetaNoise ("" or absent: no noise inputs).
// It refuses malformed JSON, unknown fields, an empty or repeated input
// name, a distribution other than uniform or normal, channels below 1 and
// strides below 1, naming the entry.
func ParseNoise(s string) ([]NoiseInput, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.DisallowUnknownFields()
	var list []NoiseInput
	if err := dec.Decode(&list); err != nil {
		return nil, fmt.Errorf("not a JSON list of {\"input\", \"dist\", \"channels\", \"stride\"}: %w", err)
	}
	if dec.More() {
		return nil, errors.New("trailing data after the JSON list")
	}
	seen := map[string]bool{}
	for j, n := range list {
		if err := n.Validate(); err != nil {
			return nil, fmt.Errorf("entry %d: %w", j, err)
		}
		if seen[n.Input] {
			return nil, fmt.Errorf("input %q is listed twice", n.Input)
		}
		seen[n.Input] = true
	}
	return list, nil
}

// Validate checks one entry: a name, a known distribution, channels and
// stride of at least 1.
func (n NoiseInput) Validate() error {
	switch {
	case n.Input == "":
		return errors.New("no input name")
	case n.Dist != NoiseUniform && n.Dist != NoiseNormal:
		return fmt.Errorf("input %q: dist %q, want %q or %q", n.Input, n.Dist, NoiseUniform, NoiseNormal)
	case n.Channels < 1:
		return fmt.Errorf("input %q: channels %d, want at least 1", n.Input, n.Channels)
	case n.Stride < 1:
		return fmt.Errorf("input %q: stride %d, want at least 1", n.Input, n.Stride)
	}
	return nil
}

// Shape returns the noise tensor's shape [batch, Channels, h/Stride,
// w/Stride] for images of h x w, or an error when a side is not a multiple
// of Stride.
func (n NoiseInput) Shape(batch, h, w int) ([]int64, error) {
	if h%n.Stride != 0 || w%n.Stride != 0 {
		return nil, fmt.Errorf("noise input %q has stride %d, but the image is %dx%d (sides must be multiples of %d)", n.Input, n.Stride, w, h, n.Stride)
	}
	return []int64{int64(batch), int64(n.Channels), int64(h / n.Stride), int64(w / n.Stride)}, nil
}

// reservedInput reports whether name is one the contract gives to the
// image, the content or the latent code, which can never be noise.
func reservedInput(name string) bool {
	return name == "image" || name == "content" || slices.Contains(latentNames, name)
}

// noiseNames returns the set of noise input names that are not reserved
// (nil for none).
func noiseNames(ns []NoiseInput) map[string]bool {
	var m map[string]bool
	for _, n := range ns {
		if !reservedInput(n.Input) {
			if m == nil {
				m = map[string]bool{}
			}
			m[n.Input] = true
		}
	}
	return m
}

// checkNoise adds the problems of the noise declaration of a generator or
// decoder: every listed input exists, is not the image, latent or content
// input, is 4-D with Channels channels, and (when the image input fixes its
// size) divides the image's sides by Stride to its own fixed sides.
func checkNoise(info *Info, add func(string, ...any)) {
	ns, err := ParseNoise(info.Metadata[MetaNoise])
	if err != nil {
		add("metadata %s: %v", MetaNoise, err)
		return
	}
	img, _ := info.Input(info.ImageInput)
	for _, n := range ns {
		t, ok := info.Input(n.Input)
		switch {
		case !ok:
			add("metadata %s names input %q, which the model does not have (inputs: %s)", MetaNoise, n.Input, describe(info.Inputs))
			continue
		case reservedInput(n.Input) || n.Input == info.ImageInput || n.Input == info.LatentInput:
			add("metadata %s names input %q, which is the model's image, latent or content input", MetaNoise, n.Input)
			continue
		case len(t.Shape) != 4:
			add("noise input %q has shape %s, want [N,%d,H/%d,W/%d]", n.Input, shapeString(t.Shape), n.Channels, n.Stride, n.Stride)
			continue
		case t.Shape[1] > 0 && t.Shape[1] != int64(n.Channels):
			add("metadata %s says input %q has %d channels, but its shape is %s", MetaNoise, n.Input, n.Channels, shapeString(t.Shape))
		}
		if len(img.Shape) != 4 {
			continue
		}
		for ax, side := range []string{"height", "width"} {
			d := img.Shape[2+ax]
			if d <= 0 {
				continue
			}
			if d%int64(n.Stride) != 0 {
				add("noise input %q has stride %d, but the image %s %d is not a multiple of it", n.Input, n.Stride, side, d)
			} else if nd := t.Shape[2+ax]; nd > 0 && nd != d/int64(n.Stride) {
				add("noise input %q has %s %d, but the image's %d / stride %d = %d", n.Input, side, nd, d, n.Stride, d/int64(n.Stride))
			}
		}
	}
}
